"""Photos: file type from magic bytes, upload limits, and privacy-scrubbed web renditions (pure)."""

from __future__ import annotations

import io
import re
import struct
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Literal

import blurhash
import pillow_heif
from PIL import Image, ImageCms, ImageOps, JpegImagePlugin

from media.errors import MediaRejected

pillow_heif.register_heif_opener()

MiB = 1024 * 1024

# Our own check (which honours per-call limits) reads the size from the header before any
# decoding; Pillow's global guard stays on as a backstop for every other caller, set to our
# default so that it does not warn about images we accept.
Image.MAX_IMAGE_PIXELS = 100_000_000

IMAGE_TYPES = frozenset(
    {"image/jpeg", "image/png", "image/webp", "image/heic", "image/heif", "image/avif", "image/gif"}
)
VIDEO_TYPES = frozenset({"video/mp4", "video/quicktime", "video/webm"})

EXTENSIONS: Mapping[str, str] = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "image/gif": "gif",
    "image/avif": "avif",
    "image/heic": "heic",
    "image/heif": "heif",
    "video/mp4": "mp4",
    "video/quicktime": "mov",
    "video/webm": "webm",
}

LARGE_SIDE = 2048
SMALL_SIDE = 640
THUMBNAIL_SIDE = 320
BLURHASH_SIDE = 64
# A JPEG is decoded with libjpeg's DCT scaling (1/2, 1/4, 1/8), and other pictures shrunk by a
# whole factor (a box filter), when that lands the long side within this many pixels below
# LARGE_SIDE; the result is the large rendition as it is: a 4032x3024 phone photo gives a
# 2016x1512 large. That saves a Lanczos pass over 12 MP (over 200 ms here, more than all the
# rest) for a 1.6 % size difference nobody sees; everything else gets exactly LARGE_SIDE.
LARGE_SLACK = 64

ORIGINAL_JPEG_QUALITY = 95
WEBP_QUALITY = 82
JPEG_QUALITY = 85
# Pillow first shrinks by a whole factor with a box filter while the remaining scale stays at
# least this large, then resamples with Lanczos: 1.5 takes 2016 -> 640 px in 15 ms instead of
# 35 ms (2.0), and a picture that small shows no difference.
RESIZE_REDUCING_GAP = 1.5
# libwebp's effort level (0-6, default 4). Measured on 12 MP camera-like photos: for the large
# rendition 1 takes 75 ms against 210 ms for 4, for 7 % more bytes; 0 is 20 ms faster with the
# very same pixels (its mode choices are 1's) but sizes its entropy coding from a sample of the
# top quarter, which makes files up to twice as big. Quality 82 at 1 beats the JPEG q85 copy
# in SSIM with 28 % fewer bytes; 80 would save 6 ms. For small sizes 2 matches 4 in bytes at
# 40 % of the time.
WEBP_METHOD = {"large": 1, "small": 2, "thumbnail": 2}
# Huffman optimisation saves 5-10 % of a JPEG and costs a second pass: worth it below 1 MP.
JPEG_OPTIMIZE_MAX_PIXELS = 1_000_000
# A client that cannot show WebP gets the original instead of the large rendition when the
# original is a JPEG or PNG (which every client shows) no wider or taller than this: Pixelfed
# drops bigger attachments (federation/convert.py sends it "large_jpeg" then). Only other
# originals get a large JPEG: for a 12 MP phone photo that saves 8 ms of the 140 ms and 500 KB
# of storage that nothing would read.
FALLBACK_ORIGINAL_MAX_SIDE = 5000
_FALLBACK_ORIGINAL_TYPES = frozenset({"image/jpeg", "image/png"})

TRUNCATED = "image is truncated or corrupt"

_ORIENTATION_TAG = 0x0112
_TRANSPOSE_FOR_ORIENTATION: Mapping[int, Image.Transpose] = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_PILLOW_FORMAT = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/webp": "WEBP",
    "image/gif": "GIF",
    "image/avif": "AVIF",
    "image/heic": "HEIF",
    "image/heif": "HEIF",
}
# Formats in which more than one frame means an animation (for JPEG it means an MPO with a
# depth map or gain map, for HEIF a burst: there the first image is the photo).
_ANIMATED_FORMATS = frozenset({"GIF", "PNG", "WEBP", "AVIF"})
_PIXEL_INFO = frozenset({"transparency"})


@dataclass(frozen=True, slots=True)
class ImageLimits:
    max_bytes: int = 40 * MiB
    max_pixels: int = 100_000_000


@dataclass(frozen=True, slots=True)
class VideoLimits:
    max_bytes: int = 200 * MiB
    max_seconds: float = 600
    # Frames above this are refused rather than decoded: 8K is four times this.
    max_frame_pixels: int = 4096 * 2304
    # Wall-clock budget for converting one upload, so one file cannot hold a worker forever.
    max_work_seconds: float = 900


@dataclass(frozen=True, slots=True)
class Rendition:
    data: bytes
    mime: str
    width: int
    height: int

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.mime]


MediaKind = Literal["image", "video", "gifv"]


@dataclass(frozen=True, slots=True)
class ProcessedMedia:
    """What an upload became.

    `renditions` always holds "original" (the scrubbed photo, or the web-playable video),
    "large" (long side at most 2048), "small" (640) and "thumbnail" (320 square), the last
    three as WebP, and JPEG fallbacks "small_jpeg" and "thumbnail_jpeg". "large_jpeg" is
    there only when the original cannot stand in for it (see `original_is_fallback`). For a
    video the still renditions are made from its poster frame. No rendition is larger than
    the original: small pictures give small renditions.
    """

    kind: MediaKind
    renditions: Mapping[str, Rendition]
    blurhash: str
    duration: float | None = None
    fps: float | None = None
    has_audio: bool = False

    @property
    def original(self) -> Rendition:
        return self.renditions["original"]

    @property
    def large(self) -> Rendition:
        return self.renditions["large"]

    @property
    def small(self) -> Rendition:
        return self.renditions["small"]

    @property
    def thumbnail(self) -> Rendition:
        return self.renditions["thumbnail"]

    @property
    def width(self) -> int:
        return self.original.width

    @property
    def height(self) -> int:
        return self.original.height

    @property
    def aspect(self) -> float:
        return self.original.width / self.original.height


class AnimatedImage(Exception):
    """Raised by `process_image` for a GIF, PNG, WebP or AVIF with several frames: such an
    upload is published as a looping video (Mastodon's "gifv"), see `media.video.gif_to_mp4`."""


@dataclass(slots=True)
class StageTimer:
    """Collects how long each stage of `process_image` took, in seconds (for bench/media.py)."""

    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started


def describe_bytes(size: int) -> str:
    """A byte count as people say it: '40 MB', '512 KB', '100 bytes'."""
    for unit, scale in (("MB", MiB), ("KB", 1024)):
        if size >= scale:
            return f"{size / scale:.4g} {unit}"
    return f"{size} bytes"


def check_byte_size(data: bytes, max_bytes: int) -> None:
    if not data:
        raise MediaRejected("file is empty")
    if len(data) > max_bytes:
        raise MediaRejected(f"file is larger than {describe_bytes(max_bytes)}")


# --- type detection ----------------------------------------------------------------------

_HEIC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"})
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
_HEIF_BRANDS = frozenset({b"mif1", b"msf1", b"mif2", b"miaf"})
_MP4_BRANDS = frozenset(
    {
        b"isom",
        b"iso2",
        b"iso3",
        b"iso4",
        b"iso5",
        b"iso6",
        b"iso7",
        b"iso8",
        b"iso9",
        b"mp41",
        b"mp42",
        b"mp71",
        b"avc1",
        b"dash",
        b"M4V ",
        b"M4VH",
        b"M4VP",
        b"MSNV",
        b"NDAS",
        b"3gp4",
        b"3gp5",
        b"3gp6",
        b"3g2a",
        b"f4v ",
    }
)
# Box types that may open a QuickTime file written before `ftyp` existed.
_QUICKTIME_FIRST_ATOMS = frozenset({b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"})

# Recognised only to name them in the refusal.
_REFUSED_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"PK\x03\x04", "application/zip"),
    (b"BM", "image/bmp"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"8BPS", "image/vnd.adobe.photoshop"),
    (b"\x00\x00\x00\x0cjP  ", "image/jp2"),
    (b"\xff\x0a", "image/jxl"),
    (b"\x00\x00\x00\x0cJXL ", "image/jxl"),
    (b"ID3", "audio/mpeg"),
    (b"OggS", "application/ogg"),
    (b"\x1f\x8b", "application/gzip"),
    (b"\x7fELF", "application/x-executable"),
    (b"MZ", "application/x-msdownload"),
)


def detect_type(data: bytes) -> str:
    """The MIME type of an upload, decided from its first bytes alone.

    Names and declared types are never consulted: they are what an attacker controls.
    Raises MediaRejected for anything but the photo and video formats we publish.
    """
    if not data:
        raise MediaRejected("file is empty")
    head = data[:64]
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp":
        return _iso_media_type(data)
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        # EBML: the DocType element sits in the header, within the first few dozen bytes.
        if b"webm" in data[:256]:
            return "video/webm"
        raise MediaRejected("file type not supported: detected video/x-matroska")
    if head[4:8] in _QUICKTIME_FIRST_ATOMS and len(data) >= 8:
        return "video/quicktime"
    raise MediaRejected(f"file type not supported: detected {_name_unsupported(data)}")


def _iso_media_type(data: bytes) -> str:
    """HEIC, AVIF, MP4 and QuickTime share ISO-BMFF; the brands in `ftyp` tell them apart."""
    box_size = struct.unpack(">I", data[:4])[0]
    box_end = min(max(box_size, 16), len(data), 4096)
    major = data[8:12]
    brands = {major} | {data[i : i + 4] for i in range(16, box_end - 3, 4)}
    if major in _AVIF_BRANDS or (major in _HEIF_BRANDS and brands & _AVIF_BRANDS):
        return "image/avif"
    if major in _HEIC_BRANDS or (major in _HEIF_BRANDS and brands & _HEIC_BRANDS):
        return "image/heic"
    if major in _HEIF_BRANDS:
        return "image/heif"
    if major == b"qt  ":
        return "video/quicktime"
    if major in (b"M4A ", b"M4B ", b"M4P "):
        raise MediaRejected("file type not supported: detected audio/mp4")
    if major in _MP4_BRANDS or brands & _MP4_BRANDS:
        return "video/mp4"
    raise MediaRejected(
        f"file type not supported: detected an ISO media file of brand {major.decode('latin-1')!r}"
    )


def _name_unsupported(data: bytes) -> str:
    for signature, mime in _REFUSED_SIGNATURES:
        if data.startswith(signature):
            return mime
    head = data[:512]
    stripped = head.lstrip().lower()
    if stripped.startswith((b"<svg", b"<?xml")) and b"<svg" in data[:4096].lower():
        return "image/svg+xml"
    if stripped.startswith((b"<!doctype html", b"<html")):
        return "text/html"
    if b"\x00" not in head:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as error:
            # A multi-byte character cut at the 512th byte is still text.
            if error.start < len(head) - 3:
                return "application/octet-stream"
        return "text/plain"
    return "application/octet-stream"


# --- lossless metadata stripping -------------------------------------------------------------

# The next marker after entropy-coded data: 0xFF followed by anything but a stuffed zero, a
# restart marker or another fill byte.
_JPEG_NEXT_MARKER = re.compile(rb"\xff(?=[^\x00\xd0-\xd7\xff])")


def strip_jpeg_metadata(data: bytes) -> bytes:
    """The same JPEG without EXIF, XMP, IPTC, comments, maker segments or trailing data.

    The compressed image data is copied untouched, so nothing is lost; kept are the JFIF
    header (minus its thumbnail), the ICC profile and Adobe's colour-transform flag.
    Everything after the end-of-image marker goes too: multi-picture extras, depth maps and
    motion-photo videos are appended there.
    """
    if not data.startswith(b"\xff\xd8"):
        raise MediaRejected(TRUNCATED)
    out = [b"\xff\xd8"]
    pos, size = 2, len(data)
    while True:
        if pos + 2 > size or data[pos] != 0xFF:
            raise MediaRejected(TRUNCATED)
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker == 0xD9:
            out.append(b"\xff\xd9")
            return b"".join(out)
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            out.append(data[pos : pos + 2])
            pos += 2
            continue
        if pos + 4 > size:
            raise MediaRejected(TRUNCATED)
        end = pos + 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
        if end > size or end < pos + 4:
            raise MediaRejected(TRUNCATED)
        if marker == 0xDA:
            found = _JPEG_NEXT_MARKER.search(data, end)
            if found is None:
                raise MediaRejected(TRUNCATED)
            out.append(data[pos : found.start()])
            pos = found.start()
            continue
        kept = _kept_jpeg_segment(marker, data[pos:end])
        if kept:
            out.append(kept)
        pos = end


# Segments that describe the coded image: frame headers (SOFn), Huffman and arithmetic
# tables, quantisation tables, restart interval, line count, hierarchical progression.
# Anything else (application data, comments, reserved JPGn markers) is dropped.
_JPEG_CODING_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC8} | {0xDB, 0xDC, 0xDD, 0xDE, 0xDF}


def _kept_jpeg_segment(marker: int, segment: bytes) -> bytes | None:
    payload = segment[4:]
    if marker == 0xE0:
        if not payload.startswith(b"JFIF\x00") or len(payload) < 14:
            return None
        # JFIF header with the thumbnail size set to 0x0 and the thumbnail dropped.
        return b"\xff\xe0\x00\x10" + payload[:12] + b"\x00\x00"
    if marker == 0xE2:
        return segment if payload.startswith(b"ICC_PROFILE\x00") else None
    if marker == 0xEE:
        return segment if payload.startswith(b"Adobe") else None
    return segment if marker in _JPEG_CODING_MARKERS else None


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Ancillary chunks that describe how to show the pixels; every other ancillary chunk (text,
# XMP in iTXt, eXIf, timestamps, private data) is dropped.
_PNG_KEPT_ANCILLARY = frozenset(
    {
        b"tRNS",
        b"iCCP",
        b"sRGB",
        b"gAMA",
        b"cHRM",
        b"cICP",
        b"mDCV",
        b"cLLI",
        b"sBIT",
        b"pHYs",
        b"bKGD",
        b"acTL",
        b"fcTL",
        b"fdAT",
    }
)


def strip_png_metadata(data: bytes) -> bytes:
    """The same PNG with only the chunks that affect how it looks; pixel data is copied."""
    if not data.startswith(_PNG_SIGNATURE):
        raise MediaRejected(TRUNCATED)
    out = [_PNG_SIGNATURE]
    pos, size = len(_PNG_SIGNATURE), len(data)
    while pos + 12 <= size:
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if end > size:
            break
        critical = kind[:1].isupper()
        if critical or kind in _PNG_KEPT_ANCILLARY:
            out.append(data[pos:end])
        if kind == b"IEND":
            return b"".join(out)
        pos = end
    raise MediaRejected(TRUNCATED)


_WEBP_DROPPED_CHUNKS = frozenset({b"EXIF", b"XMP "})
_VP8X_EXIF_AND_XMP_FLAGS = 0x08 | 0x04


def strip_webp_metadata(data: bytes) -> bytes:
    """The same WebP without its EXIF and XMP chunks; the bitstream and ICC profile are kept."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise MediaRejected(TRUNCATED)
    chunks: list[bytes] = []
    for kind, start, end in _riff_chunks(data):
        if kind in _WEBP_DROPPED_CHUNKS:
            continue
        chunk = data[start:end]
        if kind == b"VP8X" and len(chunk) >= 18:
            chunk = chunk[:8] + bytes([chunk[8] & ~_VP8X_EXIF_AND_XMP_FLAGS]) + chunk[9:]
        chunks.append(chunk)
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + len(body).to_bytes(4, "little") + body


# --- decoding and renditions -----------------------------------------------------------------


def open_image(data: bytes, mime: str, limits: ImageLimits) -> Image.Image:
    """Read the header only, refusing too many pixels before a single one is decoded."""
    try:
        image = Image.open(io.BytesIO(data), formats=[_PILLOW_FORMAT[mime]])
    except Image.DecompressionBombError:
        raise MediaRejected(_too_many_pixels(limits)) from None
    except (OSError, SyntaxError, ValueError, EOFError, struct.error):
        raise MediaRejected(TRUNCATED) from None
    width, height = image.size
    if width < 1 or height < 1:
        raise MediaRejected(TRUNCATED)
    if width * height > limits.max_pixels:
        raise MediaRejected(_too_many_pixels(limits))
    return image


def _too_many_pixels(limits: ImageLimits) -> str:
    return f"image is larger than {limits.max_pixels / 1_000_000:g} megapixels"


def is_animation(image: Image.Image) -> bool:
    return image.format in _ANIMATED_FORMATS and getattr(image, "is_animated", False)


def orientation_of(image: Image.Image) -> int:
    if image.format == "PNG":
        # A PNG may keep its EXIF after the pixels, so Pillow decodes them to read it: a broken
        # pixel stream must be refused here, not swallowed with the EXIF error below (a failed
        # load leaves a blank picture that later loads do not complain about).
        try:
            image.load()
        except (OSError, SyntaxError, ValueError, EOFError, RuntimeError, struct.error):
            raise MediaRejected(TRUNCATED) from None
    try:
        value = image.getexif().get(_ORIENTATION_TAG, 1)
    except Exception:  # a broken EXIF block must not stop the photo; it is dropped anyway
        return 1
    return value if value in _TRANSPOSE_FOR_ORIENTATION else 1


def process_image(
    data: bytes, limits: ImageLimits = ImageLimits(), *, timer: StageTimer | None = None
) -> ProcessedMedia:
    """A photo upload as a scrubbed original, three WebP sizes with JPEG fallbacks, and a blurhash.

    The original keeps its pixels and colour profile and loses every other piece of
    metadata (GPS position, camera, time, maker notes, embedded thumbnails); EXIF
    orientation is applied to the pixels. Raises MediaRejected for files we refuse and
    AnimatedImage for animations, which are published as videos.
    """
    timer = timer or StageTimer()
    check_byte_size(data, limits.max_bytes)
    mime = detect_type(data)
    if mime not in IMAGE_TYPES:
        raise MediaRejected(f"expected a photo, got {mime}")
    with timer.stage("open"):
        image = open_image(data, mime, limits)
        if is_animation(image):
            raise AnimatedImage(mime)
        orientation = orientation_of(image)
        icc_profile = image.info.get("icc_profile") or None
        width, height = image.size
    with timer.stage("original"):
        stripped = _stripped_losslessly(data, mime, (width, height)) if orientation == 1 else None
    if stripped is not None:
        # Already upright in a format every browser shows: the file as it was, minus its
        # metadata, loses nothing and skips a full-size encode. Decoding is still needed for
        # the renditions, and is what proves the file whole.
        original = Rendition(stripped, mime, width, height)
        with timer.stage("decode"):
            if mime == "image/jpeg":
                _draft_for_large(image)
            pixels = _decode(image)
    else:
        with timer.stage("decode"):
            pixels = _decode(image)
        with timer.stage("orientation"):
            if orientation != 1:
                pixels = pixels.transpose(_TRANSPOSE_FOR_ORIENTATION[orientation])
        with timer.stage("original"):
            original = _encoded_original(pixels, data, mime, icc_profile)
    return still_renditions("image", original, pixels, icc_profile, timer)


_LOSSLESS_STRIPPERS: Mapping[str, Callable[[bytes], bytes]] = {
    "image/jpeg": strip_jpeg_metadata,
    "image/png": strip_png_metadata,
    "image/webp": strip_webp_metadata,
}


def _stripped_losslessly(data: bytes, mime: str, size: tuple[int, int]) -> bytes | None:
    """The file minus its metadata, or None when its structure is too odd to cut safely
    (decoders skip junk between segments that our parser will not): then it is re-encoded."""
    strip = _LOSSLESS_STRIPPERS.get(mime)
    if strip is None:
        return None
    try:
        stripped = strip(data)
        with Image.open(io.BytesIO(stripped), formats=[_PILLOW_FORMAT[mime]]) as check:
            return stripped if check.size == size else None
    except (MediaRejected, OSError, SyntaxError, ValueError, struct.error):
        return None


def _draft_for_large(image: Image.Image) -> None:
    """Ask libjpeg to decode at 1/2, 1/4 or 1/8 scale when that still covers the large size."""
    width, height = image.size
    scale = max(width, height) // (LARGE_SIDE - LARGE_SLACK)
    if scale >= 2:
        image.draft("RGB", (max(1, width // scale), max(1, height // scale)))


def _decode(image: Image.Image) -> Image.Image:
    try:
        image.load()
    except (OSError, SyntaxError, ValueError, EOFError, RuntimeError, struct.error):
        raise MediaRejected(TRUNCATED) from None
    # Pillow's encoders fall back on `info` (JPEG writes its comment back, for one), and every
    # image derived from this one copies it: keep only what describes the pixels.
    image.info = {key: value for key, value in image.info.items() if key in _PIXEL_INFO}
    return image


def _encoded_original(
    pixels: Image.Image, data: bytes, mime: str, icc_profile: bytes | None
) -> Rendition:
    """Re-encode at full size, for rotated photos and for formats not every browser shows.

    JPEG stays JPEG at q95 with its own chroma subsampling and colour mode (CMYK too); PNG
    and GIF become PNG (lossless); WebP stays WebP, lossless if it was; HEIC and AVIF become
    JPEG q95 (PNG when they carry transparency), which every browser shows.
    """
    out = io.BytesIO()
    if mime == "image/webp":
        lossless = _webp_is_lossless(data)
        pixels.save(
            out,
            "WEBP",
            lossless=lossless,
            quality=100 if lossless else ORIGINAL_JPEG_QUALITY,
            icc_profile=icc_profile or b"",
        )
    elif mime in ("image/png", "image/gif") or _has_alpha(pixels):
        pixels.save(out, "PNG", icc_profile=icc_profile)
    else:
        subsampling = JpegImagePlugin.get_sampling(pixels) if mime == "image/jpeg" else -1
        keeps_mode = pixels.mode in ("RGB", "L", "CMYK")
        pixels = pixels if keeps_mode else _as_rgb(pixels, icc_profile)
        pixels.save(
            out,
            "JPEG",
            quality=ORIGINAL_JPEG_QUALITY,
            subsampling=subsampling if subsampling >= 0 else "4:2:0",
            icc_profile=icc_profile if keeps_mode else None,
            optimize=True,
            comment=b"",
        )
    return Rendition(out.getvalue(), detect_type(out.getvalue()), pixels.width, pixels.height)


def _riff_chunks(data: bytes) -> Iterator[tuple[bytes, int, int]]:
    """(fourcc, start, end) of each chunk of a RIFF file, the end including padding."""
    riff_end = min(len(data), 8 + int.from_bytes(data[4:8], "little"))
    pos = 12
    while pos + 8 <= riff_end:
        length = int.from_bytes(data[pos + 4 : pos + 8], "little")
        if pos + 8 + length > riff_end:
            raise MediaRejected(TRUNCATED)
        end = pos + 8 + length + (length & 1)
        yield data[pos : pos + 4], pos, end
        pos = end


def _webp_is_lossless(data: bytes) -> bool:
    return any(kind == b"VP8L" for kind, _, _ in _riff_chunks(data))


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        image.mode == "P" and "transparency" in image.info
    )


def _as_rgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """RGB or RGBA pixels, whatever the source mode; CMYK goes through its ICC profile if any."""
    if image.mode in ("RGB", "RGBA"):
        return image
    if image.mode == "CMYK" and icc_profile:
        try:
            return ImageCms.profileToProfile(
                image,
                ImageCms.ImageCmsProfile(io.BytesIO(icc_profile)),
                ImageCms.createProfile("sRGB"),
                outputMode="RGB",
            )
        except (ImageCms.PyCMSError, OSError):
            pass
    if image.mode.startswith("I") or image.mode == "F":
        # Pillow clips 16-bit values to 0..255 instead of scaling them: scale first.
        image = image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    return image.convert("RGBA" if _has_alpha(image) else "RGB")


def derivative_profile(icc_profile: bytes | None) -> bytes | None:
    """The profile worth embedding in a rendition: an RGB profile other than sRGB.

    Browsers assume sRGB, so embedding it only adds bytes (3 KB on a 10 KB thumbnail);
    CMYK and grey profiles do not describe the RGB pixels the renditions hold.
    """
    if not icc_profile:
        return None
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        if profile.profile.xcolor_space.strip() != "RGB":
            return None
        description = ImageCms.getProfileDescription(profile) or ""
    except (ImageCms.PyCMSError, OSError, AttributeError):
        return None
    return None if "srgb" in description.lower() else icc_profile


def still_renditions(
    kind: MediaKind,
    original: Rendition,
    pixels: Image.Image,
    icc_profile: bytes | None,
    timer: StageTimer | None = None,
) -> ProcessedMedia:
    """The WebP sizes of an upright picture, each made from the one before (a cascade: large,
    then small from large, then the thumbnail from small), their JPEG fallbacks and its
    blurhash."""
    timer = timer or StageTimer()
    profile = derivative_profile(icc_profile)
    rgb = _as_rgb(pixels, icc_profile)
    with timer.stage("large"):
        large = fit_long_side(rgb, LARGE_SIDE, slack=LARGE_SLACK)
    with timer.stage("small"):
        small = fit_long_side(large, SMALL_SIDE)
    with timer.stage("thumbnail"):
        thumbnail = square_thumbnail(small if min(small.size) >= THUMBNAIL_SIDE else large)
    with timer.stage("blurhash"):
        hashed = compute_blurhash(small)
    renditions: dict[str, Rendition] = {"original": original}
    for name, picture in (("large", large), ("small", small), ("thumbnail", thumbnail)):
        with timer.stage(f"encode_{name}"):
            renditions[name] = encode_webp(picture, WEBP_METHOD[name], profile)
            if name != "large" or not original_is_fallback(original):
                renditions[f"{name}_jpeg"] = encode_jpeg(picture, profile)
    return ProcessedMedia(kind=kind, renditions=renditions, blurhash=hashed)


def original_is_fallback(original: Rendition) -> bool:
    """Whether a client that cannot show the WebP large rendition can be given the original."""
    return (
        original.mime in _FALLBACK_ORIGINAL_TYPES
        and max(original.width, original.height) <= FALLBACK_ORIGINAL_MAX_SIDE
    )


def fit_long_side(image: Image.Image, side: int, *, slack: int = 0) -> Image.Image:
    """Downscale so the long side is `side`, or up to `slack` below it when a whole-number
    reduction (a cheap box filter) gets there without resampling; never upscale."""
    long_side = max(image.size)
    if long_side <= side:
        return image
    if slack:
        factor = long_side // (side - slack)
        if factor >= 2 and long_side // factor <= side:
            return image.reduce(factor)
    ratio = side / long_side
    size = (max(1, round(image.width * ratio)), max(1, round(image.height * ratio)))
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=RESIZE_REDUCING_GAP)


def square_thumbnail(image: Image.Image) -> Image.Image:
    """The centre square, THUMBNAIL_SIDE wide, or as wide as the short side if that is less."""
    side = min(THUMBNAIL_SIDE, *image.size)
    return ImageOps.fit(image, (side, side), Image.Resampling.LANCZOS, centering=(0.5, 0.5))


def encode_webp(image: Image.Image, method: int, icc_profile: bytes | None) -> Rendition:
    out = io.BytesIO()
    image.save(out, "WEBP", quality=WEBP_QUALITY, method=method, icc_profile=icc_profile or b"")
    return Rendition(out.getvalue(), "image/webp", image.width, image.height)


def encode_jpeg(image: Image.Image, icc_profile: bytes | None) -> Rendition:
    if image.mode == "RGBA":
        # JPEG has no transparency: show it over white, as a browser page would.
        flat = Image.new("RGB", image.size, (255, 255, 255))
        flat.paste(image, mask=image.getchannel("A"))
        image = flat
    out = io.BytesIO()
    image.save(
        out,
        "JPEG",
        quality=JPEG_QUALITY,
        icc_profile=icc_profile,
        optimize=image.width * image.height <= JPEG_OPTIMIZE_MAX_PIXELS,
        comment=b"",  # or Pillow copies the source's comment from `info`
    )
    return Rendition(out.getvalue(), "image/jpeg", image.width, image.height)


def compute_blurhash(image: Image.Image) -> str:
    """A blurhash of 4x3 components (3x4 when portrait), computed on a 64 px copy: 28 chars."""
    small = image.copy()
    small.thumbnail((BLURHASH_SIDE, BLURHASH_SIDE), Image.Resampling.BILINEAR)
    if small.mode == "RGBA":
        flat = Image.new("RGB", small.size, (255, 255, 255))
        flat.paste(small, mask=small.getchannel("A"))
        small = flat
    elif small.mode != "RGB":
        small = small.convert("RGB")
    x_components, y_components = (4, 3) if small.width >= small.height else (3, 4)
    # blurhash.encode() reads pixels with Image.getdata(), deprecated in Pillow 13 and gone in
    # 14, one Python int at a time; its C function takes the buffer directly.
    pixels = small.tobytes()
    destination = blurhash._ffi.new("char[]", 2 + 4 + (9 * 9 - 1) * 2 + 1)
    result = blurhash._lib.create_hash_from_pixels(
        x_components,
        y_components,
        small.width,
        small.height,
        blurhash._ffi.from_buffer("uint8_t[]", pixels),
        small.width * 3,
        destination,
    )
    if result == blurhash._ffi.NULL:
        raise ValueError("blurhash: invalid component counts")
    return blurhash._ffi.string(result).decode()
