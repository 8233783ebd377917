"""Ports of the identity context: repositories (inside the unit of work), the principal
reader behind the authenticator, password hashing and access tokens."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from app.domain.identity.model import (
    Account,
    AccountStatus,
    OfficerView,
    OrgUnitRef,
    RoleBinding,
    RoleView,
)
from app.domain.identity.otp import OtpChallenge
from app.domain.identity.sessions import AuthSession, RefreshToken, RevokeReason
from app.domain.shared.protection import Sealed
from app.domain.shared.scope import Role, Scope
from app.domain.shared.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class OfficerCredentials:
    account_id: uuid.UUID
    username: str
    password_hash: str


class UnitReader(Protocol):
    async def by_code(self, scope: Scope, code: str) -> OrgUnitRef | None:
        """The unit with this code if it lies in ``scope`` (operator scope: any unit)."""
        ...


class AccountRepository(Protocol):
    async def add(self, account: Account) -> None: ...

    async def get(self, account_id: uuid.UUID, *, for_update: bool = False) -> Account | None:
        """By id, unscoped: callers pass their own id or one they found through a scope."""
        ...

    async def save(self, account: Account) -> None:
        """Persist status/display name if ``account.version`` is still current (else
        ``StaleVersion``) and bump the version."""
        ...

    async def add_role(
        self, account_id: uuid.UUID, role: Role, unit_id: uuid.UUID | None, granted_by: uuid.UUID
    ) -> None: ...

    async def roles_of(self, account_id: uuid.UUID) -> list[RoleView]: ...

    async def by_phone_index(self, phone_index: bytes) -> Account | None: ...

    async def add_phone(
        self, account_id: uuid.UUID, phone_index: bytes, sealed: Sealed
    ) -> None: ...

    async def phone_of(self, account_id: uuid.UUID) -> Sealed | None: ...

    async def by_wechat(self, appid: str, openid: str) -> Account | None: ...

    async def add_wechat(
        self, account_id: uuid.UUID, appid: str, openid: str, unionid: str | None
    ) -> None: ...

    async def has_wechat(self, account_id: uuid.UUID) -> bool: ...


class OfficerRepository(Protocol):
    async def credentials(self, username: str) -> OfficerCredentials | None: ...

    async def username_taken(self, username: str) -> bool: ...

    async def add_credentials(self, credentials: OfficerCredentials, at: datetime) -> None: ...

    async def set_password_hash(self, account_id: uuid.UUID, password_hash: str) -> None: ...

    async def get(self, scope: Scope, account_id: uuid.UUID) -> OfficerView | None:
        """An officer with a role bound inside ``scope``."""
        ...

    async def page(
        self, scope: Scope, *, limit: int, before: uuid.UUID | None
    ) -> list[OfficerView]:
        """Officers inside ``scope``, newest first (id DESC), ids below ``before``."""
        ...


class OtpRepository(Protocol):
    async def send_times(
        self, phone_index: bytes, ip_index: bytes, since: datetime
    ) -> tuple[list[datetime], list[datetime]]:
        """Times of sends after ``since``: (for this phone, from this IP)."""
        ...

    async def record_send(self, phone_index: bytes, ip_index: bytes, at: datetime) -> None: ...

    async def close_open(self, phone_index: bytes, at: datetime) -> None:
        """Supersede every open challenge of this phone."""
        ...

    async def add(self, challenge: OtpChallenge) -> None: ...

    async def latest_open(self, phone_index: bytes) -> OtpChallenge | None:
        """The newest not-closed challenge of the phone, locked for update."""
        ...

    async def save(self, challenge: OtpChallenge) -> None: ...


class LoginAttemptRepository(Protocol):
    async def failure_times(
        self, username_index: bytes, ip_index: bytes, since: datetime
    ) -> tuple[list[datetime], list[datetime]]: ...

    async def add(
        self, attempt_id: uuid.UUID, username_index: bytes, ip_index: bytes, at: datetime
    ) -> None: ...

    async def clear_username(self, username_index: bytes) -> None:
        """Forget failures for a username after its owner signed in."""
        ...


class SessionRepository(Protocol):
    async def add_session(self, session: AuthSession) -> None: ...

    async def add_token(self, token: RefreshToken) -> None: ...

    async def token_by_hash(self, token_hash: bytes) -> RefreshToken | None:
        """Locked for update: two refreshes with one token are serialised here."""
        ...

    async def session(self, session_id: uuid.UUID) -> AuthSession | None:
        """Locked for update."""
        ...

    async def save_token(self, token: RefreshToken) -> None: ...

    async def save_session(self, session: AuthSession) -> None: ...

    async def revoke_account_sessions(
        self, account_id: uuid.UUID, reason: RevokeReason, at: datetime
    ) -> list[uuid.UUID]:
        """Revoke every live session of the account; the ids revoked."""
        ...


class IdentityUnitOfWork(UnitOfWork, Protocol):
    @property
    def accounts(self) -> AccountRepository: ...

    @property
    def officers(self) -> OfficerRepository: ...

    @property
    def units(self) -> UnitReader: ...

    @property
    def otp(self) -> OtpRepository: ...

    @property
    def login_attempts(self) -> LoginAttemptRepository: ...

    @property
    def sessions(self) -> SessionRepository: ...

    async def serialize(self, *keys: bytes) -> None:
        """Hold transaction-scoped locks on these keys (in a canonical order), so racing
        requests about the same phone, IP or username are decided one after another."""
        ...

    def audit_as(
        self,
        actor_id: uuid.UUID,
        actor_role: str,
        action: str,
        record_type: str,
        record_id: uuid.UUID | None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Audit with an explicit actor: at sign-in the actor is only known mid-way."""
        ...


@dataclass(frozen=True, slots=True)
class Principal:
    account_id: uuid.UUID
    status: AccountStatus
    session_revoked: bool
    bindings: tuple[RoleBinding, ...]


class PrincipalReader(Protocol):
    async def load(self, account_id: uuid.UUID, session_id: uuid.UUID) -> Principal | None:
        """The account, its session ``session_id`` and its roles (with the stations of
        district-bound units); ``None`` when the session is not this account's."""
        ...


class PrincipalChanges(Protocol):
    """Told, after the commit, that an account's status, sessions or roles changed, so a
    principal cached in this process is dropped before the next request reads it (other
    processes learn it from the database)."""

    def changed(self, account_id: uuid.UUID) -> None: ...


class NoPrincipalChanges:
    """Nothing is cached: nothing to drop."""

    def changed(self, account_id: uuid.UUID) -> None:
        return None


class PasswordHasher(Protocol):
    """Slow by design; implementations run off the event loop."""

    async def hash(self, password: str) -> str: ...

    async def verify(self, password_hash: str, password: str) -> bool: ...

    def needs_rehash(self, password_hash: str) -> bool: ...

    async def dummy_verify(self, password: str) -> None:
        """Spend the time of a real verification (unknown usernames)."""
        ...


@dataclass(frozen=True, slots=True)
class AccessClaims:
    account_id: uuid.UUID
    session_id: uuid.UUID
    token_id: str
    expires_at: datetime


class AccessTokenCodec(Protocol):
    @property
    def ttl_seconds(self) -> int: ...

    def issue(self, account_id: uuid.UUID, session_id: uuid.UUID, now: datetime) -> str: ...

    def decode(self, token: str, now: datetime) -> AccessClaims:
        """Raises ``AccessTokenInvalid`` for anything but a valid, unexpired token of ours."""
        ...
