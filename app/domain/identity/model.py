"""Accounts, the roles that bind them to organisation units, and what callers see of them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from app.domain.identity.errors import AccountDisabled, AlreadyDisabled
from app.domain.shared.errors import FieldError, InvalidInput, NotAllowed
from app.domain.shared.scope import Role, RoleCoverage, Scope

# Actor recorded for requests made before anyone signed in (sign-in endpoints).
ANONYMOUS_ACCOUNT_ID = uuid.UUID("00000000-0000-7000-8000-000000000001")


def anonymous_scope(request_id: str | None = None) -> Scope:
    return Scope(account_id=ANONYMOUS_ACCOUNT_ID, roles=frozenset(), request_id=request_id)


class AccountKind(StrEnum):
    OFFICER = "officer"
    RESIDENT = "resident"
    SYSTEM = "system"


class AccountStatus(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"


class SignInMethod(StrEnum):
    OTP = "otp"
    WECHAT = "wechat"
    PASSWORD = "password"  # noqa: S105 (a method name, not a secret)


class UnitLevel(StrEnum):
    DISTRICT = "district"
    STATION = "station"
    COMMUNITY = "community"
    GRID = "grid"


@dataclass
class Account:
    id: uuid.UUID
    kind: AccountKind
    display_name: str | None
    status: AccountStatus
    created_at: datetime
    # The version read from storage; the repository checks and bumps it on save.
    version: int = 1

    @classmethod
    def new(
        cls, kind: AccountKind, at: datetime, *, account_id: uuid.UUID, display_name: str | None
    ) -> Account:
        return cls(account_id, kind, display_name, AccountStatus.ACTIVE, at)

    @property
    def active(self) -> bool:
        return self.status == AccountStatus.ACTIVE

    def ensure_can_sign_in(self) -> None:
        if not self.active:
            raise AccountDisabled()

    def disable(self) -> None:
        if not self.active:
            raise AlreadyDisabled()
        self.status = AccountStatus.DISABLED


@dataclass(frozen=True, slots=True)
class OrgUnitRef:
    """An organisation unit as identity needs it. ``station_id`` / ``district_id`` are the
    unit's own station and district, the unit itself included (a station's station_id is
    its own id, a district's district_id its own id)."""

    id: uuid.UUID
    code: str
    name: str
    level: UnitLevel
    station_id: uuid.UUID | None
    district_id: uuid.UUID | None


# Which unit levels each staff role may be bound to.
ROLE_UNIT_LEVELS: dict[Role, frozenset[UnitLevel]] = {
    Role.OFFICER: frozenset({UnitLevel.STATION}),
    Role.STATION_ADMIN: frozenset({UnitLevel.STATION}),
    Role.DISTRICT_ADMIN: frozenset({UnitLevel.DISTRICT}),
    Role.AUDITOR: frozenset({UnitLevel.STATION, UnitLevel.DISTRICT}),
}
STATION_GRANTABLE = frozenset({Role.OFFICER, Role.AUDITOR})


def parse_staff_role(raw: str) -> Role:
    try:
        role = Role(raw)
    except ValueError:
        role = None
    if role is None or role not in ROLE_UNIT_LEVELS:
        message = "Role must be one of officer, station_admin, district_admin, auditor."
        raise InvalidInput(
            message,
            "角色必须是 officer、station_admin、district_admin 或 auditor 之一。",
            code="officer.invalid_role",
            fields=[FieldError(field="role", code="not_allowed_value", message=message)],
        )
    return role


def check_role_fits_unit(role: Role, unit: OrgUnitRef) -> None:
    if unit.level not in ROLE_UNIT_LEVELS[role]:
        levels = " or ".join(sorted(ROLE_UNIT_LEVELS[role]))
        message = f"A {role.value} must be bound to a {levels} unit."
        raise InvalidInput(
            message,
            "该角色不能绑定到此级别的组织单位。",
            code="officer.role_unit_mismatch",
            fields=[FieldError(field="unit_code", code="wrong_level", message=message)],
        )


def _is_admin(scope: Scope) -> bool:
    return scope.has(Role.DISTRICT_ADMIN, Role.STATION_ADMIN)


def ensure_may_manage_officers(scope: Scope) -> None:
    if not (scope.unrestricted or _is_admin(scope)):
        raise NotAllowed()


def ensure_may_read_officers(scope: Scope) -> None:
    if not (scope.unrestricted or scope.has(Role.DISTRICT_ADMIN, Role.STATION_ADMIN, Role.AUDITOR)):
        raise NotAllowed()


def _covers(
    scope: Scope, role: Role, unit_station: uuid.UUID | None, district: uuid.UUID | None
) -> bool:
    """Whether ``scope`` administers a grant of ``role`` at a unit with these ancestors.
    Only the admin roles' own units count, not what other roles of the account reach."""
    if district is not None and district in scope.districts_as(Role.DISTRICT_ADMIN):
        return True
    return (
        role in STATION_GRANTABLE
        and unit_station is not None
        and unit_station in scope.stations_as(Role.STATION_ADMIN)
    )


def ensure_may_grant(scope: Scope, role: Role, unit: OrgUnitRef) -> None:
    """A district admin grants any staff role inside their district; a station admin grants
    officer and auditor roles of their own station; the operator grants anything."""
    if scope.unrestricted:
        return
    if not _covers(scope, role, unit.station_id, unit.district_id):
        raise NotAllowed()


@dataclass(frozen=True, slots=True)
class RoleView:
    role: Role
    unit_id: uuid.UUID | None = None
    unit_code: str | None = None
    unit_name: str | None = None
    unit_level: UnitLevel | None = None
    station_id: uuid.UUID | None = None
    district_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class OfficerView:
    id: uuid.UUID
    username: str
    display_name: str | None
    status: AccountStatus
    roles: tuple[RoleView, ...]
    created_at: datetime
    version: int


def ensure_may_disable(scope: Scope, officer: OfficerView) -> None:
    if scope.unrestricted:
        return
    if officer.id == scope.account_id:
        raise NotAllowed(
            "You cannot disable your own account.",
            "不能停用自己的账号。",
            code="officer.cannot_disable_self",
        )
    ensure_may_manage_officers(scope)
    if not officer.roles or not all(
        _covers(scope, grant.role, grant.station_id, grant.district_id) for grant in officer.roles
    ):
        raise NotAllowed()


@dataclass(frozen=True, slots=True)
class AccountView:
    """What a signed-in caller sees of their own account (used by ``GET /me``)."""

    id: uuid.UUID
    kind: AccountKind
    display_name: str | None
    status: AccountStatus
    roles: tuple[RoleView, ...]
    masked_phone: str | None
    wechat_bound: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "Bearer"  # noqa: S105 (the OAuth token type, not a secret)


@dataclass(frozen=True, slots=True)
class ClientInfo:
    """Where a sign-in request came from. The IP is used only for rate limits, hashed."""

    ip: str
    request_id: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True, slots=True)
class RoleBinding:
    """One role of an account as the authenticator loads it."""

    role: Role
    unit_id: uuid.UUID | None = None
    unit_level: UnitLevel | None = None
    station_id: uuid.UUID | None = None
    district_id: uuid.UUID | None = None
    # For a district-level unit: every station of that district.
    district_station_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)


def scope_from_bindings(
    account_id: uuid.UUID,
    bindings: tuple[RoleBinding, ...] | list[RoleBinding],
    *,
    session_id: uuid.UUID | None,
    request_id: str | None,
) -> Scope:
    """Station-bound roles see their station; district-bound roles see every station of the
    district plus its district queue; resident roles see no jurisdiction at all."""
    roles: set[Role] = set()
    units: set[uuid.UUID] = set()
    # Per role, so that each role acts only where it is bound (Scope.stations_as).
    stations: dict[Role, set[uuid.UUID]] = {}
    districts: dict[Role, set[uuid.UUID]] = {}
    for b in bindings:
        roles.add(b.role)
        if b.unit_id is None:
            continue
        units.add(b.unit_id)
        role_stations = stations.setdefault(b.role, set())
        role_districts = districts.setdefault(b.role, set())
        if b.unit_level == UnitLevel.DISTRICT:
            role_districts.add(b.unit_id)
            role_stations.update(b.district_station_ids)
        elif b.station_id is not None:
            role_stations.add(b.station_id)
    coverage = tuple(
        RoleCoverage(role, frozenset(stations[role]), frozenset(districts[role]))
        for role in sorted(stations)
    )
    return Scope(
        account_id=account_id,
        roles=frozenset(roles),
        station_ids=frozenset(s for c in coverage for s in c.station_ids),
        district_ids=frozenset(d for c in coverage for d in c.district_ids),
        unit_ids=frozenset(units),
        session_id=session_id,
        request_id=request_id,
        coverage=coverage,
    )
