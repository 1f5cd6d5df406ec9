"""Videos and animations: probe, refuse, keep or convert to web-playable MP4, add a poster."""

from __future__ import annotations

import io
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import av.error
from av.audio.stream import AudioStream
from av.container import InputContainer, OutputContainer
from av.filter import Graph
from av.video.frame import PictureType, VideoFrame
from av.video.stream import VideoStream
from PIL import Image

from media.errors import MediaRejected
from media.processing import (
    IMAGE_TYPES,
    VIDEO_TYPES,
    ImageLimits,
    ProcessedMedia,
    Rendition,
    VideoLimits,
    check_byte_size,
    detect_type,
    is_animation,
    open_image,
    still_renditions,
)

CORRUPT = "video is truncated or corrupt"

# Conversions are capped at 1080p-class sizes and 60 frames a second, like Mastodon's: bigger
# costs minutes of encoding for what nobody sees in a feed. Files kept as they are keep their
# size (up to VideoLimits.max_frame_pixels).
TRANSCODE_MAX_SIDE = 1920
TRANSCODE_MAX_FPS = 60
X264_OPTIONS = {"crf": "23", "preset": "veryfast", "profile": "high"}
# The index (moov) before the data, so a browser can start playing before the download ends.
MP4_OPTIONS = {"movflags": "+faststart"}
AAC_BIT_RATE = 128_000
# Browsers before 2020 and many apps need yuv420p; 10-bit and 4:2:2/4:4:4 H.264 only plays in
# some, so those are converted too.
WEB_PIXEL_FORMATS = frozenset({"yuv420p", "yuvj420p"})
# (container family, video codecs, audio codecs) a browser plays as-is.
WEB_PLAYABLE: tuple[tuple[frozenset[str], frozenset[str], frozenset[str]], ...] = (
    (frozenset({"video/mp4", "video/quicktime"}), frozenset({"h264"}), frozenset({"aac", "mp3"})),
    (frozenset({"video/webm"}), frozenset({"vp8", "vp9", "av1"}), frozenset({"opus", "vorbis"})),
)
# A GIF frame shorter than this is shown for 100 ms by every browser; we do the same.
GIF_MIN_FRAME_MS = 20
GIF_DEFAULT_FRAME_MS = 100

av.logging.set_level(av.logging.ERROR)


@dataclass(frozen=True, slots=True)
class VideoProbe:
    mime: str
    video_codec: str
    pixel_format: str
    audio_codec: str | None
    # As displayed, i.e. after the rotation in the file's display matrix.
    width: int
    height: int
    # Clockwise degrees a player turns the stored frames by: 0, 90, 180 or 270.
    rotation: int
    duration: float
    fps: float | None

    @property
    def web_playable(self) -> bool:
        return self.pixel_format in WEB_PIXEL_FORMATS and any(
            self.mime in containers
            and self.video_codec in video_codecs
            and (self.audio_codec is None or self.audio_codec in audio_codecs)
            for containers, video_codecs, audio_codecs in WEB_PLAYABLE
        )


def process_video(data: bytes, limits: VideoLimits = VideoLimits()) -> ProcessedMedia:
    """A video upload as a web-playable file without metadata, plus poster renditions.

    MP4/QuickTime with H.264 (and AAC/MP3 or no sound) and WebM with VP8/VP9/AV1 (and
    Opus/Vorbis or none) are remuxed as they are, which drops the location, device and
    other metadata and puts the index first so playback starts at once; anything else
    (HEVC from phones, MPEG-4, 10-bit) is converted to H.264/AAC MP4.
    """
    check_byte_size(data, limits.max_bytes)
    mime = detect_type(data)
    if mime not in VIDEO_TYPES:
        raise MediaRejected(f"expected a video, got {mime}")
    probe = probe_video(data, mime, limits)
    if probe.web_playable:
        output_mime = "video/webm" if mime == "video/webm" else "video/mp4"
        video = remux(data, output_mime)
        poster = poster_frame(data, probe)
        width, height, fps = probe.width, probe.height, probe.fps
    else:
        converted = transcode_to_mp4(data, probe, limits)
        video, poster, output_mime = converted.data, converted.poster, "video/mp4"
        width, height, fps = converted.width, converted.height, converted.fps
    processed = still_renditions(
        "video", Rendition(video, output_mime, width, height), poster, icc_profile=None
    )
    return ProcessedMedia(
        kind="video",
        renditions=processed.renditions,
        blurhash=processed.blurhash,
        duration=probe.duration,
        fps=fps,
        has_audio=probe.audio_codec is not None,
    )


def _open_input(data: bytes) -> InputContainer:
    try:
        return av.open(io.BytesIO(data), mode="r")
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError):
        raise MediaRejected(CORRUPT) from None


def probe_video(data: bytes, mime: str, limits: VideoLimits) -> VideoProbe:
    """What is in the file, from its headers and first frame; refuses what is over the limits."""
    with _open_input(data) as container:
        if not container.streams.video:
            raise MediaRejected("file has no video track")
        stream = container.streams.video[0]
        context = stream.codec_context
        if not context.width or not context.height:
            raise MediaRejected(CORRUPT)
        if context.width * context.height > limits.max_frame_pixels:
            raise MediaRejected(
                f"video frames are larger than {limits.max_frame_pixels / 1_000_000:.3g} megapixels"
            )
        first = _first_frame(container, stream)
        duration = _duration(container, stream)
        if duration > limits.max_seconds:
            raise MediaRejected(_too_long(limits))
        rotation = _clockwise_rotation(first)
        width, height = (
            (context.height, context.width)
            if rotation in (90, 270)
            else (context.width, context.height)
        )
        # Codec names, not decoder names ("mp3", not "mp3float").
        audio = container.streams.audio[0].codec.canonical_name if container.streams.audio else None
        rate = stream.average_rate or stream.guessed_rate
        return VideoProbe(
            mime=mime,
            video_codec=stream.codec.canonical_name,
            pixel_format=context.pix_fmt or "",
            audio_codec=audio,
            width=width,
            height=height,
            rotation=rotation,
            duration=duration,
            fps=float(rate) if rate else None,
        )


def _too_long(limits: VideoLimits) -> str:
    return f"video is longer than {limits.max_seconds:g} seconds"


def _duration(container: InputContainer, stream: VideoStream) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    # No header says: read the packets (not the pictures) to find the last timestamp.
    container.seek(0)
    last = 0.0
    try:
        for packet in container.demux(stream):
            if packet.pts is not None and packet.time_base is not None:
                last = max(last, float((packet.pts + (packet.duration or 0)) * packet.time_base))
    except av.error.FFmpegError:
        raise MediaRejected(CORRUPT) from None
    return last


def _first_frame(container: InputContainer, stream: VideoStream) -> VideoFrame:
    try:
        for frame in container.decode(stream):
            return frame
    except av.error.FFmpegError:
        pass
    raise MediaRejected(CORRUPT)


def _clockwise_rotation(frame: VideoFrame) -> int:
    # FFmpeg reports the display matrix as counter-clockwise degrees (-90 for a portrait
    # phone video); players turn the picture the other way.
    return round(-frame.rotation / 90) % 4 * 90


def poster_frame(data: bytes, probe: VideoProbe) -> Image.Image:
    """The first frame, upright, as an RGB picture."""
    with _open_input(data) as container:
        frame = _first_frame(container, container.streams.video[0])
        return _upright(frame.to_image(), probe.rotation)


def _upright(image: Image.Image, clockwise: int) -> Image.Image:
    turns = {90: Image.Transpose.ROTATE_270, 180: Image.Transpose.ROTATE_180}
    turns[270] = Image.Transpose.ROTATE_90
    return image.transpose(turns[clockwise]) if clockwise in turns else image


def remux(data: bytes, mime: str) -> bytes:
    """The first video and audio tracks, packets copied, in a fresh MP4 (index first) or WebM.

    Nothing but the tracks' coding parameters and display matrix is carried over: container
    metadata (location, make, model, creation time), timed-metadata tracks and chapters go.
    """
    output_format = "webm" if mime == "video/webm" else "mp4"
    options = MP4_OPTIONS if output_format == "mp4" else {}
    with _scratch_file(output_format) as path:
        with _open_input(data) as source, _open_output(path, output_format, options) as target:
            kept = [source.streams.video[0], *source.streams.audio[:1]]
            copies = {stream.index: target.add_stream_from_template(stream) for stream in kept}
            try:
                for packet in source.demux(*kept):
                    if packet.dts is None:
                        continue
                    packet.stream = copies[packet.stream.index]
                    target.mux(packet)
            except av.error.FFmpegError:
                raise MediaRejected(CORRUPT) from None
        return path.read_bytes()


@dataclass(frozen=True, slots=True)
class ConvertedVideo:
    data: bytes
    poster: Image.Image
    width: int
    height: int
    fps: float | None


def transcode_to_mp4(data: bytes, probe: VideoProbe, limits: VideoLimits) -> ConvertedVideo:
    """Convert to H.264 (yuv420p, even sizes, at most 1920 px and 60 fps) with AAC sound, index
    first. The display rotation is applied to the pixels, so every player shows it upright."""
    started = time.monotonic()
    width, height = _even_size_within(probe.width, probe.height, TRANSCODE_MAX_SIDE)
    with _scratch_file("mp4") as path:
        with _open_input(data) as source, _open_output(path, "mp4", MP4_OPTIONS) as target:
            video_in = source.streams.video[0]
            video_in.thread_type = "AUTO"
            video_out = _add_h264_stream(target, width, height, probe.fps)
            # The source's own clock, so variable frame rates (phones) keep their timing.
            video_out.codec_context.time_base = video_in.time_base
            audio_in = source.streams.audio[0] if source.streams.audio else None
            audio_out = _add_aac_stream(target, audio_in) if audio_in else None
            graph = _video_filters(video_in, probe.rotation, width, height)
            poster: Image.Image | None = None
            next_time = 0.0
            try:
                for packet in source.demux(*[s for s in (video_in, audio_in) if s is not None]):
                    if time.monotonic() - started > limits.max_work_seconds:
                        raise MediaRejected(
                            f"video took longer than {limits.max_work_seconds:g} seconds to convert"
                        )
                    if packet.stream.type == "audio":
                        assert audio_out is not None
                        for audio_frame in packet.decode():
                            target.mux(audio_out.encode(audio_frame))
                        continue
                    for frame in packet.decode():
                        if frame.time is not None:
                            if frame.time > limits.max_seconds:
                                raise MediaRejected(_too_long(limits))
                            # Frames closer together than 1/60 s are dropped: a 240 fps slow
                            # motion clip plays at the speed it was recorded for.
                            if frame.time + 1e-6 < next_time:
                                continue
                            next_time = frame.time + 1 / TRANSCODE_MAX_FPS
                        graph.push(frame)
                        for filtered in _pull_all(graph):
                            if poster is None:
                                poster = filtered.to_image()
                            # The decoder's frame types would force x264's keyframes.
                            filtered.pict_type = PictureType.NONE
                            target.mux(video_out.encode(filtered))
                target.mux(video_out.encode(None))
                if audio_out is not None:
                    target.mux(audio_out.encode(None))
            except av.error.FFmpegError:
                raise MediaRejected(CORRUPT) from None
            if poster is None:
                raise MediaRejected(CORRUPT)
        fps = min(probe.fps, TRANSCODE_MAX_FPS) if probe.fps else None
        return ConvertedVideo(path.read_bytes(), poster, width, height, fps)


def _even_size_within(width: int, height: int, max_side: int) -> tuple[int, int]:
    """Fit inside max_side, then round each side down to even (H.264 in yuv420p needs it)."""
    scale = min(1.0, max_side / max(width, height))
    return max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)


def _add_h264_stream(
    target: OutputContainer, width: int, height: int, fps: float | None
) -> VideoStream:
    rate = Fraction(min(fps or 30, TRANSCODE_MAX_FPS)).limit_denominator(1001)
    stream = target.add_stream("libx264", rate=rate)
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    stream.options = dict(X264_OPTIONS)
    return stream


def _add_aac_stream(target: OutputContainer, source: AudioStream) -> AudioStream:
    rate = source.codec_context.sample_rate or 48_000
    stream = target.add_stream("aac", rate=rate if rate in (44_100, 48_000) else 48_000)
    channels = source.codec_context.channels or 2
    stream.layout = "mono" if channels == 1 else "stereo"
    stream.bit_rate = AAC_BIT_RATE
    return stream


def _video_filters(source: VideoStream, clockwise: int, width: int, height: int) -> Graph:
    graph = Graph()
    chain = [graph.add_buffer(template=source)]
    if clockwise == 90:
        chain.append(graph.add("transpose", "clock"))
    elif clockwise == 180:
        chain += [graph.add("hflip"), graph.add("vflip")]
    elif clockwise == 270:
        chain.append(graph.add("transpose", "cclock"))
    chain.append(graph.add("scale", f"{width}:{height}"))
    chain.append(graph.add("format", "yuv420p"))
    chain.append(graph.add("buffersink"))
    graph.link_nodes(*chain).configure()
    return graph


def _pull_all(graph: Graph) -> Iterator[VideoFrame]:
    while True:
        try:
            frame = graph.vpull()
        except (BlockingIOError, av.error.EOFError):
            return
        yield frame


@contextmanager
def _scratch_file(suffix: str) -> Iterator[Path]:
    """A temporary path for FFmpeg to write to: putting the index first (+faststart) needs a
    real file that it can reopen, which an in-memory buffer is not."""
    with tempfile.TemporaryDirectory(prefix="pinhole-video-") as directory:
        yield Path(directory) / f"out.{suffix}"


def _open_output(path: Path, output_format: str, options: dict[str, str]) -> OutputContainer:
    return av.open(str(path), mode="w", format=output_format, options=options)


# --- animations ------------------------------------------------------------------------------


def process_animation(
    data: bytes,
    image_limits: ImageLimits = ImageLimits(),
    video_limits: VideoLimits = VideoLimits(),
) -> ProcessedMedia:
    """An animated GIF, PNG, WebP or AVIF as a silent looping MP4 ("gifv") with a poster."""
    converted = gif_to_mp4(data, image_limits, video_limits)
    processed = still_renditions(
        "gifv",
        Rendition(converted.data, "video/mp4", converted.width, converted.height),
        converted.poster,
        icc_profile=None,
    )
    return ProcessedMedia(
        kind="gifv",
        renditions=processed.renditions,
        blurhash=processed.blurhash,
        duration=converted.duration,
        fps=converted.fps,
        has_audio=False,
    )


@dataclass(frozen=True, slots=True)
class ConvertedAnimation:
    data: bytes
    poster: Image.Image
    width: int
    height: int
    duration: float
    fps: float | None


def check_animation_size(image: Image.Image, image_limits: ImageLimits) -> int:
    """The number of frames of an animation, refusing one whose frames together are too big.

    The frames are decoded one by one, so a small file can stand for an enormous amount of
    pixels; refuse when all frames together exceed the pixel budget of ten big photos.
    Counting reads the frame headers only (cheap enough for the upload request).
    """
    try:
        frames = getattr(image, "n_frames", 1)
    except (OSError, EOFError, ValueError, SyntaxError):
        raise MediaRejected("image is truncated or corrupt") from None
    if frames * image.width * image.height > image_limits.max_pixels * 10:
        raise MediaRejected("animation has too many frames for its size")
    return frames


def gif_to_mp4(
    data: bytes,
    image_limits: ImageLimits = ImageLimits(),
    video_limits: VideoLimits = VideoLimits(),
) -> ConvertedAnimation:
    """Any animation Pillow reads (GIF, APNG, animated WebP/AVIF) as H.264 MP4, each frame
    shown for its own duration, transparency over white, index first.

    Pillow composes each frame from the previous ones as the format's disposal rules say,
    which FFmpeg's GIF decoder also does but its WebP and APNG support does not.
    """
    started = time.monotonic()
    check_byte_size(data, image_limits.max_bytes)
    mime = detect_type(data)
    if mime not in IMAGE_TYPES:
        raise MediaRejected(f"expected an animation, got {mime}")
    image = open_image(data, mime, image_limits)
    if not is_animation(image):
        raise MediaRejected("image is not animated")
    frames = check_animation_size(image, image_limits)
    width, height = _even_size_within(image.width, image.height, TRANSCODE_MAX_SIDE)
    elapsed_ms = 0
    poster: Image.Image | None = None
    with _scratch_file("mp4") as path:
        with _open_output(path, "mp4", MP4_OPTIONS) as target:
            # The nominal rate from the first frame's delay; timestamps carry the real timing.
            first_ms = image.info.get("duration") or GIF_DEFAULT_FRAME_MS
            nominal = Fraction(1000, max(GIF_MIN_FRAME_MS, int(first_ms))).limit_denominator(1001)
            stream = target.add_stream("libx264", rate=nominal)
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            stream.options = dict(X264_OPTIONS)
            stream.codec_context.time_base = Fraction(1, 1000)
            for index in range(frames):
                if time.monotonic() - started > video_limits.max_work_seconds:
                    raise MediaRejected(
                        f"animation took longer than {video_limits.max_work_seconds:g} "
                        "seconds to convert"
                    )
                picture = _animation_frame(image, index)
                if poster is None:
                    # The same size as the video, which may have lost a pixel to even sizes.
                    poster = picture.resize((width, height), Image.Resampling.LANCZOS)
                frame = VideoFrame.from_image(picture).reformat(width, height, format="yuv420p")
                frame.pts = elapsed_ms
                frame.time_base = Fraction(1, 1000)
                target.mux(stream.encode(frame))
                shown_ms = image.info.get("duration") or GIF_DEFAULT_FRAME_MS
                elapsed_ms += GIF_DEFAULT_FRAME_MS if shown_ms < GIF_MIN_FRAME_MS else int(shown_ms)
                if elapsed_ms / 1000 > video_limits.max_seconds:
                    raise MediaRejected(
                        f"video is longer than {video_limits.max_seconds:g} seconds"
                    )
            target.mux(stream.encode(None))
        assert poster is not None
        duration = elapsed_ms / 1000
        fps = frames / duration if duration else None
        return ConvertedAnimation(path.read_bytes(), poster, width, height, duration, fps)


def _animation_frame(image: Image.Image, index: int) -> Image.Image:
    try:
        image.seek(index)
        image.load()
    except (OSError, EOFError, ValueError, SyntaxError):
        raise MediaRejected("image is truncated or corrupt") from None
    picture = image.convert("RGBA")
    flat = Image.new("RGB", picture.size, (255, 255, 255))
    flat.paste(picture, mask=picture.getchannel("A"))
    return flat
