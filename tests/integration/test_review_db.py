"""The SQL Hamming distance of 64-bit perceptual hashes agrees with the domain's, for
signed values too; and the photo pipeline's hash survives re-encoding but tells different
photos apart."""

from __future__ import annotations

import io
import os
import random

import sqlalchemy as sa
from PIL import Image
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.review.model import PHOTO_DISTANCE_MAX, hamming, to_signed64
from app.infra.media.images import perceptual_hash, process_photo


async def test_sql_hamming64_matches_the_domain(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    rng = random.Random(4)
    pairs = [(0, 0), (0, -1), (-1, 1 << 62), (to_signed64(1 << 63), 0), (5, 6)]
    pairs += [
        (to_signed64(rng.getrandbits(64)), to_signed64(rng.getrandbits(64))) for _ in range(50)
    ]
    async with session_factory() as s:
        for a, b in pairs:
            got = (
                await s.execute(sa.text("SELECT hamming64(:a, :b)"), {"a": a, "b": b})
            ).scalar_one()
            assert got == hamming(a, b), (a, b)
        assert (await s.execute(sa.text("SELECT hamming64(0, -1)"))).scalar_one() == 64
        assert (await s.execute(sa.text("SELECT hamming64(NULL, 1)"))).scalar_one() is None


def _photo(seed: int) -> bytes:
    rng = random.Random(seed)
    image = Image.frombytes("RGB", (96, 64), rng.randbytes(96 * 64 * 3))
    image = image.resize((384, 256))  # blocks of detail, as in a real photo
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95)
    return out.getvalue()


def test_perceptual_hash_survives_reencoding_and_separates_photos() -> None:
    original = process_photo(_photo(1), 10_000_000)
    again = process_photo(original.data, 10_000_000)  # the copy re-uploaded
    other = process_photo(_photo(2), 10_000_000)
    assert original.phash is not None
    assert again.phash is not None
    assert other.phash is not None
    assert -(1 << 63) <= original.phash < 1 << 63  # fits a bigint
    assert hamming(original.phash, again.phash) <= PHOTO_DISTANCE_MAX
    assert hamming(original.phash, other.phash) > PHOTO_DISTANCE_MAX
    flat = Image.new("RGB", (64, 48), (200, 80, 40))
    assert perceptual_hash(flat) is None
    assert perceptual_hash(Image.frombytes("L", (32, 32), os.urandom(1024))) is not None
