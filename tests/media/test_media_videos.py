"""Video and animation uploads: what plays in a browser, what a stranger could read from it."""

from __future__ import annotations

import io

import av
import numpy as np
import pytest
from PIL import Image

from media.errors import MediaRejected
from media.processing import ProcessedMedia, VideoLimits, detect_type
from media.upload import process_upload
from media.video import gif_to_mp4, process_video

LOCATION = "+52.3702+004.8952/"


def streams_of(data: bytes) -> list[tuple[str, str]]:
    with av.open(io.BytesIO(data)) as container:
        return [(stream.type, stream.codec_context.name) for stream in container.streams]


def first_frame(data: bytes) -> av.VideoFrame:
    with av.open(io.BytesIO(data)) as container:
        return next(container.decode(video=0))


def index_comes_first(data: bytes) -> bool:
    return 0 <= data.find(b"moov") < data.find(b"mdat")


def is_red(pixel: tuple[int, ...]) -> bool:
    return pixel[0] > 180 and pixel[1] < 90 and pixel[2] < 90


def assert_posters(result: ProcessedMedia) -> None:
    for name in ("large", "small", "thumbnail"):
        poster = result.renditions[name]
        assert poster.mime == "image/webp" and detect_type(poster.data) == "image/webp"
        assert result.renditions[f"{name}_jpeg"].mime == "image/jpeg"
    assert (result.large.width, result.large.height) == (result.width, result.height)
    assert 6 <= len(result.blurhash) <= 164


@pytest.fixture(scope="module")
def iphone_mov(samples) -> bytes:
    """HEVC in QuickTime, shot in portrait (stored landscape, rotated on display), with the
    place and the phone in its metadata, as an iPhone records it."""
    return samples.encode_video(
        "mov",
        "hevc",
        "aac",
        rotation=-90,
        metadata={"location": LOCATION, "make": "TestCam Corp", "model": "Spyphone 9000"},
    )


def test_hevc_mov_becomes_an_upright_h264_mp4_that_starts_playing_at_once(iphone_mov) -> None:
    assert b"\xa9xyz" in iphone_mov and LOCATION.encode() in iphone_mov
    result = process_video(iphone_mov)
    video = result.original
    assert video.mime == "video/mp4" and detect_type(video.data) == "video/mp4"
    assert streams_of(video.data) == [("video", "h264"), ("audio", "aac")]
    assert index_comes_first(video.data)
    frame = first_frame(video.data)
    assert frame.format.name == "yuv420p"
    assert (frame.width, frame.height) == (240, 320) == (video.width, video.height)
    assert frame.rotation == 0
    # Stored top-left, turned a quarter clockwise: the red marker is now top-right.
    picture = frame.to_image()
    assert is_red(picture.getpixel((picture.width - 5, 5)))
    assert not is_red(picture.getpixel((5, 5)))
    assert result.kind == "video" and result.has_audio
    assert result.duration == pytest.approx(1.0, abs=0.1)
    assert result.fps == pytest.approx(24)
    assert_posters(result)
    poster = Image.open(io.BytesIO(result.large.data)).convert("RGB")
    assert is_red(poster.getpixel((poster.width - 5, 5)))


def test_converted_video_carries_no_location_or_device(iphone_mov) -> None:
    data = process_video(iphone_mov).original.data
    for secret in (b"\xa9xyz", LOCATION.encode(), b"TestCam Corp", b"Spyphone 9000"):
        assert secret not in data
    with av.open(io.BytesIO(data)) as container:
        assert not {"location", "make", "model"} & container.metadata.keys()


def test_web_playable_mp4_is_kept_as_recorded_but_loses_its_metadata(samples) -> None:
    data = samples.encode_video(
        "mov",
        "libx264",
        "aac",
        metadata={"location": LOCATION, "model": "Spyphone 9000"},
        rotation=-90,
    )
    result = process_video(data)
    video = result.original.data
    assert LOCATION.encode() not in video and b"Spyphone 9000" not in video
    assert index_comes_first(video)
    with av.open(io.BytesIO(data)) as source, av.open(io.BytesIO(video)) as kept:
        before = [bytes(p) for p in source.demux(video=0) if p.size]
        after = [bytes(p) for p in kept.demux(video=0) if p.size]
    assert before == after  # the pictures are not re-encoded
    frame = first_frame(video)
    assert frame.rotation == -90  # players still turn it upright
    assert (result.width, result.height) == (240, 320)
    assert (result.large.width, result.large.height) == (240, 320)


def test_vp9_webm_is_kept_as_webm(samples) -> None:
    data = samples.encode_video("webm", "libvpx-vp9", "libopus", metadata={"title": "SECRET"})
    result = process_upload(data)
    assert result.original.mime == "video/webm"
    assert streams_of(result.original.data) == [("video", "vp9"), ("audio", "opus")]
    assert b"SECRET" not in result.original.data
    assert_posters(result)


def test_animated_gif_becomes_a_looping_h264_video(samples) -> None:
    gif = samples.animated_gif(frames=10, size=(121, 91), delay_ms=80)
    result = process_upload(gif)
    assert result.kind == "gifv" and not result.has_audio
    video = result.original
    assert video.mime == "video/mp4"
    assert streams_of(video.data) == [("video", "h264")]
    assert (video.width, video.height) == (120, 90)  # even sizes for yuv420p
    assert index_comes_first(video.data)
    assert result.duration == pytest.approx(0.8)
    with av.open(io.BytesIO(video.data)) as container:
        frames = list(container.decode(video=0))
    assert len(frames) == 10
    assert frames[-1].time == pytest.approx(0.72, abs=0.01)
    assert_posters(result)


def test_gif_frames_shorter_than_20_ms_last_100_ms_like_in_browsers(samples) -> None:
    converted = gif_to_mp4(samples.animated_gif(frames=5, delay_ms=10))
    assert converted.duration == pytest.approx(0.5)


def test_animated_webp_becomes_a_video_too() -> None:
    frames = [Image.new("RGB", (64, 64), (40 * i, 100, 200)) for i in range(4)]
    out = io.BytesIO()
    frames[0].save(out, "WEBP", save_all=True, append_images=frames[1:], duration=100)
    result = process_upload(out.getvalue())
    assert result.kind == "gifv"
    assert streams_of(result.original.data) == [("video", "h264")]


def test_video_over_the_duration_limit_is_refused(samples) -> None:
    data = samples.encode_video("mp4", "libx264", None, seconds=2.0)
    with pytest.raises(MediaRejected, match="video is longer than 1 seconds"):
        process_video(data, VideoLimits(max_seconds=1))


def test_video_over_the_byte_limit_is_refused(samples) -> None:
    data = samples.encode_video("mp4", "libx264", None)
    with pytest.raises(MediaRejected, match="file is larger than 1 KB"):
        process_upload(data, video_limits=VideoLimits(max_bytes=1024))


def test_corrupt_video_is_refused(samples) -> None:
    data = samples.encode_video("mp4", "libx264", None)
    garbage = data[:32] + bytes(np.random.default_rng(1).integers(0, 256, 2000, dtype=np.uint8))
    with pytest.raises(MediaRejected, match="video is truncated or corrupt"):
        process_upload(garbage)


def test_video_frames_over_the_pixel_limit_are_refused(samples) -> None:
    data = samples.encode_video("mp4", "libx264", None, width=640, height=480, seconds=0.2)
    with pytest.raises(MediaRejected, match="video frames are larger than 0.1 megapixels"):
        process_video(data, VideoLimits(max_frame_pixels=100_000))
