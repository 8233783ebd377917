"""Argon2id password hashing (argon2-cffi), run in worker threads.

Hashing is deliberately slow (tens of milliseconds, 64 MiB), so every call goes through
``asyncio.to_thread`` and never blocks the event loop.
"""

from __future__ import annotations

import asyncio
import secrets

from argon2 import PasswordHasher as Argon2Hasher
from argon2 import Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


class Argon2PasswordHasher:
    def __init__(self, hasher: Argon2Hasher | None = None) -> None:
        # argon2-cffi's defaults are RFC 9106's second recommended option (Argon2id,
        # t=3, m=64 MiB, p=4); tests may pass cheaper parameters.
        self._hasher = hasher or Argon2Hasher()
        if self._hasher.type is not Type.ID:
            raise ValueError("only Argon2id is allowed")
        self._dummy: str | None = None

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        return await asyncio.to_thread(self._verify, password_hash, password)

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True

    async def dummy_verify(self, password: str) -> None:
        """Verify against a throwaway hash made with the current parameters, so unknown
        usernames take as long as known ones."""
        if self._dummy is None:
            self._dummy = await self.hash(secrets.token_urlsafe(16))
        await self.verify(self._dummy, password)
