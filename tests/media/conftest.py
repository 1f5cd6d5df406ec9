"""Media test material made in code: camera-like photos with private metadata, videos in the
containers phones write, animations, and an S3 endpoint served by moto over real HTTP."""

from __future__ import annotations

import io
import logging
import socket
import struct
import zlib
from collections.abc import Iterator
from fractions import Fraction

import av
import numpy as np
import pytest
from moto.server import ThreadedMotoServer
from PIL import ExifTags, Image, ImageDraw

# Strings planted in the metadata of sample photos: none may survive processing.
SECRETS = (
    b"TestCam Corp",
    b"Spyphone 9000",
    b"SERIAL-4711",
    b"MAKERNOTE-SECRET",
    b"XMP-SECRET",
    b"IPTC-SECRET",
    b"COMMENT-SECRET",
    b"TRAILER-SECRET",
)
MARKER_RED = (255, 0, 0)


@pytest.fixture(scope="session")
def moto_s3_endpoint() -> Iterator[str]:
    """An S3 endpoint (moto) on 127.0.0.1 and a free port, for the whole session."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def camera_exif(orientation: int = 1) -> Image.Exif:
    """EXIF as a phone writes it: make, model, serial, maker note, and where it was taken."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "TestCam Corp"
    exif[ExifTags.Base.Model] = "Spyphone 9000"
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.IFD.Exif] = {
        ExifTags.Base.MakerNote: b"MAKERNOTE-SECRET",
        ExifTags.Base.BodySerialNumber: "SERIAL-4711",
        ExifTags.Base.DateTimeOriginal: "2024:05:01 12:34:56",
    }
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (52.0, 22.0, 12.34),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (4.0, 53.0, 1.0),
    }
    return exif


XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/'
    b'22-rdf-syntax-ns#"><rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" '
    b'exif:GPSLatitude="52,22.2N" exif:Model="XMP-SECRET"/></rdf:RDF></x:xmpmeta>'
)


def scene(width: int, height: int, seed: int = 1, noise: float = 6.0) -> Image.Image:
    """A photo-like picture: sky-to-ground gradient, sensor noise, a few shapes, and a red
    marker in the top-left corner of the stored pixels (to follow rotations)."""
    rng = np.random.default_rng(seed)
    x = np.linspace(0.0, 1.0, width, dtype=np.float32)[None, :]
    y = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    red = 60 + 120 * y + 40 * np.sin(x * 7.0)
    green = 90 + 90 * y * (1 - x) + 30 * np.cos(y * 5.0)
    blue = 220 - 160 * y + 0 * x
    pixels = np.stack([red, green, blue], axis=-1)
    pixels += rng.normal(0.0, noise, (height, width, 1)).astype(np.float32)
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        left, top = int(rng.integers(0, width)), int(rng.integers(0, height))
        size = int(rng.integers(width // 20 + 1, width // 5 + 2))
        colour = tuple(int(v) for v in rng.integers(40, 200, 3))
        draw.ellipse((left, top, left + size, top + size // 2 + 1), fill=colour)
    corner = max(4, min(width, height) // 8)
    draw.rectangle((0, 0, corner, corner), fill=MARKER_RED)
    return image


def iptc_segment() -> bytes:
    """An APP13 Photoshop/IPTC segment carrying a caption, as newsroom tools write."""
    record = b"\x1c\x02\x78" + struct.pack(">H", 11) + b"IPTC-SECRET"
    resource = b"8BIM\x04\x04\x00\x00" + struct.pack(">I", len(record)) + record
    payload = b"Photoshop 3.0\x00" + resource
    return b"\xff\xed" + struct.pack(">H", len(payload) + 2) + payload


def with_private_extras(jpeg: bytes) -> bytes:
    """Add what Pillow cannot write: an IPTC segment and data after the end of the image
    (where phones put motion-photo videos and depth maps)."""
    assert jpeg.startswith(b"\xff\xd8")
    return b"\xff\xd8" + iptc_segment() + jpeg[2:] + b"TRAILER-SECRET" * 4


def icc_profile(description: str = "Pinhole Test P3") -> bytes:
    """A small RGB matrix/TRC ICC v2 profile with Display P3 primaries."""

    def s15(value: float) -> bytes:
        return struct.pack(">i", round(value * 65536))

    def xyz(x: float, y: float, z: float) -> bytes:
        return b"XYZ \x00\x00\x00\x00" + s15(x) + s15(y) + s15(z)

    text = description.encode("ascii") + b"\x00"
    desc = (
        b"desc\x00\x00\x00\x00"
        + struct.pack(">I", len(text))
        + text
        + b"\x00" * 8
        + b"\x00\x00\x00"
        + b"\x00" * 67
    )
    curve = b"curv\x00\x00\x00\x00" + struct.pack(">IH", 1, int(2.2 * 256)) + b"\x00\x00"
    tags = [
        (b"desc", desc),
        (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", xyz(0.5151, 0.2412, -0.0011)),
        (b"gXYZ", xyz(0.2920, 0.6922, 0.0419)),
        (b"bXYZ", xyz(0.1571, 0.0666, 0.7841)),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
        (b"cprt", b"text\x00\x00\x00\x00none\x00\x00\x00\x00"),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, data = b"", b""
    for signature, body in tags:
        table += signature + struct.pack(">II", offset + len(data), len(body))
        data += body + b"\x00" * (-len(body) % 4)
    body = struct.pack(">I", len(tags)) + table + data
    header = (
        struct.pack(">I", 128 + len(body))
        + b"lcms"
        + b"\x02\x10\x00\x00"
        + b"mntrRGB XYZ "
        + b"\x07\xe8\x00\x01\x00\x01\x00\x00\x00\x00\x00\x00"
        + b"acsp"
        + b"\x00" * 24
        + b"\x00\x00\x00\x00"
        + s15(0.9642)
        + s15(1.0)
        + s15(0.8249)
        + b"\x00" * 48
    )
    assert len(header) == 128
    return header + body


def phone_jpeg(width: int = 1200, height: int = 900, orientation: int = 1, seed: int = 1) -> bytes:
    """A JPEG as a phone saves it, with GPS, device, maker note, XMP, IPTC, a comment,
    trailing data and a Display P3 profile; `orientation` is the EXIF tag."""
    out = io.BytesIO()
    scene(width, height, seed).save(
        out,
        "JPEG",
        quality=92,
        exif=camera_exif(orientation),
        xmp=XMP,
        comment=b"COMMENT-SECRET",
        icc_profile=icc_profile(),
    )
    return with_private_extras(out.getvalue())


def encode_video(
    container_format: str,
    video_codec: str,
    audio_codec: str | None,
    *,
    width: int = 320,
    height: int = 240,
    seconds: float = 1.0,
    fps: int = 24,
    rotation: int | None = None,
    metadata: dict[str, str] | None = None,
) -> bytes:
    """A short clip: moving colour, the red marker top-left, and a 440 Hz tone."""
    out = io.BytesIO()
    with av.open(out, "w", format=container_format) as container:
        container.metadata.update(metadata or {})
        video = container.add_stream(video_codec, rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        if video_codec in ("hevc", "libx265"):
            video.options = {"x265-params": "log-level=none"}
        if rotation is not None:
            video.set_display_rotation(rotation)
        audio = container.add_stream(audio_codec, rate=48_000) if audio_codec else None
        if audio is not None:
            audio.layout = "stereo"
        frames = int(seconds * fps)
        for index in range(frames):
            pixels = np.zeros((height, width, 3), np.uint8)
            pixels[:, :, 1] = 40 + index * 150 // max(1, frames)
            pixels[:, :, 2] = np.linspace(30, 200, width, dtype=np.uint8)[None, :]
            pixels[: height // 4, : width // 4] = MARKER_RED
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, fps)
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        if audio is not None:
            samples = audio.codec_context.frame_size or 1024
            for chunk in range(int(seconds * 48_000) // samples):
                t = (np.arange(samples) + chunk * samples) / 48_000
                tone = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
                frame = av.AudioFrame.from_ndarray(np.stack([tone, tone]), "fltp", "stereo")
                frame.sample_rate, frame.pts = 48_000, chunk * samples
                container.mux(audio.encode(frame))
            container.mux(audio.encode(None))
    return out.getvalue()


def animated_gif(frames: int = 10, size: tuple[int, int] = (121, 91), delay_ms: int = 80) -> bytes:
    pictures = []
    for index in range(frames):
        picture = Image.new("RGB", size, (20 * index % 256, 90, 255 - 20 * index % 256))
        ImageDraw.Draw(picture).rectangle((0, 0, size[0] // 4, size[1] // 4), fill=MARKER_RED)
        pictures.append(picture)
    out = io.BytesIO()
    pictures[0].save(
        out, "GIF", save_all=True, append_images=pictures[1:], duration=delay_ms, loop=0
    )
    return out.getvalue()


def png_bomb(width: int, height: int) -> bytes:
    """A PNG of a few dozen bytes whose header declares width x height pixels."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        checksum = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + checksum

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


class MediaSamples:
    """The sample makers above, handed to tests by the `samples` fixture (test modules cannot
    import a conftest reliably)."""

    secrets = SECRETS
    marker_red = MARKER_RED
    xmp = XMP
    camera_exif = staticmethod(camera_exif)
    scene = staticmethod(scene)
    phone_jpeg = staticmethod(phone_jpeg)
    with_private_extras = staticmethod(with_private_extras)
    icc_profile = staticmethod(icc_profile)
    encode_video = staticmethod(encode_video)
    animated_gif = staticmethod(animated_gif)
    png_bomb = staticmethod(png_bomb)


@pytest.fixture(scope="session")
def samples() -> type[MediaSamples]:
    return MediaSamples
