"""One entry point for an upload: photo, video or animation, told apart by its bytes alone."""

from __future__ import annotations

from media.errors import MediaRejected
from media.processing import (
    VIDEO_TYPES,
    AnimatedImage,
    ImageLimits,
    ProcessedMedia,
    VideoLimits,
    detect_type,
    process_image,
)
from media.video import process_animation, process_video


def process_upload(
    data: bytes,
    image_limits: ImageLimits = ImageLimits(),
    video_limits: VideoLimits = VideoLimits(),
) -> ProcessedMedia:
    """Photo → kind "image"; MP4/MOV/WebM → "video"; animated GIF/PNG/WebP/AVIF → "gifv"
    (a silent looping MP4, as Mastodon publishes them). Raises MediaRejected with a message
    for the uploader. CPU-bound and blocking: call it from a worker or a thread."""
    if not data:
        raise MediaRejected("file is empty")
    if detect_type(data) in VIDEO_TYPES:
        return process_video(data, video_limits)
    try:
        return process_image(data, image_limits)
    except AnimatedImage:
        return process_animation(data, image_limits, video_limits)
