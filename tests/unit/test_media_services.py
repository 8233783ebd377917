"""Media use cases with in-memory fakes: visibility, attach rules, presigned uploads."""

from __future__ import annotations

import io
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

import pytest
from PIL import Image

from app.domain.media.model import (
    Attachment,
    MediaKind,
    MediaNotAttachable,
    MediaNotFound,
    MediaNotPending,
    MediaObject,
    MediaStatus,
    MediaTooLarge,
    UnsupportedMediaType,
    UploadMissing,
)
from app.domain.media.ports import PresignedUpload
from app.domain.media.services import MediaService, MediaVisibilityRegistry, attach_media
from app.domain.shared.clock import FixedClock
from app.domain.shared.events import DomainEvent
from app.domain.shared.scope import Role, Scope
from app.infra.media.images import PillowMediaProcessor


def jpeg_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 200)).save(out, "JPEG")
    return out.getvalue()


class FakeStorage:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        self.objects[key] = data

    async def get(self, key: str) -> bytes | None:
        return self.objects.get(key)

    async def stream(self, key: str) -> AsyncIterator[bytes]:
        yield self.objects[key]

    async def size(self, key: str) -> int | None:
        data = self.objects.get(key)
        return None if data is None else len(data)

    async def delete(self, key: str) -> None:
        self.objects.pop(key, None)

    async def presign_put(
        self, key: str, content_type: str, max_size: int, ttl_seconds: int
    ) -> PresignedUpload:
        return PresignedUpload(f"memory://{key}", "PUT", {"Content-Type": content_type})

    async def url_for(self, key: str, ttl_seconds: int) -> str:
        return f"memory://{key}?ttl={ttl_seconds}"


class FakeRepo:
    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, MediaObject] = {}

    async def add(self, media: MediaObject) -> None:
        self.rows[media.id] = media

    async def get(self, media_id: uuid.UUID, *, for_update: bool = False) -> MediaObject | None:
        return self.rows.get(media_id)

    async def get_many(self, media_ids: Sequence[uuid.UUID]) -> list[MediaObject]:
        return [self.rows[i] for i in media_ids if i in self.rows]

    async def owned_for_update(
        self, owner_account_id: uuid.UUID, media_ids: Sequence[uuid.UUID]
    ) -> list[MediaObject]:
        found = await self.get_many(media_ids)
        return [m for m in found if m.owner_account_id == owner_account_id]

    async def attached_to(self, attachment: Attachment) -> list[MediaObject]:
        return [m for m in self.rows.values() if m.attached_to == attachment]

    async def update(self, media: MediaObject) -> None:
        media.version += 1


class FakeUow:
    def __init__(self, repo: FakeRepo, clock: FixedClock) -> None:
        self.media = repo
        self.clock = clock
        self.events: list[DomainEvent] = []
        self.audits: list[tuple[str, dict[str, Any]]] = []
        self.commits = 0

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    async def commit(self) -> None:
        self.commits += 1

    async def rollback(self) -> None:
        return None

    def add_event(self, event: DomainEvent) -> None:
        self.events.append(event)

    def audit(
        self, action: str, record_type: str, record_id: uuid.UUID | None, detail: Any = None
    ) -> None:
        self.audits.append((action, detail or {}))


CLOCK = FixedClock(datetime(2026, 11, 22, 9, 0, tzinfo=UTC))


def scope_of(account: uuid.UUID | None = None) -> Scope:
    return Scope(account_id=account or uuid.uuid4(), roles=frozenset({Role.RESIDENT}))


@pytest.fixture
def world() -> tuple[MediaService, FakeUow, FakeStorage, MediaVisibilityRegistry]:
    repo, storage, visibility = FakeRepo(), FakeStorage(), MediaVisibilityRegistry()
    uow = FakeUow(repo, CLOCK)
    service = MediaService(lambda s: uow, storage, PillowMediaProcessor(), visibility, CLOCK)
    return service, uow, storage, visibility


async def test_upload_stores_processed_photo_audits_and_emits_ids_only(world: Any) -> None:
    service, uow, storage, _ = world
    me = scope_of()
    view = await service.upload(me, jpeg_bytes())
    media = view.media
    assert media.status == MediaStatus.READY
    assert media.kind == MediaKind.PHOTO
    assert storage.objects[media.storage_key] != jpeg_bytes()  # re-encoded
    assert media.thumbnail_key in storage.objects
    assert view.url
    assert view.thumbnail_url
    assert uow.audits[-1][0] == "media.upload"
    assert uow.events[-1].event_type == "media.uploaded"
    assert set(uow.events[-1].payload) == {"media_id", "kind"}


async def test_only_the_uploader_sees_an_unattached_object(world: Any) -> None:
    service, _, _, _ = world
    me, other = scope_of(), scope_of()
    view = await service.upload(me, jpeg_bytes())
    assert (await service.get(me, view.media.id)).media.id == view.media.id
    with pytest.raises(MediaNotFound):
        await service.get(other, view.media.id)
    assert await service.get_many(other, [view.media.id]) == []


async def test_attached_media_follows_the_records_visibility(world: Any) -> None:
    service, uow, _, visibility = world
    me, officer, stranger = scope_of(), scope_of(), scope_of()
    view = await service.upload(me, jpeg_bytes())
    tip_id = uuid.uuid4()

    class TipVisibility:
        async def can_see(self, scope: Scope, attachment: Attachment) -> bool:
            return attachment.record_id == tip_id and scope.account_id == officer.account_id

    await attach_media(uow, me, [view.media.id], "tip", tip_id)
    with pytest.raises(MediaNotFound):  # no checker registered yet: uploader only
        await service.get(officer, view.media.id)
    visibility.register("tip", TipVisibility())
    assert (await service.get(officer, view.media.id)).url
    with pytest.raises(MediaNotFound):
        await service.get(stranger, view.media.id)
    assert [v.media.id for v in await service.attached_to(officer, "tip", tip_id)] == [
        view.media.id
    ]


async def test_attach_rules(world: Any) -> None:
    service, uow, _, _ = world
    me, other = scope_of(), scope_of()
    mine = (await service.upload(me, jpeg_bytes())).media
    theirs = (await service.upload(other, jpeg_bytes())).media
    tip = uuid.uuid4()
    with pytest.raises(MediaNotFound):  # someone else's id: as if it did not exist
        await attach_media(uow, me, [mine.id, theirs.id], "tip", tip)
    assert mine.attached_to is None
    commits = uow.commits
    await attach_media(uow, me, [mine.id, mine.id], "tip", tip)
    assert mine.attached_to == Attachment("tip", tip)
    assert uow.commits == commits  # the caller's unit commits, not attach_media
    await attach_media(uow, me, [mine.id], "tip", tip)  # retry: no-op
    with pytest.raises(MediaNotAttachable):
        await attach_media(uow, me, [mine.id], "tip", uuid.uuid4())
    assert await attach_media(uow, me, [], "tip", tip) == []


async def test_presigned_upload_completes_into_a_processed_photo(world: Any) -> None:
    service, _, storage, _ = world
    me = scope_of()
    data = jpeg_bytes()
    ticket = await service.begin_upload(me, MediaKind.PHOTO, "image/jpeg", len(data))
    assert ticket.media.status == MediaStatus.PENDING
    with pytest.raises(UploadMissing):
        await service.complete_upload(me, ticket.media.id)
    storage.objects[f"uploads/{ticket.media.id}"] = data
    with pytest.raises(MediaNotFound):
        await service.complete_upload(scope_of(), ticket.media.id)
    view = await service.complete_upload(me, ticket.media.id)
    assert view.media.status == MediaStatus.READY
    assert f"uploads/{ticket.media.id}" not in storage.objects
    with pytest.raises(MediaNotPending):
        await service.complete_upload(me, ticket.media.id)


async def test_presigned_upload_of_other_bytes_is_rejected_with_reason(world: Any) -> None:
    service, uow, storage, _ = world
    me = scope_of()
    ticket = await service.begin_upload(me, MediaKind.PHOTO, "image/jpeg", 100)
    storage.objects[f"uploads/{ticket.media.id}"] = b"#!/bin/sh\necho pwned\n"
    with pytest.raises(UnsupportedMediaType):
        await service.complete_upload(me, ticket.media.id)
    media = uow.media.rows[ticket.media.id]
    assert media.status == MediaStatus.REJECTED
    assert media.rejection_reason == "media.unsupported_type"
    assert f"uploads/{ticket.media.id}" not in storage.objects


async def test_presigned_upload_larger_than_announced_is_rejected(world: Any) -> None:
    service, uow, storage, _ = world
    me = scope_of()
    ticket = await service.begin_upload(me, MediaKind.PHOTO, "image/jpeg", 10)
    storage.objects[f"uploads/{ticket.media.id}"] = jpeg_bytes()
    with pytest.raises(MediaTooLarge):
        await service.complete_upload(me, ticket.media.id)
    assert uow.media.rows[ticket.media.id].status == MediaStatus.REJECTED


async def test_begin_upload_checks_kind_type_and_size(world: Any) -> None:
    service, _, _, _ = world
    me = scope_of()
    with pytest.raises(MediaTooLarge):
        await service.begin_upload(me, MediaKind.VIDEO, "video/mp4", 50 * 1024 * 1024 + 1)
    with pytest.raises(UnsupportedMediaType):
        await service.begin_upload(me, MediaKind.PHOTO, "image/gif", 10)
    with pytest.raises(UnsupportedMediaType):
        await service.begin_upload(me, MediaKind.PHOTO, "video/mp4", 10)
