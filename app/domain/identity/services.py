"""Use cases around sessions (refresh, logout) and the caller's own account."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Final

from app.domain.identity.errors import AccountNotFound, RefreshTokenInvalid
from app.domain.identity.model import (
    Account,
    AccountKind,
    AccountView,
    ClientInfo,
    SignInMethod,
    TokenPair,
    anonymous_scope,
)
from app.domain.identity.ports import (
    AccessTokenCodec,
    IdentityUnitOfWork,
    NoPrincipalChanges,
    PrincipalChanges,
)
from app.domain.identity.sessions import (
    AuthSession,
    RefreshToken,
    RevokeReason,
    hash_refresh_secret,
    new_refresh_secret,
)
from app.domain.shared.clock import Clock
from app.domain.shared.events import DomainEvent
from app.domain.shared.ids import new_id
from app.domain.shared.personal_data import mask_phone
from app.domain.shared.protection import FieldCipher
from app.domain.shared.scope import Scope

UowFactory = Callable[[Scope], IdentityUnitOfWork]

PHONE_CONTEXT: Final = "account.phone"
PHONE_PURPOSE: Final = "phone"
IP_PURPOSE: Final = "ip"
USERNAME_PURPOSE: Final = "username"
_MAX_USER_AGENT: Final = 200


def account_created(account: Account, method: SignInMethod | None, at: datetime) -> DomainEvent:
    payload: dict[str, str] = {"kind": account.kind.value}
    if method is not None:
        payload["method"] = method.value
    return DomainEvent("account.created", "account", account.id, at, payload)


class SessionIssuer:
    """Starts sessions and mints token pairs inside the caller's unit of work."""

    def __init__(self, tokens: AccessTokenCodec, refresh_ttl: timedelta) -> None:
        self._tokens = tokens
        self._refresh_ttl = refresh_ttl

    async def start(
        self,
        uow: IdentityUnitOfWork,
        account: Account,
        method: SignInMethod,
        client: ClientInfo,
        at: datetime,
    ) -> TokenPair:
        agent = (client.user_agent or "")[:_MAX_USER_AGENT] or None
        session = AuthSession(new_id(), account.id, method, at, user_agent=agent)
        await uow.sessions.add_session(session)
        pair = await self.issue(uow, session, at)
        # Sign-in events name the account and the method, never the phone or username.
        uow.audit_as(
            account.id,
            account.kind.value,
            "auth.signed_in",
            "account",
            account.id,
            {"method": method.value, "session_id": session.id},
        )
        return pair

    async def issue(self, uow: IdentityUnitOfWork, session: AuthSession, at: datetime) -> TokenPair:
        secret = new_refresh_secret()
        await uow.sessions.add_token(
            RefreshToken(
                id=new_id(),
                session_id=session.id,
                token_hash=hash_refresh_secret(secret),
                issued_at=at,
                expires_at=at + self._refresh_ttl,
            )
        )
        access = self._tokens.issue(session.account_id, session.id, at)
        return TokenPair(
            access_token=access, refresh_token=secret, expires_in=self._tokens.ttl_seconds
        )


class SessionService:
    def __init__(
        self,
        uow_factory: UowFactory,
        clock: Clock,
        issuer: SessionIssuer,
        changes: PrincipalChanges | None = None,
    ) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._issuer = issuer
        self._changes = changes or NoPrincipalChanges()

    async def refresh(self, refresh_token: str, client: ClientInfo) -> TokenPair:
        """Rotate: the presented token is spent and a new pair issued. Presenting a spent
        token again means it was copied: the whole session is revoked."""
        now = self._clock.now()
        async with self._uow(anonymous_scope(client.request_id)) as uow:
            token = await uow.sessions.token_by_hash(hash_refresh_secret(refresh_token))
            if token is None:
                raise RefreshTokenInvalid()
            session = await uow.sessions.session(token.session_id)
            if session is None or session.revoked:
                raise RefreshTokenInvalid()
            if token.rotated:
                session.revoke(RevokeReason.REUSE, now)
                await uow.sessions.save_session(session)
                uow.audit(
                    "session.revoked",
                    "auth_session",
                    session.id,
                    {"reason": RevokeReason.REUSE.value, "account_id": session.account_id},
                )
                await uow.commit()
                self._changes.changed(session.account_id)
                raise RefreshTokenInvalid()
            if token.expired(now):
                raise RefreshTokenInvalid()
            account = await uow.accounts.get(session.account_id)
            if account is None or not account.active:
                raise RefreshTokenInvalid()
            token.rotate(now)
            await uow.sessions.save_token(token)
            pair = await self._issuer.issue(uow, session, now)
            await uow.commit()
        return pair

    async def logout(self, refresh_token: str, client: ClientInfo) -> None:
        """End the session the token belongs to; unknown or ended sessions are a no-op."""
        now = self._clock.now()
        async with self._uow(anonymous_scope(client.request_id)) as uow:
            token = await uow.sessions.token_by_hash(hash_refresh_secret(refresh_token))
            session = await uow.sessions.session(token.session_id) if token else None
            if session is None or not session.revoke(RevokeReason.LOGOUT, now):
                return
            await uow.sessions.save_session(session)
            account = await uow.accounts.get(session.account_id)
            uow.audit_as(
                session.account_id,
                account.kind.value if account else AccountKind.RESIDENT.value,
                "session.revoked",
                "auth_session",
                session.id,
                {"reason": RevokeReason.LOGOUT.value},
            )
            await uow.commit()
        self._changes.changed(session.account_id)


class AccountService:
    def __init__(self, uow_factory: UowFactory, cipher: FieldCipher) -> None:
        self._uow = uow_factory
        self._cipher = cipher

    async def get_account(self, scope: Scope) -> AccountView:
        """The caller's own account, phone masked (``GET /me`` builds on this)."""
        async with self._uow(scope) as uow:
            account = await uow.accounts.get(scope.account_id)
            if account is None:
                raise AccountNotFound()
            roles = await uow.accounts.roles_of(account.id)
            sealed = await uow.accounts.phone_of(account.id)
            wechat = await uow.accounts.has_wechat(account.id)
        phone = self._cipher.open(sealed, context=PHONE_CONTEXT) if sealed else None
        return AccountView(
            id=account.id,
            kind=account.kind,
            display_name=account.display_name,
            status=account.status,
            roles=tuple(roles),
            masked_phone=mask_phone(phone) if phone else None,
            wechat_bound=wechat,
            created_at=account.created_at,
        )
