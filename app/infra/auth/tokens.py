"""Access tokens: HS256 JWTs (PyJWT) naming the account (``sub``) and session (``sid``).

Decoding pins the algorithm list, issuer and audience and requires every claim we issue.
Times are checked against the injected clock (not the machine's), with a small leeway.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import jwt

from app.domain.identity.errors import AccessTokenInvalid
from app.domain.identity.ports import AccessClaims

ALGORITHM = "HS256"
LEEWAY = timedelta(seconds=10)
_REQUIRED = ["iss", "aud", "sub", "exp", "iat", "jti", "sid"]
MAX_TTL_SECONDS = 900
VERIFIED_CACHE_SIZE = 10_000


class JwtAccessTokens:
    def __init__(self, *, secret: str, issuer: str, audience: str, ttl_seconds: int) -> None:
        if not 0 < ttl_seconds <= MAX_TTL_SECONDS:
            raise ValueError("access tokens live at most 15 minutes")
        if len(secret) < 32:
            raise ValueError("the JWT secret must have at least 32 characters")
        self._secret = secret
        self._issuer = issuer
        self._audience = audience
        self._ttl = ttl_seconds
        # token -> (claims, issued at); insertion-ordered, oldest dropped first.
        self._verified: dict[str, tuple[AccessClaims, datetime]] = {}

    def __repr__(self) -> str:  # keep the secret out of tracebacks
        return f"JwtAccessTokens(issuer={self._issuer!r}, audience={self._audience!r})"

    @property
    def ttl_seconds(self) -> int:
        return self._ttl

    def issue(self, account_id: uuid.UUID, session_id: uuid.UUID, now: datetime) -> str:
        issued = int(now.timestamp())
        claims = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": str(account_id),
            "sid": str(session_id),
            "jti": uuid.uuid4().hex,
            "iat": issued,
            "exp": issued + self._ttl,
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def decode(self, token: str, now: datetime) -> AccessClaims:
        """Verified claims are remembered per token string (a token cannot change, only
        expire), so a client's repeated requests skip the signature and claim checks;
        the time checks run every time."""
        verified = self._verified.get(token)
        if verified is None:
            verified = self._verify(token)
            if len(self._verified) >= VERIFIED_CACHE_SIZE:
                self._verified.pop(next(iter(self._verified)))  # the oldest entry
            self._verified[token] = verified
        claims, issued = verified
        if now >= claims.expires_at + LEEWAY or issued > now + LEEWAY:
            raise AccessTokenInvalid()
        return claims

    def _verify(self, token: str) -> tuple[AccessClaims, datetime]:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                # Times are checked below against the injected clock.
                options={
                    "require": _REQUIRED,
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
            expires = datetime.fromtimestamp(int(claims["exp"]), UTC)
            issued = datetime.fromtimestamp(int(claims["iat"]), UTC)
            account_id = uuid.UUID(str(claims["sub"]))
            session_id = uuid.UUID(str(claims["sid"]))
            token_id = str(claims["jti"])
        except (jwt.PyJWTError, ValueError, TypeError, OverflowError):
            raise AccessTokenInvalid() from None
        if expires - issued > timedelta(seconds=MAX_TTL_SECONDS):
            raise AccessTokenInvalid()
        claims_out = AccessClaims(
            account_id=account_id, session_id=session_id, token_id=token_id, expires_at=expires
        )
        return claims_out, issued
