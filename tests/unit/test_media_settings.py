"""Media settings: production refuses the development URL secret and an S3 store without
a bucket; limits reach the service."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from test_settings import SAFE_PRODUCTION

from app.bootstrap.media import media_settings
from app.domain.media.model import MB
from app.settings import Settings


def test_production_refuses_the_development_media_secret() -> None:
    unsafe = {k: v for k, v in SAFE_PRODUCTION.items() if k != "media_url_secret"}
    with pytest.raises(ValidationError, match="SHOUWANG_MEDIA_URL_SECRET"):
        Settings(_env_file=None, **unsafe)  # type: ignore[call-arg, arg-type]


def test_production_s3_needs_a_bucket_but_no_url_secret() -> None:
    base = {k: v for k, v in SAFE_PRODUCTION.items() if k != "media_url_secret"}
    with pytest.raises(ValidationError, match="SHOUWANG_MEDIA_S3_BUCKET"):
        Settings(_env_file=None, **base, media_storage="s3")  # type: ignore[call-arg, arg-type]
    ok = Settings(_env_file=None, **base, media_storage="s3", media_s3_bucket="shouwang-media")  # type: ignore[call-arg, arg-type]
    assert ok.media_s3_bucket == "shouwang-media"


def test_limits_come_from_settings() -> None:
    s = Settings(_env_file=None, media_max_photo_mb=3, media_max_photo_megapixels=12)  # type: ignore[call-arg]
    limits = media_settings(s).limits
    assert limits.photo_bytes == 3 * MB
    assert limits.photo_pixels == 12_000_000
    assert limits.video_bytes == 50 * MB
