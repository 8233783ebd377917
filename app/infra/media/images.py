"""Sniffing and photo processing with filetype and Pillow.

Photos are decoded, turned upright (EXIF orientation) and re-encoded from raw pixels, so
no metadata survives (EXIF with GPS, XMP, ICC, comments). Videos and voice notes are
stored as uploaded: their container metadata is NOT stripped yet.
"""

from __future__ import annotations

import asyncio
import io
import warnings

import filetype  # type: ignore[import-untyped]
import imagehash
from PIL import Image, ImageOps, ImageStat, UnidentifiedImageError

from app.domain.media.model import (
    ACCEPTED,
    MediaKind,
    PixelBomb,
    UnreadableMedia,
    UnsupportedMediaType,
)
from app.domain.media.ports import Processed, Sniffed
from app.domain.review.model import to_signed64

THUMBNAIL_SIZE = 320
JPEG_QUALITY = 85
# Below this grey-level spread (of a 32×32 copy) a photo has no detail to hash: a flat
# colour would match every other flat colour.
PHASH_MIN_STDDEV = 2.0


class PillowMediaProcessor:
    def sniff(self, data: bytes) -> Sniffed:
        guess = filetype.guess(data[:8192])
        if guess is None:
            raise UnsupportedMediaType()
        for kind, types in ACCEPTED.items():
            if guess.mime in types:
                return Sniffed(kind, guess.mime)
        raise UnsupportedMediaType()

    async def process(self, sniffed: Sniffed, data: bytes, max_pixels: int) -> Processed:
        if sniffed.kind != MediaKind.PHOTO:
            return Processed(content_type=sniffed.content_type, data=data)
        return await asyncio.to_thread(process_photo, data, max_pixels)


def process_photo(data: bytes, max_pixels: int) -> Processed:
    """Re-encode a photo without metadata, upright, plus a JPEG thumbnail (blocking)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as opened:
                # Refuse on the header's dimensions, before decoding any pixels.
                if opened.width * opened.height > max_pixels:
                    raise PixelBomb()
                source_format = opened.format
                upright = ImageOps.exif_transpose(opened)
                clean = _pixels_only(upright)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PixelBomb() from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise UnreadableMedia() from None
    keep_png = source_format == "PNG" or (source_format == "WEBP" and _has_alpha(clean))
    if keep_png:
        body, content_type = _encode(clean, "PNG"), "image/png"
    else:
        body, content_type = _encode(_rgb(clean), "JPEG"), "image/jpeg"
    thumb = _rgb(clean)
    thumb.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))
    return Processed(
        content_type=content_type,
        data=body,
        width=clean.width,
        height=clean.height,
        thumbnail=_encode(thumb, "JPEG"),
        thumbnail_content_type="image/jpeg",
        phash=perceptual_hash(clean),
    )


def perceptual_hash(image: Image.Image) -> int | None:
    """The 64-bit pHash as a signed integer (what a bigint column holds), or None for an
    image without detail (blocking; runs in the same worker thread as the thumbnail)."""
    grey = image.convert("L").resize((32, 32), Image.Resampling.LANCZOS)
    if ImageStat.Stat(grey).stddev[0] < PHASH_MIN_STDDEV:
        return None
    bits = imagehash.phash(image).hash.flatten()
    value = 0
    for bit in bits:
        value = (value << 1) | int(bool(bit))
    return to_signed64(value)


def _pixels_only(image: Image.Image) -> Image.Image:
    """A new image from the raw pixels alone: nothing of ``info`` (exif, xmp, icc...)."""
    if image.mode == "P":
        image = image.convert("RGBA")
    elif image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert("RGB")
    return Image.frombytes(image.mode, image.size, image.tobytes())


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA")


def _rgb(image: Image.Image) -> Image.Image:
    if not _has_alpha(image):
        return image.convert("RGB")
    background = Image.new("RGB", image.size, (255, 255, 255))
    background.paste(image.convert("RGBA"), mask=image.convert("RGBA").getchannel("A"))
    return background


def _encode(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG":
        image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    else:
        image.save(out, "PNG", optimize=True)
    return out.getvalue()
