"""The one error an upload can end in: a refusal whose message tells the uploader what is wrong."""


class MediaRejected(ValueError):
    """An upload we will not store; `message` names the problem and, where one applies, the limit.

    The web layer turns it into a 422 with the message as the error text, so it is written for
    the person who picked the file ("image is larger than 100 megapixels"), not for a log.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
