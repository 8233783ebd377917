"""Photo processing: sniffing from bytes, limits, orientation, metadata stripped, bombs."""

from __future__ import annotations

import io
import struct

import pytest
from PIL import Image

from app.domain.media.model import (
    MB,
    MediaKind,
    MediaLimits,
    MediaTooLarge,
    PixelBomb,
    UnreadableMedia,
    UnsupportedMediaType,
)
from app.infra.media.images import PillowMediaProcessor, process_photo


def jpeg_with_gps(width: int = 64, height: int = 32, orientation: int = 6) -> bytes:
    """A JPEG carrying GPS EXIF (near 常州), an orientation tag and XMP."""
    image = Image.new("RGB", (width, height), (200, 30, 30))
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "TestCam"
    exif[0x8825] = {1: "N", 2: (31.0, 42.0, 3.0), 3: "E", 4: (119.0, 57.0, 1.0)}
    out = io.BytesIO()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description GPSLatitude="31"/></x:xmpmeta>'
    image.save(out, "JPEG", exif=exif.tobytes(), xmp=xmp)
    return out.getvalue()


def png_bytes(width: int = 10, height: int = 10, mode: str = "RGBA") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height)).save(out, "PNG")
    return out.getvalue()


def test_fixture_really_carries_gps_and_orientation() -> None:
    with Image.open(io.BytesIO(jpeg_with_gps())) as im:
        exif = im.getexif()
        assert exif[0x0112] == 6
        assert exif.get_ifd(0x8825)
        assert "xmp" in im.info


def test_photo_is_upright_and_has_no_metadata_at_all() -> None:
    processed = process_photo(jpeg_with_gps(64, 32, orientation=6), 40_000_000)
    assert processed.content_type == "image/jpeg"
    assert (processed.width, processed.height) == (32, 64)  # rotated by the EXIF tag
    with Image.open(io.BytesIO(processed.data)) as im:
        assert im.size == (32, 64)
        assert len(im.getexif()) == 0
        assert not {"exif", "xmp", "icc_profile", "XML:com.adobe.xmp"} & set(im.info)
    assert b"Exif" not in processed.data
    assert b"TestCam" not in processed.data
    assert b"xmpmeta" not in processed.data


def test_thumbnail_is_small_jpeg_without_metadata() -> None:
    processed = process_photo(jpeg_with_gps(1000, 500, orientation=1), 40_000_000)
    assert processed.thumbnail is not None
    with Image.open(io.BytesIO(processed.thumbnail)) as thumb:
        assert thumb.format == "JPEG"
        assert max(thumb.size) == 320
        assert len(thumb.getexif()) == 0


def test_png_stays_png_with_alpha() -> None:
    processed = process_photo(png_bytes(), 40_000_000)
    assert processed.content_type == "image/png"
    with Image.open(io.BytesIO(processed.data)) as im:
        assert im.mode == "RGBA"


def _png_header_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose IHDR claims huge dimensions (a decompression bomb's header)."""
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"") + chunk(b"IEND", b"")


def test_pixel_bomb_is_refused_before_decoding() -> None:
    with pytest.raises(PixelBomb):
        process_photo(_png_header_claiming(10_000, 10_000), 40_000_000)


def test_pixel_limit_is_configurable() -> None:
    with pytest.raises(PixelBomb):
        process_photo(png_bytes(100, 100), 5_000)


def test_truncated_photo_is_unreadable() -> None:
    with pytest.raises(UnreadableMedia):
        process_photo(jpeg_with_gps()[:200], 40_000_000)


def test_sniffing_ignores_names_and_declared_types() -> None:
    processor = PillowMediaProcessor()
    assert processor.sniff(jpeg_with_gps()).content_type == "image/jpeg"
    assert processor.sniff(png_bytes()).kind == MediaKind.PHOTO
    mp4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64
    assert processor.sniff(mp4).kind == MediaKind.VIDEO
    mp3 = b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\x00" * 64
    assert processor.sniff(mp3).content_type == "audio/mpeg"
    wav = b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 64
    assert processor.sniff(wav).kind == MediaKind.AUDIO


@pytest.mark.parametrize(
    "data",
    [
        b"<html><script>alert(1)</script></html>",
        b"%PDF-1.7\n" + b"\x00" * 64,
        b"GIF89a" + b"\x00" * 64,  # a real image type, but not one we accept
        b"",
    ],
)
def test_unsupported_bytes_are_refused(data: bytes) -> None:
    with pytest.raises(UnsupportedMediaType) as caught:
        PillowMediaProcessor().sniff(data)
    assert caught.value.code == "media.unsupported_type"


def test_limits_per_kind() -> None:
    limits = MediaLimits()
    limits.check(MediaKind.PHOTO, "image/jpeg", 15 * MB)
    with pytest.raises(MediaTooLarge):
        limits.check(MediaKind.PHOTO, "image/jpeg", 15 * MB + 1)
    limits.check(MediaKind.VIDEO, "video/mp4", 50 * MB)
    with pytest.raises(MediaTooLarge):
        limits.check(MediaKind.AUDIO, "audio/mpeg", 10 * MB + 1)
    with pytest.raises(UnsupportedMediaType):
        limits.check(MediaKind.PHOTO, "video/mp4", 10)
    assert limits.largest == 50 * MB
