"""Use cases of the media context: upload, presigned upload, read, attach."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from app.domain.media.model import (
    EXTENSIONS,
    Attachment,
    MediaKind,
    MediaLimits,
    MediaNotFound,
    MediaNotPending,
    MediaObject,
    MediaStatus,
    MediaTooLarge,
    UnsupportedMediaType,
    UploadMissing,
    kind_of,
)
from app.domain.media.ports import (
    MediaProcessor,
    MediaStorage,
    MediaUnitOfWork,
    MediaVisibility,
    PresignedUpload,
)
from app.domain.shared.clock import Clock
from app.domain.shared.errors import InvalidInput
from app.domain.shared.events import DomainEvent
from app.domain.shared.ids import new_id
from app.domain.shared.scope import Scope

UowFactory = Callable[[Scope], MediaUnitOfWork]


class MediaVisibilityRegistry:
    """Who may see a media object: the uploader, and once it is attached, whoever the
    record's own context says may see that record. Unknown record types: uploader only."""

    def __init__(self) -> None:
        self._by_type: dict[str, MediaVisibility] = {}

    def register(self, record_type: str, visibility: MediaVisibility) -> None:
        self._by_type[record_type] = visibility

    async def can_see(self, scope: Scope, media: MediaObject) -> bool:
        if scope.unrestricted or media.owned_by(scope.account_id):
            return True
        if media.attached_to is None:
            return False
        checker = self._by_type.get(media.attached_to.record_type)
        return checker is not None and await checker.can_see(scope, media.attached_to)


@dataclass(frozen=True, slots=True)
class MediaView:
    media: MediaObject
    url: str | None
    thumbnail_url: str | None


@dataclass(frozen=True, slots=True)
class UploadTicket:
    media: MediaObject
    upload: PresignedUpload
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class MediaSettings:
    limits: MediaLimits = field(default_factory=MediaLimits)
    url_ttl_seconds: int = 900
    upload_ttl_seconds: int = 900


async def attach_media(
    uow: MediaUnitOfWork,
    scope: Scope,
    media_ids: Sequence[uuid.UUID],
    record_type: str,
    record_id: uuid.UUID,
) -> list[MediaObject]:
    """Attach the caller's ready media objects to a record, inside the CALLER's unit of
    work (the record's context commits). Ids that are unknown or uploaded by someone else
    are not found; re-attaching to the same record is a no-op."""
    wanted = list(dict.fromkeys(media_ids))
    if not wanted:
        return []
    found = await uow.media.owned_for_update(scope.account_id, wanted)
    if len(found) != len(wanted):
        raise MediaNotFound()
    attachment = Attachment(record_type, record_id)
    now = uow.clock.now()
    for media in found:
        if media.attach(attachment):
            await uow.media.update(media)
            uow.audit(
                "media.attach",
                "media",
                media.id,
                {"record_type": record_type, "record_id": record_id},
            )
            uow.add_event(
                DomainEvent(
                    "media.attached",
                    "media",
                    media.id,
                    now,
                    {"record_type": record_type, "record_id": record_id},
                )
            )
    return found


class MediaService:
    def __init__(
        self,
        uow_factory: UowFactory,
        storage: MediaStorage,
        processor: MediaProcessor,
        visibility: MediaVisibilityRegistry,
        clock: Clock,
        settings: MediaSettings | None = None,
    ) -> None:
        self.uow_factory = uow_factory
        self.storage = storage
        self.processor = processor
        self.visibility = visibility
        self.clock = clock
        self.settings = settings or MediaSettings()

    @property
    def limits(self) -> MediaLimits:
        return self.settings.limits

    async def upload(self, scope: Scope, data: bytes) -> MediaView:
        """Upload in one request: sniff, check limits, process, store, record."""
        media_id = new_id()
        stored = await self._store(media_id, data)
        media = MediaObject(
            id=media_id,
            owner_account_id=scope.account_id,
            kind=stored.kind,
            content_type=stored.content_type,
            size=stored.size,
            storage_key=stored.key,
            status=MediaStatus.PENDING,
            created_at=self.clock.now(),
        )
        stored.apply_to(media)
        try:
            async with self.uow_factory(scope) as uow:
                await uow.media.add(media)
                self._record_upload(uow, media)
                await uow.commit()
        except BaseException:
            await self._discard(stored.key, stored.thumbnail_key)
            raise
        return await self._view(media)

    async def begin_upload(
        self, scope: Scope, kind: MediaKind, content_type: str, size: int
    ) -> UploadTicket:
        """Start a presigned upload: the client PUTs the bytes straight to storage."""
        if size <= 0:
            raise InvalidInput("The size must be positive.", "大小必须为正数。")
        if kind_of(content_type) != kind:
            raise UnsupportedMediaType(
                "The content type does not match the kind.", "内容类型与媒体种类不符。"
            )
        self.limits.check(kind, content_type, size)
        media_id = new_id()
        key = f"uploads/{media_id}"
        ttl = self.settings.upload_ttl_seconds
        upload = await self.storage.presign_put(key, content_type, size, ttl)
        media = MediaObject(
            id=media_id,
            owner_account_id=scope.account_id,
            kind=kind,
            content_type=content_type,
            size=size,
            storage_key=key,
            status=MediaStatus.PENDING,
            created_at=self.clock.now(),
        )
        async with self.uow_factory(scope) as uow:
            await uow.media.add(media)
            uow.audit("media.upload_begun", "media", media.id, {"kind": kind.value, "size": size})
            await uow.commit()
        return UploadTicket(media, upload, self.clock.now() + timedelta(seconds=ttl))

    async def complete_upload(self, scope: Scope, media_id: uuid.UUID) -> MediaView:
        """Fetch the uploaded bytes, check and process them; a bad file is marked rejected
        (and its bytes deleted) before the error is raised."""
        async with self.uow_factory(scope) as uow:
            media = await uow.media.get(media_id, for_update=True)
            if media is None or not media.owned_by(scope.account_id):
                raise MediaNotFound()
            if media.status != MediaStatus.PENDING:
                raise MediaNotPending()
            upload_key = media.storage_key
            size = await self.storage.size(upload_key)
            if size is None:
                raise UploadMissing()
            try:
                if size > media.size:
                    raise MediaTooLarge(
                        "More bytes were uploaded than announced.", "上传的字节数超过申报的大小。"
                    )
                data = await self.storage.get(upload_key)
                if data is None:
                    raise UploadMissing()
                stored = await self._store(media.id, data)
            except InvalidInput as error:
                media.reject(error.code)
                await uow.media.update(media)
                uow.audit("media.rejected", "media", media.id, {"reason": error.code})
                await uow.commit()
                await self.storage.delete(upload_key)
                raise
            stored.apply_to(media)
            try:
                await uow.media.update(media)
                self._record_upload(uow, media)
                await uow.commit()
            except BaseException:
                await self._discard(stored.key, stored.thumbnail_key)
                raise
        await self.storage.delete(upload_key)
        return await self._view(media)

    async def get(self, scope: Scope, media_id: uuid.UUID) -> MediaView:
        async with self.uow_factory(scope) as uow:
            media = await uow.media.get(media_id)
        if media is None or not await self.visibility.can_see(scope, media):
            raise MediaNotFound()
        return await self._view(media)

    async def get_many(self, scope: Scope, media_ids: Sequence[uuid.UUID]) -> list[MediaView]:
        """The visible ones among ``media_ids`` (others are silently left out)."""
        async with self.uow_factory(scope) as uow:
            found = await uow.media.get_many(list(media_ids))
        return [await self._view(m) for m in found if await self.visibility.can_see(scope, m)]

    async def attached_to(
        self, scope: Scope, record_type: str, record_id: uuid.UUID
    ) -> list[MediaView]:
        """Media of a record the caller may see (for the record's own views)."""
        async with self.uow_factory(scope) as uow:
            found = await uow.media.attached_to(Attachment(record_type, record_id))
        return [await self._view(m) for m in found if await self.visibility.can_see(scope, m)]

    # --- helpers ------------------------------------------------------------------------

    async def _store(self, media_id: uuid.UUID, data: bytes) -> _Stored:
        if len(data) > self.limits.largest:
            raise MediaTooLarge()
        sniffed = self.processor.sniff(data)
        self.limits.check(sniffed.kind, sniffed.content_type, len(data))
        processed = await self.processor.process(sniffed, data, self.limits.photo_pixels)
        key = f"media/{media_id}/original.{EXTENSIONS[processed.content_type]}"
        await self.storage.put(key, processed.data, processed.content_type)
        thumb_key = None
        if processed.thumbnail is not None and processed.thumbnail_content_type:
            ext = EXTENSIONS[processed.thumbnail_content_type]
            thumb_key = f"media/{media_id}/thumb.{ext}"
            await self.storage.put(thumb_key, processed.thumbnail, processed.thumbnail_content_type)
        return _Stored(
            kind=sniffed.kind,
            content_type=processed.content_type,
            size=len(processed.data),
            sha256=await _sha256(processed.data),
            key=key,
            thumbnail_key=thumb_key,
            width=processed.width,
            height=processed.height,
            phash=processed.phash,
        )

    async def _discard(self, *keys: str | None) -> None:
        for key in keys:
            if key:
                await self.storage.delete(key)

    def _record_upload(self, uow: MediaUnitOfWork, media: MediaObject) -> None:
        # Sizes and types only: never file names or content (they may identify people).
        uow.audit(
            "media.upload",
            "media",
            media.id,
            {"kind": media.kind.value, "content_type": media.content_type, "size": media.size},
        )
        uow.add_event(
            DomainEvent(
                "media.uploaded",
                "media",
                media.id,
                self.clock.now(),
                {"media_id": media.id, "kind": media.kind.value},
            )
        )

    async def _view(self, media: MediaObject) -> MediaView:
        if media.status != MediaStatus.READY:
            return MediaView(media, None, None)
        ttl = self.settings.url_ttl_seconds
        thumb = (
            await self.storage.url_for(media.thumbnail_key, ttl) if media.thumbnail_key else None
        )
        return MediaView(media, await self.storage.url_for(media.storage_key, ttl), thumb)


@dataclass(frozen=True, slots=True)
class _Stored:
    kind: MediaKind
    content_type: str
    size: int
    sha256: str
    key: str
    thumbnail_key: str | None
    width: int | None
    height: int | None
    phash: int | None = None

    def apply_to(self, media: MediaObject) -> None:
        media.complete(
            content_type=self.content_type,
            size=self.size,
            sha256=self.sha256,
            storage_key=self.key,
            width=self.width,
            height=self.height,
            thumbnail_key=self.thumbnail_key,
            phash=self.phash,
        )


async def _sha256(data: bytes) -> str:
    """Hex SHA-256 of up to tens of MB, off the event loop (hashlib frees the GIL)."""
    return await asyncio.to_thread(lambda: hashlib.sha256(data).hexdigest())
