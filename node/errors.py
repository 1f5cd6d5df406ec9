"""Errors as values with an HTTP status: domain services raise them, edges render them."""

from __future__ import annotations


class PinholeError(Exception):
    status = 400

    def __init__(self, message: str, *, details: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class BadRequest(PinholeError):
    status = 400


class Unauthorized(PinholeError):
    status = 401


class Forbidden(PinholeError):
    status = 403


class NotFound(PinholeError):
    status = 404

    def __init__(self, message: str = "Record not found", **kwargs) -> None:
        super().__init__(message, **kwargs)


class TooLarge(PinholeError):
    """A request body past its endpoint's limit."""

    status = 413


class Invalid(PinholeError):
    """Input that parses but breaks a rule: 422, naming the field."""

    status = 422

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"Validation failed: {field} {problem}", details={field: problem})
        self.field = field


class TooMany(PinholeError):
    status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def error_document(exc: PinholeError) -> dict[str, object]:
    """The JSON body of an error answer, in Mastodon's shape (`error`, and `details` per field
    for validation errors)."""
    document: dict[str, object] = {"error": exc.message}
    if exc.details:
        document["details"] = {
            field: [{"error": "ERR_INVALID", "description": problem}]
            for field, problem in exc.details.items()
        }
    return document
