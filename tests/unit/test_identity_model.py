"""Identity entities and rules: password policy, role/unit fit, who may grant what, the
scope computed from roles, OTP challenges and sliding-window limits."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from app.domain.identity.errors import AccountDisabled, AlreadyDisabled
from app.domain.identity.model import (
    Account,
    AccountKind,
    AccountStatus,
    OfficerView,
    OrgUnitRef,
    RoleBinding,
    RoleView,
    SignInMethod,
    UnitLevel,
    check_role_fits_unit,
    ensure_may_disable,
    ensure_may_grant,
    parse_staff_role,
    scope_from_bindings,
)
from app.domain.identity.otp import OTP_MAX_ATTEMPTS, ChallengeClosed, OtpChallenge, code_digest
from app.domain.identity.policies import check_password_policy, normalise_username
from app.domain.identity.sessions import AuthSession, RevokeReason
from app.domain.identity.throttle import (
    OTP_SEND_WINDOWS,
    OtpRateLimited,
    RateWindow,
    check_windows,
    raise_if_limited,
)
from app.domain.shared.errors import InvalidInput, NotAllowed
from app.domain.shared.scope import Role, Scope, system_scope

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
DISTRICT = uuid.uuid4()
OTHER_DISTRICT = uuid.uuid4()
STATION = uuid.uuid4()
OTHER_STATION = uuid.uuid4()


def _unit(
    level: UnitLevel, unit_id: uuid.UUID, station: uuid.UUID | None, district: uuid.UUID
) -> OrgUnitRef:
    return OrgUnitRef(unit_id, f"U-{unit_id.hex[:6]}", "湖塘派出所", level, station, district)


STATION_UNIT = _unit(UnitLevel.STATION, STATION, STATION, DISTRICT)
COMMUNITY_UNIT = _unit(UnitLevel.COMMUNITY, uuid.uuid4(), STATION, DISTRICT)
DISTRICT_UNIT = _unit(UnitLevel.DISTRICT, DISTRICT, None, DISTRICT)
FOREIGN_STATION_UNIT = _unit(UnitLevel.STATION, uuid.uuid4(), None, OTHER_DISTRICT)


def _scope(
    *roles: Role,
    stations: frozenset[uuid.UUID] = frozenset(),
    districts: frozenset[uuid.UUID] = frozenset(),
) -> Scope:
    return Scope(
        account_id=uuid.uuid4(),
        roles=frozenset(roles),
        station_ids=frozenset(stations),
        district_ids=frozenset(districts),
    )


DISTRICT_ADMIN = _scope(
    Role.DISTRICT_ADMIN,
    stations=frozenset({STATION, OTHER_STATION}),
    districts=frozenset({DISTRICT}),
)
STATION_ADMIN = _scope(Role.STATION_ADMIN, stations=frozenset({STATION}))
OFFICER = _scope(Role.OFFICER, stations=frozenset({STATION}))


# --- passwords and usernames ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("Short-1", "too_short"),
        ("aaaaaaaaaaaaaaaa", "too_simple"),
        ("abcdefghijklmnop", "too_simple"),  # one character class
        ("ababababab1212", "too_simple"),  # too few distinct characters
        ("x" * 129 + "A1", "too_long"),
        ("Wang.Jun-2026-zz", "contains_username"),
        ("MyPassword-2026", "too_common"),
    ],
)
def test_weak_passwords_are_refused_with_a_field_code(password: str, code: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_password_policy(password, username="wang.jun")
    assert caught.value.code == "officer.weak_password"
    assert [(f.field, f.code) for f in caught.value.fields] == [("password", code)]


@pytest.mark.parametrize(
    "password", ["Correct-Horse-9-battery", "守望相助平安湖塘2026", "x7#kq9!mz2@w"]
)
def test_reasonable_passwords_pass(password: str) -> None:
    check_password_policy(password, username="wang.jun")


def test_usernames_are_normalised_and_checked() -> None:
    assert normalise_username("  Wang.Jun ") == "wang.jun"
    for bad in ("ab", "-lead", "王军", "has space", "x" * 65):
        with pytest.raises(InvalidInput) as caught:
            normalise_username(bad)
        assert caught.value.fields[0].field == "username"


# --- roles and units -------------------------------------------------------------------------


def test_staff_role_names_are_checked() -> None:
    assert parse_staff_role("station_admin") is Role.STATION_ADMIN
    for bad in ("resident", "volunteer", "admin", ""):
        with pytest.raises(InvalidInput):
            parse_staff_role(bad)


@pytest.mark.parametrize(
    ("role", "unit", "fits"),
    [
        (Role.OFFICER, STATION_UNIT, True),
        (Role.OFFICER, COMMUNITY_UNIT, False),
        (Role.OFFICER, DISTRICT_UNIT, False),
        (Role.STATION_ADMIN, STATION_UNIT, True),
        (Role.STATION_ADMIN, DISTRICT_UNIT, False),
        (Role.DISTRICT_ADMIN, DISTRICT_UNIT, True),
        (Role.DISTRICT_ADMIN, STATION_UNIT, False),
        (Role.AUDITOR, STATION_UNIT, True),
        (Role.AUDITOR, DISTRICT_UNIT, True),
        (Role.AUDITOR, COMMUNITY_UNIT, False),
    ],
)
def test_role_must_fit_the_unit_level(role: Role, unit: OrgUnitRef, fits: bool) -> None:
    if fits:
        check_role_fits_unit(role, unit)
    else:
        with pytest.raises(InvalidInput) as caught:
            check_role_fits_unit(role, unit)
        assert caught.value.code == "officer.role_unit_mismatch"


@pytest.mark.parametrize(
    ("scope", "role", "unit", "allowed"),
    [
        (DISTRICT_ADMIN, Role.DISTRICT_ADMIN, DISTRICT_UNIT, True),
        (DISTRICT_ADMIN, Role.STATION_ADMIN, STATION_UNIT, True),
        (DISTRICT_ADMIN, Role.OFFICER, STATION_UNIT, True),
        (DISTRICT_ADMIN, Role.OFFICER, FOREIGN_STATION_UNIT, False),
        (STATION_ADMIN, Role.OFFICER, STATION_UNIT, True),
        (STATION_ADMIN, Role.AUDITOR, STATION_UNIT, True),
        (STATION_ADMIN, Role.STATION_ADMIN, STATION_UNIT, False),
        (STATION_ADMIN, Role.DISTRICT_ADMIN, DISTRICT_UNIT, False),
        (OFFICER, Role.OFFICER, STATION_UNIT, False),
        (system_scope(), Role.DISTRICT_ADMIN, FOREIGN_STATION_UNIT, True),
    ],
)
def test_who_may_grant_which_role(
    scope: Scope, role: Role, unit: OrgUnitRef, allowed: bool
) -> None:
    if allowed:
        ensure_may_grant(scope, role, unit)
    else:
        with pytest.raises(NotAllowed):
            ensure_may_grant(scope, role, unit)


def _officer(role: Role, unit: OrgUnitRef, officer_id: uuid.UUID | None = None) -> OfficerView:
    grant = RoleView(
        role, unit.id, unit.code, unit.name, unit.level, unit.station_id, unit.district_id
    )
    return OfficerView(
        officer_id or uuid.uuid4(), "li.ming", "李明", AccountStatus.ACTIVE, (grant,), T0, 1
    )


def test_who_may_disable_whom() -> None:
    ensure_may_disable(STATION_ADMIN, _officer(Role.OFFICER, STATION_UNIT))
    ensure_may_disable(DISTRICT_ADMIN, _officer(Role.STATION_ADMIN, STATION_UNIT))
    with pytest.raises(NotAllowed):
        ensure_may_disable(STATION_ADMIN, _officer(Role.STATION_ADMIN, STATION_UNIT))
    with pytest.raises(NotAllowed):
        ensure_may_disable(OFFICER, _officer(Role.OFFICER, STATION_UNIT))
    with pytest.raises(NotAllowed) as caught:
        ensure_may_disable(
            DISTRICT_ADMIN, _officer(Role.DISTRICT_ADMIN, DISTRICT_UNIT, DISTRICT_ADMIN.account_id)
        )
    assert caught.value.code == "officer.cannot_disable_self"


def test_scope_from_bindings() -> None:
    account = uuid.uuid4()
    session = uuid.uuid4()
    station_scope = scope_from_bindings(
        account,
        [RoleBinding(Role.OFFICER, STATION, UnitLevel.STATION, STATION, DISTRICT)],
        session_id=session,
        request_id="r-1",
    )
    assert station_scope.roles == {Role.OFFICER}
    assert station_scope.station_ids == {STATION}
    assert station_scope.district_ids == frozenset()
    assert station_scope.unit_ids == {STATION}
    assert station_scope.session_id == session
    assert station_scope.request_id == "r-1"

    district_scope = scope_from_bindings(
        account,
        [
            RoleBinding(
                Role.DISTRICT_ADMIN,
                DISTRICT,
                UnitLevel.DISTRICT,
                None,
                DISTRICT,
                frozenset({STATION, OTHER_STATION}),
            )
        ],
        session_id=session,
        request_id=None,
    )
    assert district_scope.station_ids == {STATION, OTHER_STATION}
    assert district_scope.district_ids == {DISTRICT}

    resident = scope_from_bindings(
        account, [RoleBinding(Role.RESIDENT)], session_id=None, request_id=None
    )
    assert resident.roles == {Role.RESIDENT}
    assert not (resident.station_ids)
    assert not (resident.district_ids)
    assert not (resident.unit_ids)


def test_accounts_disable_once_and_disabled_accounts_cannot_sign_in() -> None:
    account = Account.new(AccountKind.OFFICER, T0, account_id=uuid.uuid4(), display_name="王军")
    account.ensure_can_sign_in()
    account.disable()
    assert account.status is AccountStatus.DISABLED
    with pytest.raises(AccountDisabled):
        account.ensure_can_sign_in()
    with pytest.raises(AlreadyDisabled):
        account.disable()


# --- one-time codes ------------------------------------------------------------------------


class _Indexer:
    def index(self, value: str, *, purpose: str) -> bytes:
        import hashlib

        return hashlib.sha256(f"{purpose}\x00{value}".encode()).digest()


def _challenge() -> tuple[OtpChallenge, str]:
    return OtpChallenge.issue(_Indexer(), b"phone", T0, challenge_id=uuid.uuid4())


def _digest(challenge: OtpChallenge, code: str) -> bytes:
    return code_digest(_Indexer(), challenge.id, code)


def test_codes_are_six_digits_stored_only_as_digest() -> None:
    challenge, code = _challenge()
    assert len(code) == 6
    assert code.isdigit()
    assert code.encode() not in challenge.code_digest
    assert challenge.expires_at == T0 + timedelta(minutes=5)


def test_code_is_single_use() -> None:
    challenge, code = _challenge()
    assert challenge.attempt(_digest(challenge, code), T0 + timedelta(seconds=10))
    assert challenge.closed_reason is ChallengeClosed.USED
    assert not challenge.attempt(_digest(challenge, code), T0 + timedelta(seconds=20))


def test_code_expires_after_five_minutes() -> None:
    challenge, code = _challenge()
    assert not challenge.attempt(_digest(challenge, code), T0 + timedelta(minutes=5))
    assert challenge.attempts == 0


def test_sixth_attempt_is_refused_even_with_the_right_code() -> None:
    challenge, code = _challenge()
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(OTP_MAX_ATTEMPTS):
        assert not challenge.attempt(_digest(challenge, wrong), T0)
    assert challenge.closed_reason is ChallengeClosed.EXHAUSTED
    assert not challenge.attempt(_digest(challenge, code), T0)


def test_fifth_attempt_may_still_succeed() -> None:
    challenge, code = _challenge()
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(OTP_MAX_ATTEMPTS - 1):
        assert not challenge.attempt(_digest(challenge, wrong), T0)
    assert challenge.attempt(_digest(challenge, code), T0)


# --- sliding windows -----------------------------------------------------------------------


def test_one_send_per_minute() -> None:
    hit = check_windows([T0], OTP_SEND_WINDOWS, T0 + timedelta(seconds=20))
    assert hit is not None
    assert hit.window == RateWindow(1, 60)
    assert hit.retry_after_seconds == 40
    assert check_windows([T0], OTP_SEND_WINDOWS, T0 + timedelta(seconds=60)) is None


def test_five_per_hour_and_ten_per_day() -> None:
    hourly = [T0 + timedelta(minutes=2 * i) for i in range(5)]
    hit = check_windows(hourly, OTP_SEND_WINDOWS, T0 + timedelta(minutes=20))
    assert hit is not None
    assert hit.window == RateWindow(5, 3600)
    assert hit.retry_after_seconds == 40 * 60  # the oldest of the five leaves at T0+60min

    daily = [T0 + timedelta(hours=2 * i) for i in range(10)]
    now = T0 + timedelta(hours=19)
    hit = check_windows(daily, OTP_SEND_WINDOWS, now)
    assert hit is not None
    assert hit.window == RateWindow(10, 86400)
    assert hit.retry_after_seconds == 5 * 3600


def test_most_restrictive_hit_is_raised_with_its_policy() -> None:
    minute = check_windows([T0], OTP_SEND_WINDOWS, T0 + timedelta(seconds=59))
    hour = check_windows(
        [T0 + timedelta(minutes=i) for i in range(5)], OTP_SEND_WINDOWS, T0 + timedelta(minutes=10)
    )
    with pytest.raises(OtpRateLimited) as caught:
        raise_if_limited([minute, None, hour], OtpRateLimited)
    assert caught.value.limit == 5
    assert caught.value.window_seconds == 3600
    assert caught.value.retry_after_seconds == 50 * 60
    raise_if_limited([None, None])


def test_sessions_revoke_once() -> None:
    session = AuthSession(uuid.uuid4(), uuid.uuid4(), SignInMethod.OTP, T0)
    assert session.revoke(RevokeReason.LOGOUT, T0)
    assert not session.revoke(RevokeReason.REUSE, T0 + timedelta(seconds=1))
    assert session.revoke_reason is RevokeReason.LOGOUT
