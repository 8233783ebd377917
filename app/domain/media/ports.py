"""Ports of the media context: object storage, byte processing, repository, visibility."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from app.domain.media.model import Attachment, MediaKind, MediaObject
from app.domain.shared.clock import Clock
from app.domain.shared.scope import Scope
from app.domain.shared.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class PresignedUpload:
    url: str
    method: str
    headers: dict[str, str] = field(default_factory=dict)


class MediaStorage(Protocol):
    """Object storage for media bytes (a local directory, or S3-compatible)."""

    async def put(self, key: str, data: bytes, content_type: str) -> None: ...

    async def get(self, key: str) -> bytes | None:
        """The object's bytes, or None when there is no such object."""
        ...

    def stream(self, key: str) -> AsyncIterator[bytes]:
        """The object's bytes in chunks (raises ``MediaNotFound`` if missing)."""
        ...

    async def size(self, key: str) -> int | None:
        """The stored size, or None when there is no such object (checked before fetching)."""
        ...

    async def delete(self, key: str) -> None: ...

    async def presign_put(
        self, key: str, content_type: str, max_size: int, ttl_seconds: int
    ) -> PresignedUpload: ...

    async def url_for(self, key: str, ttl_seconds: int) -> str:
        """A signed URL from which anyone holding it may GET the object until it expires."""
        ...


class SignedFileGate(Protocol):
    """Checks the signatures of URLs the API itself serves (the local storage adapter)."""

    def allows_get(self, key: str, exp: int, sig: str) -> bool: ...

    def allows_put(
        self, key: str, exp: int, sig: str, content_type: str, max_size: int
    ) -> bool: ...


class NoSignedFiles:
    """The gate when storage serves its own URLs (S3): the API serves no files."""

    def allows_get(self, key: str, exp: int, sig: str) -> bool:
        return False

    def allows_put(self, key: str, exp: int, sig: str, content_type: str, max_size: int) -> bool:
        return False


@dataclass(frozen=True, slots=True)
class Sniffed:
    kind: MediaKind
    content_type: str


@dataclass(frozen=True, slots=True)
class Processed:
    """Bytes ready to store: photos re-encoded without metadata, plus a thumbnail."""

    content_type: str
    data: bytes
    width: int | None = None
    height: int | None = None
    thumbnail: bytes | None = None
    thumbnail_content_type: str | None = None
    # 64-bit perceptual hash (signed, as stored) of photos with detail; else None.
    phash: int | None = None


class MediaProcessor(Protocol):
    def sniff(self, data: bytes) -> Sniffed:
        """The kind and content type from the bytes; raises ``UnsupportedMediaType``."""
        ...

    async def process(self, sniffed: Sniffed, data: bytes, max_pixels: int) -> Processed:
        """CPU-heavy work off the event loop; raises ``PixelBomb``/``UnreadableMedia``."""
        ...


class MediaRepository(Protocol):
    async def add(self, media: MediaObject) -> None: ...

    async def get(self, media_id: uuid.UUID, *, for_update: bool = False) -> MediaObject | None:
        """Unscoped load; the service applies the visibility rule."""
        ...

    async def get_many(self, media_ids: Sequence[uuid.UUID]) -> list[MediaObject]: ...

    async def owned_for_update(
        self, owner_account_id: uuid.UUID, media_ids: Sequence[uuid.UUID]
    ) -> list[MediaObject]:
        """Objects of ``media_ids`` uploaded by the owner, locked for the transaction."""
        ...

    async def attached_to(self, attachment: Attachment) -> list[MediaObject]: ...

    async def update(self, media: MediaObject) -> None:
        """Save with optimistic concurrency (``StaleVersion`` if it changed meanwhile)."""
        ...


class MediaUnitOfWork(UnitOfWork, Protocol):
    """Any unit of work with a media repository: other contexts' units (e.g. tips) add
    one on their own session so ``attach_media`` joins their transaction."""

    media: MediaRepository
    clock: Clock


class MediaVisibility(Protocol):
    """Decides whether ``scope`` may see media attached to a record of one type; the
    context owning the record type registers one (e.g. tips: the reporter and the
    officers of the station the tip was routed to)."""

    async def can_see(self, scope: Scope, attachment: Attachment) -> bool: ...
