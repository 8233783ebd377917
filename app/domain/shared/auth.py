"""Port through which the doors turn a bearer token into the caller's Scope."""

from __future__ import annotations

from typing import Protocol

from app.domain.shared.scope import Scope


class Authenticator(Protocol):
    async def authenticate(self, access_token: str, *, request_id: str | None) -> Scope:
        """Verify the token and load roles and jurisdiction from the database.

        Raises ``Unauthenticated`` for a missing, expired, revoked or malformed token.
        """
        ...
