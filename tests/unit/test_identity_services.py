"""Identity use cases against in-memory fakes of the ports (no database)."""

from __future__ import annotations

import copy
import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Self

import pytest

from app.domain.identity.authenticator import TokenAuthenticator
from app.domain.identity.errors import (
    AccessTokenInvalid,
    AccountDisabled,
    InvalidCredentials,
    OfficerNotFound,
    OtpInvalid,
    RefreshTokenInvalid,
    UnitNotFound,
    UsernameTaken,
)
from app.domain.identity.gateways import SmsDeliveryFailed, WeChatCodeInvalid, WeChatIdentity
from app.domain.identity.model import (
    Account,
    AccountStatus,
    ClientInfo,
    OfficerView,
    OrgUnitRef,
    RoleBinding,
    RoleView,
    UnitLevel,
)
from app.domain.identity.officers import NewOfficer, OfficerService
from app.domain.identity.otp import ChallengeClosed, OtpChallenge
from app.domain.identity.ports import AccessClaims, OfficerCredentials, Principal
from app.domain.identity.services import AccountService, SessionIssuer, SessionService
from app.domain.identity.sessions import AuthSession, RefreshToken, RevokeReason
from app.domain.identity.signin import SignInService
from app.domain.identity.throttle import LoginRateLimited, OtpRateLimited
from app.domain.shared.clock import FixedClock
from app.domain.shared.errors import InvalidInput, NotAllowed, StaleVersion
from app.domain.shared.events import DomainEvent
from app.domain.shared.protection import Sealed
from app.domain.shared.scope import Role, Scope, system_scope

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
PASSWORD = "Correct-Horse-9-battery"


# --- fakes ---------------------------------------------------------------------------------


@dataclass
class Data:
    accounts: dict[uuid.UUID, Account] = field(default_factory=dict)
    roles: dict[uuid.UUID, list[RoleView]] = field(default_factory=dict)
    phones: dict[bytes, uuid.UUID] = field(default_factory=dict)
    sealed: dict[uuid.UUID, Sealed] = field(default_factory=dict)
    wechat: dict[tuple[str, str], uuid.UUID] = field(default_factory=dict)
    credentials: dict[str, OfficerCredentials] = field(default_factory=dict)
    units: dict[str, OrgUnitRef] = field(default_factory=dict)
    challenges: dict[uuid.UUID, OtpChallenge] = field(default_factory=dict)
    sends: list[tuple[bytes, bytes, datetime]] = field(default_factory=list)
    attempts: list[tuple[bytes, bytes, datetime]] = field(default_factory=list)
    sessions: dict[uuid.UUID, AuthSession] = field(default_factory=dict)
    tokens: dict[bytes, RefreshToken] = field(default_factory=dict)


@dataclass
class Store:
    data: Data = field(default_factory=Data)
    audits: list[dict[str, Any]] = field(default_factory=list)
    events: list[DomainEvent] = field(default_factory=list)
    commits: int = 0

    def actions(self) -> list[str]:
        return [a["action"] for a in self.audits]


def _sees(scope: Scope, grant: RoleView) -> bool:
    return scope.sees_station(grant.station_id, grant.district_id)


class Repos:
    """Every repository port over one ``Data`` (the fakes are small enough for one class)."""

    def __init__(self, d: Data) -> None:
        self.d = d

    # accounts
    async def add(self, account: Account) -> None:
        self.d.accounts[account.id] = copy.copy(account)

    async def get(self, account_id: uuid.UUID, *, for_update: bool = False) -> Account | None:
        found = self.d.accounts.get(account_id)
        return copy.copy(found) if found else None

    async def save(self, account: Account) -> None:
        if self.d.accounts[account.id].version != account.version:
            raise StaleVersion()
        account.version += 1
        self.d.accounts[account.id] = copy.copy(account)

    async def add_role(
        self, account_id: uuid.UUID, role: Role, unit_id: uuid.UUID | None, granted_by: uuid.UUID
    ) -> None:
        unit = next((u for u in self.d.units.values() if u.id == unit_id), None)
        view = RoleView(role)
        if unit is not None:
            view = RoleView(
                role, unit.id, unit.code, unit.name, unit.level, unit.station_id, unit.district_id
            )
        self.d.roles.setdefault(account_id, []).append(view)

    async def roles_of(self, account_id: uuid.UUID) -> list[RoleView]:
        return list(self.d.roles.get(account_id, []))

    async def by_phone_index(self, phone_index: bytes) -> Account | None:
        account_id = self.d.phones.get(phone_index)
        return await self.get(account_id) if account_id else None

    async def add_phone(self, account_id: uuid.UUID, phone_index: bytes, sealed: Sealed) -> None:
        self.d.phones[phone_index] = account_id
        self.d.sealed[account_id] = sealed

    async def phone_of(self, account_id: uuid.UUID) -> Sealed | None:
        return self.d.sealed.get(account_id)

    async def by_wechat(self, appid: str, openid: str) -> Account | None:
        account_id = self.d.wechat.get((appid, openid))
        return await self.get(account_id) if account_id else None

    async def add_wechat(
        self, account_id: uuid.UUID, appid: str, openid: str, unionid: str | None
    ) -> None:
        self.d.wechat[(appid, openid)] = account_id

    async def has_wechat(self, account_id: uuid.UUID) -> bool:
        return account_id in self.d.wechat.values()


class Officers:
    def __init__(self, d: Data) -> None:
        self.d = d

    async def credentials(self, username: str) -> OfficerCredentials | None:
        return self.d.credentials.get(username)

    async def username_taken(self, username: str) -> bool:
        return username in self.d.credentials

    async def add_credentials(self, credentials: OfficerCredentials, at: datetime) -> None:
        self.d.credentials[credentials.username] = credentials

    async def set_password_hash(self, account_id: uuid.UUID, password_hash: str) -> None:
        for name, creds in self.d.credentials.items():
            if creds.account_id == account_id:
                self.d.credentials[name] = OfficerCredentials(account_id, name, password_hash)

    def _view(self, creds: OfficerCredentials) -> OfficerView:
        a = self.d.accounts[creds.account_id]
        roles = tuple(self.d.roles.get(a.id, []))
        return OfficerView(
            a.id, creds.username, a.display_name, a.status, roles, a.created_at, a.version
        )

    async def get(self, scope: Scope, account_id: uuid.UUID) -> OfficerView | None:
        for view in await self.page(scope, limit=1000, before=None):
            if view.id == account_id:
                return view
        return None

    async def page(
        self, scope: Scope, *, limit: int, before: uuid.UUID | None
    ) -> list[OfficerView]:
        views = [self._view(c) for c in self.d.credentials.values()]
        visible = [v for v in views if any(_sees(scope, g) for g in v.roles)]
        visible = [v for v in visible if before is None or v.id < before]
        return sorted(visible, key=lambda v: v.id, reverse=True)[:limit]


class Units:
    def __init__(self, d: Data) -> None:
        self.d = d

    async def by_code(self, scope: Scope, code: str) -> OrgUnitRef | None:
        unit = self.d.units.get(code)
        if unit is None or not scope.sees_station(unit.station_id, unit.district_id):
            return None
        return unit


class Otp:
    def __init__(self, d: Data) -> None:
        self.d = d

    async def send_times(
        self, phone_index: bytes, ip_index: bytes, since: datetime
    ) -> tuple[list[datetime], list[datetime]]:
        recent = [s for s in self.d.sends if s[2] > since]
        return [s[2] for s in recent if s[0] == phone_index], [
            s[2] for s in recent if s[1] == ip_index
        ]

    async def record_send(self, phone_index: bytes, ip_index: bytes, at: datetime) -> None:
        self.d.sends.append((phone_index, ip_index, at))

    async def close_open(self, phone_index: bytes, at: datetime) -> None:
        for c in self.d.challenges.values():
            if c.phone_index == phone_index and c.closed_at is None:
                c.close(ChallengeClosed.SUPERSEDED, at)

    async def add(self, challenge: OtpChallenge) -> None:
        self.d.challenges[challenge.id] = copy.copy(challenge)

    async def latest_open(self, phone_index: bytes) -> OtpChallenge | None:
        open_ = [
            c
            for c in self.d.challenges.values()
            if c.phone_index == phone_index and c.closed_at is None
        ]
        return copy.copy(max(open_, key=lambda c: c.created_at)) if open_ else None

    async def save(self, challenge: OtpChallenge) -> None:
        self.d.challenges[challenge.id] = copy.copy(challenge)


class Attempts:
    def __init__(self, d: Data) -> None:
        self.d = d

    async def failure_times(
        self, username_index: bytes, ip_index: bytes, since: datetime
    ) -> tuple[list[datetime], list[datetime]]:
        recent = [a for a in self.d.attempts if a[2] > since]
        return [a[2] for a in recent if a[0] == username_index], [
            a[2] for a in recent if a[1] == ip_index
        ]

    async def add(
        self, attempt_id: uuid.UUID, username_index: bytes, ip_index: bytes, at: datetime
    ) -> None:
        self.d.attempts.append((username_index, ip_index, at))

    async def clear_username(self, username_index: bytes) -> None:
        self.d.attempts = [a for a in self.d.attempts if a[0] != username_index]


class Sessions:
    def __init__(self, d: Data) -> None:
        self.d = d

    async def add_session(self, session: AuthSession) -> None:
        self.d.sessions[session.id] = copy.copy(session)

    async def add_token(self, token: RefreshToken) -> None:
        self.d.tokens[token.token_hash] = copy.copy(token)

    async def token_by_hash(self, token_hash: bytes) -> RefreshToken | None:
        found = self.d.tokens.get(token_hash)
        return copy.copy(found) if found else None

    async def session(self, session_id: uuid.UUID) -> AuthSession | None:
        found = self.d.sessions.get(session_id)
        return copy.copy(found) if found else None

    async def save_token(self, token: RefreshToken) -> None:
        self.d.tokens[token.token_hash] = copy.copy(token)

    async def save_session(self, session: AuthSession) -> None:
        self.d.sessions[session.id] = copy.copy(session)

    async def revoke_account_sessions(
        self, account_id: uuid.UUID, reason: RevokeReason, at: datetime
    ) -> list[uuid.UUID]:
        revoked = []
        for s in self.d.sessions.values():
            if s.account_id == account_id and s.revoke(reason, at):
                revoked.append(s.id)
        return revoked


class FakeUow:
    def __init__(self, store: Store, scope: Scope) -> None:
        self.store = store
        self.scope = scope
        self._audits: list[dict[str, Any]] = []
        self._events: list[DomainEvent] = []

    async def __aenter__(self) -> Self:
        self.work = copy.deepcopy(self.store.data)
        self.accounts = Repos(self.work)
        self.officers = Officers(self.work)
        self.units = Units(self.work)
        self.otp = Otp(self.work)
        self.login_attempts = Attempts(self.work)
        self.sessions = Sessions(self.work)
        return self

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    async def commit(self) -> None:
        self.store.data = self.work
        self.store.audits += self._audits
        self.store.events += self._events
        self.store.commits += 1

    async def rollback(self) -> None:
        return None

    async def serialize(self, *keys: bytes) -> None:
        return None

    def add_event(self, event: DomainEvent) -> None:
        self._events.append(event)

    def audit(
        self,
        action: str,
        record_type: str,
        record_id: uuid.UUID | None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        self.audit_as(
            self.scope.account_id, self.scope.primary_role, action, record_type, record_id, detail
        )

    def audit_as(
        self,
        actor_id: uuid.UUID,
        actor_role: str,
        action: str,
        record_type: str,
        record_id: uuid.UUID | None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        self._audits.append(
            {
                "actor_id": actor_id,
                "actor_role": actor_role,
                "action": action,
                "record_id": record_id,
                "detail": detail or {},
            }
        )


class Indexer:
    def index(self, value: str, *, purpose: str) -> bytes:
        return hashlib.sha256(f"{purpose}\x00{value}".encode()).digest()


class Cipher:
    def seal(self, plaintext: str, *, context: str) -> Sealed:
        return Sealed("k1", plaintext[::-1].encode())

    def open(self, sealed: Sealed, *, context: str) -> str:
        return sealed.ciphertext.decode()[::-1]


class Sms:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.fail = False

    async def send_otp(self, phone: str, code: str, ttl_minutes: int) -> None:
        if self.fail:
            raise SmsDeliveryFailed()
        self.sent.append((phone, code))

    def last(self, phone: str) -> str:
        return [c for p, c in self.sent if p == phone][-1]


class WeChat:
    async def exchange_code(self, code: str) -> WeChatIdentity:
        if code.startswith("bad"):
            raise WeChatCodeInvalid()
        return WeChatIdentity(openid="o-" + code.split("-")[0], unionid=None)


class Hasher:
    def __init__(self) -> None:
        self.dummy_calls = 0

    async def hash(self, password: str) -> str:
        return "new$" + password

    async def verify(self, password_hash: str, password: str) -> bool:
        return password_hash.split("$", 1)[1] == password

    def needs_rehash(self, password_hash: str) -> bool:
        return password_hash.startswith("old$")

    async def dummy_verify(self, password: str) -> None:
        self.dummy_calls += 1


class Tokens:
    ttl_seconds = 600

    def issue(self, account_id: uuid.UUID, session_id: uuid.UUID, now: datetime) -> str:
        return f"{account_id}|{session_id}|{int(now.timestamp()) + self.ttl_seconds}"

    def decode(self, token: str, now: datetime) -> AccessClaims:
        try:
            account, session, exp = token.split("|")
            expires = datetime.fromtimestamp(int(exp), UTC)
        except ValueError:
            raise AccessTokenInvalid() from None
        if now >= expires:
            raise AccessTokenInvalid()
        return AccessClaims(uuid.UUID(account), uuid.UUID(session), "j", expires)


class Principals:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def load(self, account_id: uuid.UUID, session_id: uuid.UUID) -> Principal | None:
        d = self.store.data
        session = d.sessions.get(session_id)
        if session is None or session.account_id != account_id:
            return None
        bindings = tuple(
            RoleBinding(r.role, r.unit_id, r.unit_level, r.station_id, r.district_id)
            for r in d.roles.get(account_id, [])
        )
        return Principal(account_id, d.accounts[account_id].status, session.revoked, bindings)


@dataclass
class World:
    store: Store
    clock: FixedClock
    sms: Sms
    hasher: Hasher
    signin: SignInService
    sessions: SessionService
    officers: OfficerService
    accounts: AccountService
    auth: TokenAuthenticator


@pytest.fixture
def world() -> World:
    store = Store()
    clock = FixedClock(T0)
    sms, hasher, tokens = Sms(), Hasher(), Tokens()

    def uow(scope: Scope) -> FakeUow:
        return FakeUow(store, scope)

    issuer = SessionIssuer(tokens, timedelta(days=30))
    return World(
        store=store,
        clock=clock,
        sms=sms,
        hasher=hasher,
        signin=SignInService(
            uow,
            clock,
            issuer,
            indexer=Indexer(),
            cipher=Cipher(),
            sms=sms,
            wechat=WeChat(),
            wechat_appid="wx-test",
            hasher=hasher,
        ),
        sessions=SessionService(uow, clock, issuer),
        officers=OfficerService(uow, clock, hasher),
        accounts=AccountService(uow, Cipher()),
        auth=TokenAuthenticator(tokens, Principals(store), clock),
    )


CLIENT = ClientInfo(ip="10.1.2.3", request_id="req-1")
PHONE = "13800138000"


async def _otp_sign_in(w: World, phone: str = PHONE, client: ClientInfo = CLIENT) -> Any:
    await w.signin.request_otp(phone, client)
    return await w.signin.verify_otp(phone, w.sms.last(phone), client)


# --- OTP -----------------------------------------------------------------------------------


async def test_first_otp_sign_in_creates_a_resident_with_sealed_phone(world: World) -> None:
    pair = await _otp_sign_in(world)
    scope = await world.auth.authenticate(pair.access_token, request_id="r")
    assert scope.roles == {Role.RESIDENT}
    view = await world.accounts.get_account(scope)
    assert view.masked_phone == "138****8000"
    assert PHONE.encode() not in world.store.data.sealed[view.id].ciphertext
    assert "account.created" in world.store.actions()
    assert "auth.signed_in" in world.store.actions()
    assert all(PHONE not in str(a) for a in world.store.audits)
    assert [e.event_type for e in world.store.events] == ["account.created"]

    # A second sign-in finds the same account.
    world.clock.advance(minutes=2)
    again = await _otp_sign_in(world)
    assert (
        await world.auth.authenticate(again.access_token, request_id=None)
    ).account_id == view.id


async def test_otp_request_answers_the_same_for_known_and_unknown_phones(world: World) -> None:
    await _otp_sign_in(world)
    world.clock.advance(minutes=2)
    known = await world.signin.request_otp(PHONE, CLIENT)
    unknown = await world.signin.request_otp("13900139000", ClientInfo(ip="10.9.9.9"))
    assert known == unknown


async def test_invalid_phone_is_invalid_input(world: World) -> None:
    with pytest.raises(InvalidInput):
        await world.signin.request_otp("12345", CLIENT)


async def test_code_is_single_use_and_expires(world: World) -> None:
    await world.signin.request_otp(PHONE, CLIENT)
    code = world.sms.last(PHONE)
    await world.signin.verify_otp(PHONE, code, CLIENT)
    with pytest.raises(OtpInvalid):
        await world.signin.verify_otp(PHONE, code, CLIENT)

    world.clock.advance(minutes=1)
    await world.signin.request_otp(PHONE, CLIENT)
    world.clock.advance(minutes=5)
    with pytest.raises(OtpInvalid):
        await world.signin.verify_otp(PHONE, world.sms.last(PHONE), CLIENT)


async def test_sixth_attempt_fails_even_with_the_right_code(world: World) -> None:
    await world.signin.request_otp(PHONE, CLIENT)
    code = world.sms.last(PHONE)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        with pytest.raises(OtpInvalid):
            await world.signin.verify_otp(PHONE, wrong, CLIENT)
    with pytest.raises(OtpInvalid):
        await world.signin.verify_otp(PHONE, code, CLIENT)


async def test_new_request_supersedes_the_old_code(world: World) -> None:
    await world.signin.request_otp(PHONE, CLIENT)
    old = world.sms.last(PHONE)
    world.clock.advance(minutes=1)
    await world.signin.request_otp(PHONE, CLIENT)
    new = world.sms.last(PHONE)
    if old != new:
        with pytest.raises(OtpInvalid):
            await world.signin.verify_otp(PHONE, old, CLIENT)
    await world.signin.verify_otp(PHONE, new, CLIENT)


async def test_sends_are_limited_per_phone_and_per_ip(world: World) -> None:
    await world.signin.request_otp(PHONE, CLIENT)
    with pytest.raises(OtpRateLimited) as caught:
        await world.signin.request_otp(PHONE, ClientInfo(ip="10.0.0.99"))
    assert caught.value.retry_after_seconds == 60
    assert (caught.value.limit, caught.value.window_seconds) == (1, 60)
    with pytest.raises(OtpRateLimited):
        await world.signin.request_otp("13900000001", CLIENT)
    assert len(world.sms.sent) == 1


async def test_sms_failure_propagates_after_the_challenge_is_stored(world: World) -> None:
    world.sms.fail = True
    with pytest.raises(SmsDeliveryFailed):
        await world.signin.request_otp(PHONE, CLIENT)
    assert len(world.store.data.challenges) == 1


async def test_disabled_account_cannot_sign_in_by_otp(world: World) -> None:
    pair = await _otp_sign_in(world)
    scope = await world.auth.authenticate(pair.access_token, request_id=None)
    world.store.data.accounts[scope.account_id].status = AccountStatus.DISABLED
    world.clock.advance(minutes=2)
    await world.signin.request_otp(PHONE, CLIENT)
    with pytest.raises(AccountDisabled):
        await world.signin.verify_otp(PHONE, world.sms.last(PHONE), CLIENT)


# --- WeChat ----------------------------------------------------------------------------------


async def test_wechat_first_login_creates_and_then_finds_the_account(world: World) -> None:
    first = await world.signin.sign_in_with_wechat("alice-1", CLIENT)
    second = await world.signin.sign_in_with_wechat("alice-2", CLIENT)
    a = await world.auth.authenticate(first.access_token, request_id=None)
    b = await world.auth.authenticate(second.access_token, request_id=None)
    assert a.account_id == b.account_id
    assert (await world.accounts.get_account(a)).wechat_bound
    with pytest.raises(WeChatCodeInvalid):
        await world.signin.sign_in_with_wechat("bad", CLIENT)
    with pytest.raises(WeChatCodeInvalid):
        await world.signin.sign_in_with_wechat("", CLIENT)


# --- sessions --------------------------------------------------------------------------------


async def test_refresh_rotates_and_reuse_revokes_the_family(world: World) -> None:
    first = await _otp_sign_in(world)
    second = await world.sessions.refresh(first.refresh_token, CLIENT)
    assert second.refresh_token != first.refresh_token
    third = await world.sessions.refresh(second.refresh_token, CLIENT)

    with pytest.raises(RefreshTokenInvalid):
        await world.sessions.refresh(first.refresh_token, CLIENT)  # reuse
    assert "session.revoked" in world.store.actions()
    with pytest.raises(RefreshTokenInvalid):
        await world.sessions.refresh(third.refresh_token, CLIENT)
    with pytest.raises(AccessTokenInvalid):
        await world.auth.authenticate(third.access_token, request_id=None)


async def test_expired_refresh_token_is_refused(world: World) -> None:
    pair = await _otp_sign_in(world)
    world.clock.advance(days=31)
    with pytest.raises(RefreshTokenInvalid):
        await world.sessions.refresh(pair.refresh_token, CLIENT)
    with pytest.raises(RefreshTokenInvalid):
        await world.sessions.refresh("never-issued", CLIENT)


async def test_logout_ends_the_session_and_is_idempotent(world: World) -> None:
    pair = await _otp_sign_in(world)
    await world.sessions.logout(pair.refresh_token, CLIENT)
    commits = world.store.commits
    await world.sessions.logout(pair.refresh_token, CLIENT)
    await world.sessions.logout("unknown", CLIENT)
    assert world.store.commits == commits
    with pytest.raises(RefreshTokenInvalid):
        await world.sessions.refresh(pair.refresh_token, CLIENT)
    with pytest.raises(AccessTokenInvalid):
        await world.auth.authenticate(pair.access_token, request_id=None)


# --- officers and passwords ------------------------------------------------------------------


def _tree(w: World) -> dict[str, OrgUnitRef]:
    district, other_district = uuid.uuid4(), uuid.uuid4()
    s1, s2, s3 = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    units = {
        "D": OrgUnitRef(district, "D", "武进分局", UnitLevel.DISTRICT, None, district),
        "S1": OrgUnitRef(s1, "S1", "湖塘派出所", UnitLevel.STATION, s1, district),
        "S2": OrgUnitRef(s2, "S2", "牛塘派出所", UnitLevel.STATION, s2, district),
        "X": OrgUnitRef(other_district, "X", "新北分局", UnitLevel.DISTRICT, None, other_district),
        "XS": OrgUnitRef(s3, "XS", "三井派出所", UnitLevel.STATION, s3, other_district),
    }
    w.store.data.units.update(units)
    return units


async def _admin(w: World, unit: OrgUnitRef, role: Role) -> Scope:
    officer = await w.officers.create_officer(
        system_scope(), NewOfficer(f"admin-{uuid.uuid4().hex[:6]}", PASSWORD, unit.code, role.value)
    )
    stations = {
        u.id
        for u in w.store.data.units.values()
        if u.level == UnitLevel.STATION and u.district_id == unit.id
    }
    if role == Role.DISTRICT_ADMIN:
        return Scope(
            officer.id,
            frozenset({role}),
            frozenset(stations),
            frozenset({unit.id}),
            frozenset({unit.id}),
        )
    return Scope(
        officer.id, frozenset({role}), frozenset({unit.id}), frozenset(), frozenset({unit.id})
    )


async def test_operator_creates_officer_audited(world: World) -> None:
    units = _tree(world)
    view = await world.officers.create_officer(
        system_scope(), NewOfficer(" Wang.Jun ", PASSWORD, "S1", "officer", "王军")
    )
    assert view.username == "wang.jun"
    assert view.roles[0].unit_code == "S1"
    assert world.store.data.credentials["wang.jun"].password_hash == "new$" + PASSWORD
    created = [a for a in world.store.audits if a["action"] == "officer.created"]
    assert created[0]["actor_role"] == "system"
    assert created[0]["detail"]["unit_id"] == units["S1"].id
    with pytest.raises(UsernameTaken):
        await world.officers.create_officer(
            system_scope(), NewOfficer("wang.jun", PASSWORD, "S2", "officer")
        )


async def test_admins_create_within_their_reach(world: World) -> None:
    units = _tree(world)
    district_admin = await _admin(world, units["D"], Role.DISTRICT_ADMIN)
    station_admin = await _admin(world, units["S1"], Role.STATION_ADMIN)

    await world.officers.create_officer(
        district_admin, NewOfficer("a.one", PASSWORD, "S2", "station_admin")
    )
    await world.officers.create_officer(
        district_admin, NewOfficer("a.two", PASSWORD, "D", "district_admin")
    )
    with pytest.raises(UnitNotFound):
        await world.officers.create_officer(
            district_admin, NewOfficer("a.three", PASSWORD, "XS", "officer")
        )

    await world.officers.create_officer(
        station_admin, NewOfficer("b.one", PASSWORD, "S1", "auditor")
    )
    with pytest.raises(NotAllowed):
        await world.officers.create_officer(
            station_admin, NewOfficer("b.two", PASSWORD, "S1", "station_admin")
        )
    with pytest.raises(UnitNotFound):
        await world.officers.create_officer(
            station_admin, NewOfficer("b.three", PASSWORD, "S2", "officer")
        )
    with pytest.raises(InvalidInput):
        await world.officers.create_officer(
            district_admin, NewOfficer("c.one", PASSWORD, "D", "officer")
        )
    with pytest.raises(InvalidInput):
        await world.officers.create_officer(
            district_admin, NewOfficer("c.two", "short", "S1", "officer")
        )

    resident = Scope(uuid.uuid4(), frozenset({Role.RESIDENT}))
    with pytest.raises(NotAllowed):
        await world.officers.create_officer(
            resident, NewOfficer("c.three", PASSWORD, "S1", "officer")
        )


async def test_listing_is_scoped_and_audited(world: World) -> None:
    units = _tree(world)
    station_admin = await _admin(world, units["S1"], Role.STATION_ADMIN)
    district_admin = await _admin(world, units["D"], Role.DISTRICT_ADMIN)
    s2 = await world.officers.create_officer(
        system_scope(), NewOfficer("in.s2", PASSWORD, "S2", "officer")
    )
    await world.officers.create_officer(
        system_scope(), NewOfficer("in.xs", PASSWORD, "XS", "officer")
    )

    mine = await world.officers.list_officers(station_admin, limit=10)
    assert [o.id for o in mine.items] == [station_admin.account_id]
    district = await world.officers.list_officers(district_admin, limit=10)
    assert {o.id for o in district.items} == {
        s2.id,
        station_admin.account_id,
        district_admin.account_id,
    }
    assert "in.xs" not in {o.username for o in district.items}
    with pytest.raises(OfficerNotFound):
        await world.officers.get_officer(station_admin, s2.id)
    assert "officers.listed" in world.store.actions()

    first = await world.officers.list_officers(district_admin, limit=1)
    assert first.next_before == first.items[0].id
    rest = await world.officers.list_officers(district_admin, limit=10, before=first.next_before)
    assert first.items[0].id not in {o.id for o in rest.items}

    officer = Scope(uuid.uuid4(), frozenset({Role.OFFICER}), frozenset({units["S1"].id}))
    with pytest.raises(NotAllowed):
        await world.officers.list_officers(officer, limit=10)


async def test_password_sign_in_rehashes_and_dummy_verifies_unknown_names(world: World) -> None:
    _tree(world)
    view = await world.officers.create_officer(
        system_scope(), NewOfficer("li.ming", PASSWORD, "S1", "officer")
    )
    world.store.data.credentials["li.ming"] = OfficerCredentials(
        view.id, "li.ming", "old$" + PASSWORD
    )
    pair = await world.signin.sign_in_with_password("Li.Ming", PASSWORD, CLIENT)
    assert world.store.data.credentials["li.ming"].password_hash == "new$" + PASSWORD
    scope = await world.auth.authenticate(pair.access_token, request_id=None)
    assert scope.roles == {Role.OFFICER}

    with pytest.raises(InvalidCredentials):
        await world.signin.sign_in_with_password("nobody", PASSWORD, CLIENT)
    assert world.hasher.dummy_calls == 1
    with pytest.raises(InvalidCredentials):
        await world.signin.sign_in_with_password("li.ming", "wrong-password-1", CLIENT)
    assert "auth.sign_in_failed" in world.store.actions()


async def test_password_failures_are_limited_per_username_and_ip(world: World) -> None:
    _tree(world)
    await world.officers.create_officer(
        system_scope(), NewOfficer("zhao.lei", PASSWORD, "S1", "officer")
    )
    for i in range(5):
        with pytest.raises(InvalidCredentials):
            await world.signin.sign_in_with_password(
                "zhao.lei", "wrong", ClientInfo(ip=f"10.0.0.{i}")
            )
    with pytest.raises(LoginRateLimited) as caught:
        await world.signin.sign_in_with_password("zhao.lei", PASSWORD, ClientInfo(ip="10.0.1.1"))
    assert caught.value.retry_after_seconds == 900
    world.clock.advance(minutes=15)
    await world.signin.sign_in_with_password("zhao.lei", PASSWORD, CLIENT)

    ip = ClientInfo(ip="10.7.7.7")
    for i in range(20):
        with pytest.raises(InvalidCredentials):
            await world.signin.sign_in_with_password(f"guess{i}", "wrong", ip)
    with pytest.raises(LoginRateLimited):
        await world.signin.sign_in_with_password("zhao.lei", PASSWORD, ip)


async def test_disabling_revokes_sessions_and_tokens_stop_working(world: World) -> None:
    units = _tree(world)
    station_admin = await _admin(world, units["S1"], Role.STATION_ADMIN)
    view = await world.officers.create_officer(
        system_scope(), NewOfficer("sun.li", PASSWORD, "S1", "officer")
    )
    pair = await world.signin.sign_in_with_password("sun.li", PASSWORD, CLIENT)
    assert (await world.auth.authenticate(pair.access_token, request_id=None)).account_id == view.id

    with pytest.raises(StaleVersion):
        await world.officers.disable_officer(station_admin, view.id, expected_version=7)
    disabled = await world.officers.disable_officer(station_admin, view.id, expected_version=1)
    assert disabled.status == AccountStatus.DISABLED
    assert disabled.version == 2
    with pytest.raises(AccessTokenInvalid):
        await world.auth.authenticate(pair.access_token, request_id=None)
    with pytest.raises(RefreshTokenInvalid):
        await world.sessions.refresh(pair.refresh_token, CLIENT)
    with pytest.raises(AccountDisabled):
        await world.signin.sign_in_with_password("sun.li", PASSWORD, CLIENT)
    actions = world.store.actions()
    assert "officer.disabled" in actions
    assert any(
        a["action"] == "session.revoked" and a["detail"]["reason"] == "account_disabled"
        for a in world.store.audits
    )
