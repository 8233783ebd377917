"""Media in a local directory, served back by the API through signed, expiring URLs.

A URL carries ``exp`` (unix seconds) and ``sig`` = HMAC-SHA256(secret, method|key|exp...);
whoever holds it may fetch (or, for an upload URL, PUT) that one object until it expires.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlencode

from app.domain.media.model import MediaNotFound
from app.domain.media.ports import PresignedUpload
from app.domain.shared.clock import Clock

CHUNK = 256 * 1024
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*$")


def valid_key(key: str) -> bool:
    return bool(_KEY.match(key)) and ".." not in key and len(key) <= 200


class LocalMediaStorage:
    def __init__(
        self, root: Path, secret: bytes, clock: Clock, *, base_path: str = "/api/v1/media"
    ) -> None:
        self.root = root
        self._secret = secret
        self._clock = clock
        self._base = base_path.rstrip("/")

    # --- storage port -------------------------------------------------------------------

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(_write_atomically, self._path(key), data)

    async def get(self, key: str) -> bytes | None:
        path = self._path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            return None

    async def stream(self, key: str) -> AsyncIterator[bytes]:
        path = self._path(key)
        try:
            handle = await asyncio.to_thread(path.open, "rb")
        except FileNotFoundError:
            raise MediaNotFound() from None
        try:
            while chunk := await asyncio.to_thread(handle.read, CHUNK):
                yield chunk
        finally:
            await asyncio.to_thread(handle.close)

    async def size(self, key: str) -> int | None:
        path = self._path(key)
        try:
            return (await asyncio.to_thread(path.stat)).st_size
        except FileNotFoundError:
            return None

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._path(key).unlink, missing_ok=True)

    async def presign_put(
        self, key: str, content_type: str, max_size: int, ttl_seconds: int
    ) -> PresignedUpload:
        exp = self._expiry(ttl_seconds)
        sig = self._sign("PUT", key, exp, content_type, str(max_size))
        query = urlencode({"exp": exp, "max": max_size, "sig": sig})
        return PresignedUpload(
            url=f"{self._base}/{key}?{query}", method="PUT", headers={"Content-Type": content_type}
        )

    async def url_for(self, key: str, ttl_seconds: int) -> str:
        exp = self._expiry(ttl_seconds)
        query = urlencode({"exp": exp, "sig": self._sign("GET", key, exp)})
        return f"{self._base}/files/{key}?{query}"

    # --- signed file gate ---------------------------------------------------------------

    def allows_get(self, key: str, exp: int, sig: str) -> bool:
        return self._valid(sig, exp, key, "GET", key, exp)

    def allows_put(self, key: str, exp: int, sig: str, content_type: str, max_size: int) -> bool:
        return self._valid(sig, exp, key, "PUT", key, exp, content_type, str(max_size))

    # --- helpers ------------------------------------------------------------------------

    def _valid(self, sig: str, exp: int, key: str, *parts: object) -> bool:
        if not valid_key(key) or exp < int(self._clock.now().timestamp()):
            return False
        return hmac.compare_digest(self._sign(*parts), sig)

    def _expiry(self, ttl_seconds: int) -> int:
        return int(self._clock.now().timestamp()) + ttl_seconds

    def _sign(self, *parts: object) -> str:
        message = "\n".join(str(p) for p in parts).encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def _path(self, key: str) -> Path:
        if not valid_key(key):
            raise MediaNotFound()
        return self.root / key


def _write_atomically(path: Path, data: bytes) -> None:
    """A reader never sees half a file: write a temporary sibling, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
