"""Photo uploads: what a viewer of each rendition would see, and what a stranger could read."""

from __future__ import annotations

import io
import warnings

import blurhash
import numpy as np
import pytest
from PIL import Image

from media.errors import MediaRejected
from media.processing import (
    ImageLimits,
    ProcessedMedia,
    Rendition,
    compute_blurhash,
    detect_type,
    process_image,
    strip_jpeg_metadata,
)
from media.upload import process_upload

# "large_jpeg" too when the original cannot stand in for it (see the tests near the end).
STILL_NAMES = ("large", "small", "thumbnail", "small_jpeg", "thumbnail_jpeg")


def opened(rendition: Rendition) -> Image.Image:
    image = Image.open(io.BytesIO(rendition.data))
    image.load()
    return image


def is_red(pixel: tuple[int, ...]) -> bool:
    red, green, blue = pixel[:3]
    return red > 200 and green < 70 and blue < 70


def assert_no_private_metadata(result: ProcessedMedia, secrets: tuple[bytes, ...]) -> None:
    for name, rendition in result.renditions.items():
        for secret in secrets:
            assert secret not in rendition.data, f"{secret!r} left in {name}"
        assert b"Exif\x00\x00" not in rendition.data, f"EXIF block left in {name}"
        assert b"<x:xmpmeta" not in rendition.data, f"XMP left in {name}"
        image = opened(rendition)
        exif = image.getexif()
        assert 0x8825 not in exif and not exif.get_ifd(0x8825), f"GPS left in {name}"
        assert 0x010F not in exif and 0x0110 not in exif, f"camera make/model left in {name}"
        assert not {"exif", "xmp", "XML:com.adobe.xmp", "comment"} & image.info.keys(), name


@pytest.fixture(scope="module")
def rotated_phone_photo(samples) -> tuple[bytes, ProcessedMedia]:
    """A 12 MP phone photo held upright: stored landscape with Orientation=6."""
    data = samples.phone_jpeg(4000, 3000, orientation=6)
    return data, process_image(data)


@pytest.fixture(scope="module")
def upright_phone_photo(samples) -> tuple[bytes, ProcessedMedia]:
    data = samples.phone_jpeg(2400, 1800, orientation=1, seed=2)
    return data, process_image(data)


def test_rotated_photo_loses_gps_camera_and_every_other_private_detail(
    rotated_phone_photo, samples
) -> None:
    data, result = rotated_phone_photo
    assert all(secret in data for secret in samples.secrets)  # the sample does carry them
    assert_no_private_metadata(result, samples.secrets)


def test_upright_photo_loses_gps_camera_and_every_other_private_detail(
    upright_phone_photo, samples
) -> None:
    _, result = upright_phone_photo
    assert_no_private_metadata(result, samples.secrets)


def test_rotated_photo_is_stored_upright_in_every_rendition(rotated_phone_photo, samples) -> None:
    _, result = rotated_phone_photo
    assert (result.width, result.height) == (3000, 4000)
    for name in ("original", *STILL_NAMES):
        image = opened(result.renditions[name]).convert("RGB")
        width, height = image.size
        assert (width, height) == (result.renditions[name].width, result.renditions[name].height)
        if name.startswith("thumbnail"):
            continue  # the centre square does not reach the corners
        assert height > width, name
        # The marker was stored top-left; turned a quarter clockwise it is top-right.
        assert is_red(image.getpixel((width - 3, 3))), name
        assert not is_red(image.getpixel((3, 3))), name
        assert not is_red(image.getpixel((width - 3, height - 3))), name


def test_upright_jpeg_original_keeps_every_pixel_and_shrinks(upright_phone_photo) -> None:
    data, result = upright_phone_photo
    assert result.original.mime == "image/jpeg"
    before = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    after = np.asarray(opened(result.original).convert("RGB"))
    assert np.array_equal(before, after)
    assert len(result.original.data) < len(data)


def test_colour_profile_is_kept_in_original_and_renditions(
    rotated_phone_photo, upright_phone_photo, samples
) -> None:
    profile = samples.icc_profile()
    for _, result in (rotated_phone_photo, upright_phone_photo):
        for name in ("original", *STILL_NAMES):
            assert opened(result.renditions[name]).info.get("icc_profile") == profile, name


def test_srgb_profile_is_not_repeated_in_renditions(samples) -> None:
    from PIL import ImageCms

    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    out = io.BytesIO()
    samples.scene(800, 600).save(out, "JPEG", icc_profile=srgb)
    result = process_image(out.getvalue())
    assert opened(result.original).info.get("icc_profile") == srgb
    assert not opened(result.small).info.get("icc_profile")


def test_renditions_have_the_promised_sizes_and_formats(rotated_phone_photo) -> None:
    _, result = rotated_phone_photo
    large, small, thumbnail = result.large, result.small, result.thumbnail
    assert 1984 <= large.height <= 2048 and large.width == round(large.height * 3 / 4)
    assert (small.width, small.height) == (480, 640)
    assert (thumbnail.width, thumbnail.height) == (320, 320)
    for name in ("large", "small", "thumbnail"):
        assert result.renditions[name].mime == "image/webp"
        assert detect_type(result.renditions[name].data) == "image/webp"
    assert_jpeg_fallbacks(result, ("small", "thumbnail"))
    # The original (a JPEG of 3000x4000) is what a client without WebP gets for the large size.
    assert "large_jpeg" not in result.renditions
    assert result.original.mime == "image/jpeg"
    assert result.aspect == pytest.approx(0.75)
    assert result.kind == "image"


def assert_jpeg_fallbacks(result: ProcessedMedia, names: tuple[str, ...]) -> None:
    for name in names:
        fallback = result.renditions[f"{name}_jpeg"]
        assert fallback.mime == "image/jpeg" and detect_type(fallback.data) == "image/jpeg"
        assert opened(fallback).size == (fallback.width, fallback.height)
        assert (fallback.width, fallback.height) == (
            result.renditions[name].width,
            result.renditions[name].height,
        )


def test_a_webp_original_gets_a_large_jpeg_fallback(samples) -> None:
    out = io.BytesIO()
    samples.scene(2400, 1600).save(out, "WEBP", quality=80)
    result = process_image(out.getvalue())
    assert result.original.mime == "image/webp"
    assert (result.large.width, result.large.height) == (2048, 1365)
    assert_jpeg_fallbacks(result, ("large", "small", "thumbnail"))


def test_a_jpeg_too_big_to_share_whole_gets_a_large_jpeg_fallback(samples) -> None:
    out = io.BytesIO()
    samples.scene(5200, 1600, noise=0).save(out, "JPEG", quality=80)
    result = process_image(out.getvalue())
    assert result.original.mime == "image/jpeg" and result.width == 5200
    assert result.large.width == 2048
    assert_jpeg_fallbacks(result, ("large", "small", "thumbnail"))


def test_large_is_exactly_2048_when_no_whole_reduction_lands_near(samples) -> None:
    out = io.BytesIO()
    samples.scene(3000, 2000).save(out, "JPEG", quality=80)
    result = process_image(out.getvalue())
    assert (result.large.width, result.large.height) == (2048, 1365)


def test_small_photo_is_never_upscaled(samples) -> None:
    out = io.BytesIO()
    samples.scene(500, 300).save(out, "JPEG", quality=90)
    result = process_image(out.getvalue())
    assert (result.large.width, result.large.height) == (500, 300)
    assert (result.small.width, result.small.height) == (500, 300)
    assert (result.thumbnail.width, result.thumbnail.height) == (300, 300)


def test_blurhash_is_valid_and_matches_the_reference_encoder(upright_phone_photo) -> None:
    _, result = upright_phone_photo
    assert 6 <= len(result.blurhash) <= 164
    assert blurhash.is_valid_blurhash(result.blurhash)
    small = opened(result.small).convert("RGB")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        reference_input = small.copy()
        reference_input.thumbnail((64, 64), Image.Resampling.BILINEAR)
        reference = blurhash.encode(reference_input, 4, 3)
    assert compute_blurhash(small) == reference


def test_png_loses_exif_and_text_but_keeps_pixels_and_transparency(samples) -> None:
    from PIL import PngImagePlugin

    picture = samples.scene(300, 200).convert("RGBA")
    picture.putpixel((150, 100), (0, 0, 0, 0))
    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", "COMMENT-SECRET")
    text.add_itxt("XML:com.adobe.xmp", samples.xmp.decode())
    out = io.BytesIO()
    picture.save(out, "PNG", exif=samples.camera_exif(), pnginfo=text)
    result = process_image(out.getvalue())
    assert_no_private_metadata(result, samples.secrets)
    assert np.array_equal(np.asarray(opened(result.original)), np.asarray(picture))
    assert opened(result.small).mode == "RGBA"


def test_webp_loses_exif_and_xmp_but_keeps_its_bitstream(samples) -> None:
    out = io.BytesIO()
    samples.scene(300, 200).save(
        out, "WEBP", quality=90, exif=samples.camera_exif(), xmp=samples.xmp
    )
    data = out.getvalue()
    result = process_image(data)
    assert_no_private_metadata(result, samples.secrets)
    assert result.original.mime == "image/webp"
    assert b"VP8 " in result.original.data
    original = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    assert np.array_equal(np.asarray(opened(result.original).convert("RGB")), original)


def test_heic_becomes_a_jpeg_any_browser_shows(samples) -> None:
    out = io.BytesIO()
    samples.scene(640, 480).save(out, "HEIF", exif=samples.camera_exif(), quality=80)
    data = out.getvalue()
    assert detect_type(data) == "image/heic"
    result = process_image(data)
    assert result.original.mime == "image/jpeg"
    assert (result.width, result.height) == (640, 480)
    assert_no_private_metadata(result, samples.secrets)


def test_avif_with_orientation_becomes_an_upright_jpeg(samples) -> None:
    out = io.BytesIO()
    samples.scene(640, 480).save(out, "AVIF", exif=samples.camera_exif(6), quality=80)
    data = out.getvalue()
    assert detect_type(data) == "image/avif"
    result = process_image(data)
    assert result.original.mime == "image/jpeg"
    assert (result.width, result.height) == (480, 640)
    image = opened(result.small).convert("RGB")
    assert is_red(image.getpixel((image.width - 3, 3)))
    assert_no_private_metadata(result, samples.secrets)


def test_static_gif_becomes_png(samples) -> None:
    out = io.BytesIO()
    samples.scene(200, 100).convert("P").save(out, "GIF", comment=b"COMMENT-SECRET")
    result = process_upload(out.getvalue())
    assert result.kind == "image"
    assert result.original.mime == "image/png"
    assert b"COMMENT-SECRET" not in result.original.data


def test_jpeg_strip_drops_everything_after_the_image(samples) -> None:
    data = samples.phone_jpeg(64, 48)
    stripped = strip_jpeg_metadata(data)
    assert stripped.endswith(b"\xff\xd9")
    assert b"TRAILER-SECRET" not in stripped


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "file is empty"),
        (b"hello, this is not a photo\n" * 20, "file type not supported: detected text/plain"),
        (b"%PDF-1.7\n%binary", "file type not supported: detected application/pdf"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "detected image/svg+xml"),
        (b"\x00\x01\x02\x03garbage" * 10, "file type not supported"),
    ],
)
def test_files_that_are_not_photos_are_refused_by_their_bytes(data: bytes, message: str) -> None:
    with pytest.raises(MediaRejected) as refused:
        process_upload(data)
    assert message in refused.value.message


def test_truncated_jpeg_is_refused(samples) -> None:
    data = samples.phone_jpeg(600, 400)
    with pytest.raises(MediaRejected, match="image is truncated or corrupt"):
        process_image(data[: len(data) // 2])


def test_jpeg_that_stops_after_its_header_is_refused(samples) -> None:
    data = samples.phone_jpeg(600, 400)
    with pytest.raises(MediaRejected, match="image is truncated or corrupt"):
        process_image(data[:40])


@pytest.mark.parametrize("size", [(20_000, 20_000), (12_000, 10_000)])
# Pillow warns when it reads a header above its own limit; the refusal follows at once.
@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_decompression_bomb_is_refused_before_decoding(samples, size: tuple[int, int]) -> None:
    bomb = samples.png_bomb(*size)
    assert len(bomb) < 200
    with pytest.raises(MediaRejected, match="image is larger than 100 megapixels"):
        process_upload(bomb)


def test_pixel_limit_is_configurable(samples) -> None:
    out = io.BytesIO()
    samples.scene(1200, 1000).save(out, "JPEG")
    with pytest.raises(MediaRejected, match="image is larger than 1 megapixels"):
        process_image(out.getvalue(), ImageLimits(max_pixels=1_000_000))


def test_file_over_the_byte_limit_is_refused_naming_the_limit(samples) -> None:
    data = samples.phone_jpeg(300, 200)
    with pytest.raises(MediaRejected, match="file is larger than 10 KB"):
        process_image(data, ImageLimits(max_bytes=10 * 1024))
    oversized = b"\xff\xd8\xff\xe0" + bytes(40 * 1024 * 1024)
    with pytest.raises(MediaRejected, match="file is larger than 40 MB"):
        process_upload(oversized)


@pytest.mark.parametrize(
    ("head", "mime"),
    [
        (b"\xff\xd8\xff\xe1", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"GIF89a", "image/gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "image/heic"),
        (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1heic", "image/heic"),
        (b"\x00\x00\x00\x10ftypmif1\x00\x00\x00\x00", "image/heif"),
        (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf", "image/avif"),
        (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1avif", "image/avif"),
        (b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2", "video/mp4"),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  ", "video/quicktime"),
        (b"\x00\x00\x00\x08wide\x00\x00\x10\x00mdat", "video/quicktime"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm", "video/webm"),
    ],
)
def test_type_comes_from_magic_bytes(head: bytes, mime: str) -> None:
    assert detect_type(head + bytes(64)) == mime


def test_matroska_and_audio_are_not_accepted_as_video() -> None:
    with pytest.raises(MediaRejected, match="video/x-matroska"):
        detect_type(b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x88matroska" + bytes(64))
    with pytest.raises(MediaRejected, match="audio/mp4"):
        detect_type(b"\x00\x00\x00\x18ftypM4A \x00\x00\x00\x00M4A mp42" + bytes(64))


@pytest.mark.parametrize(
    "options",
    [{"progressive": True}, {"restart_marker_blocks": 4}, {"progressive": True, "subsampling": 0}],
)
def test_progressive_and_restart_marker_jpegs_are_scrubbed_losslessly(samples, options) -> None:
    out = io.BytesIO()
    samples.scene(320, 240).save(out, "JPEG", quality=90, exif=samples.camera_exif(), **options)
    data = samples.with_private_extras(out.getvalue())
    result = process_image(data)
    assert_no_private_metadata(result, samples.secrets)
    before = np.asarray(Image.open(io.BytesIO(data)))
    assert np.array_equal(np.asarray(opened(result.original)), before)


def test_jpeg_with_junk_between_segments_is_re_encoded_not_refused(samples) -> None:
    out = io.BytesIO()
    samples.scene(320, 240).save(out, "JPEG", quality=90, exif=samples.camera_exif())
    data = out.getvalue()
    quantisation = data.index(b"\xff\xdb")
    odd = data[:quantisation] + b"junk" + data[quantisation:]
    result = process_image(odd)
    assert_no_private_metadata(result, samples.secrets)
    assert opened(result.original).size == (320, 240)


def test_cmyk_jpeg_stays_cmyk_and_its_renditions_are_rgb(samples) -> None:
    out = io.BytesIO()
    samples.scene(320, 240).convert("CMYK").save(out, "JPEG", exif=samples.camera_exif(6))
    result = process_image(out.getvalue())
    assert opened(result.original).mode == "CMYK"
    assert (result.width, result.height) == (240, 320)
    assert opened(result.small).mode == "RGB"
    assert_no_private_metadata(result, samples.secrets)
