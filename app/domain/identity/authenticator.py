"""The ``Authenticator`` port of app.domain.shared.auth: bearer token in, Scope out.

The token only names the account and the session; whether the session is live, whether
the account is enabled and which jurisdiction it has are read from the database on every
request, so revocation and disabling take effect at once.
"""

from __future__ import annotations

from app.domain.identity.errors import AccessTokenInvalid
from app.domain.identity.model import AccountStatus, scope_from_bindings
from app.domain.identity.ports import AccessTokenCodec, PrincipalReader
from app.domain.shared.clock import Clock
from app.domain.shared.scope import Scope


class TokenAuthenticator:
    def __init__(self, tokens: AccessTokenCodec, principals: PrincipalReader, clock: Clock) -> None:
        self._tokens = tokens
        self._principals = principals
        self._clock = clock

    async def authenticate(self, access_token: str, *, request_id: str | None) -> Scope:
        claims = self._tokens.decode(access_token, self._clock.now())
        principal = await self._principals.load(claims.account_id, claims.session_id)
        if (
            principal is None
            or principal.session_revoked
            or principal.status != AccountStatus.ACTIVE
        ):
            raise AccessTokenInvalid()
        return scope_from_bindings(
            principal.account_id,
            principal.bindings,
            session_id=claims.session_id,
            request_id=request_id,
        )
