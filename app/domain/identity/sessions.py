"""Sign-in sessions (token families) and their rotating, opaque refresh tokens."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from app.domain.identity.model import SignInMethod


class RevokeReason(StrEnum):
    LOGOUT = "logout"
    REUSE = "refresh_token_reuse"
    ACCOUNT_DISABLED = "account_disabled"


def new_refresh_secret() -> str:
    return secrets.token_urlsafe(32)


def hash_refresh_secret(secret: str) -> bytes:
    """Refresh tokens carry 256 random bits, so a plain SHA-256 suffices to store them."""
    return hashlib.sha256(secret.encode("utf-8")).digest()


@dataclass
class AuthSession:
    """One sign-in on one device: every refresh token rotated from it belongs here, and its
    id is the ``sid`` claim of every access token issued for it."""

    id: uuid.UUID
    account_id: uuid.UUID
    method: SignInMethod
    created_at: datetime
    user_agent: str | None = None
    revoked_at: datetime | None = None
    revoke_reason: RevokeReason | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def revoke(self, reason: RevokeReason, at: datetime) -> bool:
        """``True`` when this call revoked it (it was live)."""
        if self.revoked_at is not None:
            return False
        self.revoked_at = at
        self.revoke_reason = reason
        return True


@dataclass
class RefreshToken:
    id: uuid.UUID
    session_id: uuid.UUID
    token_hash: bytes
    issued_at: datetime
    expires_at: datetime
    rotated_at: datetime | None = None

    @property
    def rotated(self) -> bool:
        return self.rotated_at is not None

    def expired(self, at: datetime) -> bool:
        return at >= self.expires_at

    def rotate(self, at: datetime) -> None:
        self.rotated_at = at
