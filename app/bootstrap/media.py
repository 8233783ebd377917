"""Wiring of the media context: storage adapter by settings, processor, service, and the
visibility registry other contexts (tips) register their record types with."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.api.container import Services
from app.bootstrap.platform import Platform
from app.domain.media.files import SignedFiles
from app.domain.media.model import MB, MediaLimits
from app.domain.media.ports import MediaStorage, MediaUnitOfWork, NoSignedFiles, SignedFileGate
from app.domain.media.services import (
    MediaService,
    MediaSettings,
    MediaVisibilityRegistry,
    UowFactory,
)
from app.domain.shared.clock import Clock
from app.domain.shared.scope import Scope
from app.infra.db.media_repo import SqlMediaUnitOfWork
from app.infra.media.images import PillowMediaProcessor
from app.infra.media.local import LocalMediaStorage
from app.infra.media.s3 import S3Config, S3MediaStorage
from app.settings import MediaStorageKind, Settings


def uow_factory(session_factory: async_sessionmaker[AsyncSession], clock: Clock) -> UowFactory:
    def make(scope: Scope) -> MediaUnitOfWork:
        return SqlMediaUnitOfWork(session_factory, scope, clock)

    return make


def media_settings(settings: Settings) -> MediaSettings:
    return MediaSettings(
        limits=MediaLimits(
            photo_bytes=settings.media_max_photo_mb * MB,
            video_bytes=settings.media_max_video_mb * MB,
            audio_bytes=settings.media_max_audio_mb * MB,
            photo_pixels=settings.media_max_photo_megapixels * 1_000_000,
        ),
        url_ttl_seconds=settings.media_url_ttl_seconds,
        upload_ttl_seconds=settings.media_upload_ttl_seconds,
    )


def build_storage(settings: Settings, clock: Clock) -> tuple[MediaStorage, SignedFileGate]:
    if settings.media_storage == MediaStorageKind.S3:
        s3 = S3MediaStorage(
            S3Config(
                bucket=settings.media_s3_bucket,
                endpoint_url=settings.media_s3_endpoint_url or None,
                region=settings.media_s3_region,
                access_key_id=settings.media_s3_access_key_id or None,
                secret_access_key=settings.media_s3_secret_access_key.get_secret_value() or None,
            )
        )
        return s3, NoSignedFiles()
    local = LocalMediaStorage(
        settings.media_dir, settings.media_url_secret.get_secret_value().encode(), clock
    )
    return local, local


def wire(services: Services, platform: Platform) -> None:
    storage, gate = build_storage(platform.settings, platform.clock)
    visibility = MediaVisibilityRegistry()
    services.register(MediaVisibilityRegistry, visibility)
    services.register(SignedFiles, SignedFiles(storage, gate))
    services.register(
        MediaService,
        MediaService(
            uow_factory(platform.session_factory, platform.clock),
            storage,
            PillowMediaProcessor(),
            visibility,
            platform.clock,
            media_settings(platform.settings),
        ),
    )
