"""Serving and receiving media bytes through URLs the API signed itself (local storage):
the signature is the permission, so these calls take no Scope."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

from app.domain.media.model import CONTENT_TYPES, InvalidSignedUrl, MediaNotFound, MediaTooLarge
from app.domain.media.ports import MediaStorage, SignedFileGate


@dataclass(frozen=True, slots=True)
class FileStream:
    content_type: str
    size: int
    chunks: AsyncIterator[bytes]


class SignedFiles:
    def __init__(self, storage: MediaStorage, gate: SignedFileGate) -> None:
        self.storage = storage
        self.gate = gate

    async def open(self, key: str, exp: int, sig: str) -> FileStream:
        if not self.gate.allows_get(key, exp, sig):
            raise InvalidSignedUrl()
        size = await self.storage.size(key)
        if size is None:
            raise MediaNotFound()
        ext = key.rsplit(".", 1)[-1]
        content_type = CONTENT_TYPES.get(ext, "application/octet-stream")
        return FileStream(content_type, size, self.storage.stream(key))

    async def receive(
        self,
        media_id: uuid.UUID,
        exp: int,
        sig: str,
        content_type: str,
        max_size: int,
        chunks: AsyncIterator[bytes],
    ) -> None:
        """Store an upload sent to a signed PUT URL, refusing it as soon as it grows past
        the size that was signed."""
        key = f"uploads/{media_id}"
        if not self.gate.allows_put(key, exp, sig, content_type, max_size):
            raise InvalidSignedUrl()
        body = bytearray()
        async for chunk in chunks:
            body += chunk
            if len(body) > max_size:
                raise MediaTooLarge()
        await self.storage.put(key, bytes(body), content_type)
