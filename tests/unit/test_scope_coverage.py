"""Roles bound to different units do not lend each other their reach: the scope keeps
per-role coverage, and every write rule asks for the reach of the writing role only."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from fakes.volunteer_world import make_world

from app.domain.identity.model import (
    AccountStatus,
    OfficerView,
    OrgUnitRef,
    RoleBinding,
    RoleView,
    UnitLevel,
    ensure_may_disable,
    ensure_may_grant,
    scope_from_bindings,
)
from app.domain.shared.errors import NotAllowed
from app.domain.shared.scope import Role, RoleCoverage, Scope
from app.domain.volunteers.access import can_manage, is_station_staff, sees_full_personal_data
from app.domain.volunteers.glossary import TeamType
from app.domain.volunteers.team_service import TeamInput

D1, D2 = uuid.uuid4(), uuid.uuid4()
A, B = uuid.uuid4(), uuid.uuid4()  # stations of D1
C = uuid.uuid4()  # station of D2


def station(role: Role, station_id: uuid.UUID, district: uuid.UUID) -> RoleBinding:
    return RoleBinding(role, station_id, UnitLevel.STATION, station_id, district)


def district(role: Role, district_id: uuid.UUID, stations: set[uuid.UUID]) -> RoleBinding:
    return RoleBinding(
        role, district_id, UnitLevel.DISTRICT, None, district_id, frozenset(stations)
    )


def scope_of(*bindings: RoleBinding) -> Scope:
    return scope_from_bindings(uuid.uuid4(), bindings, session_id=None, request_id=None)


def test_reads_see_the_union_writes_only_the_writing_roles_units() -> None:
    scope = scope_of(station(Role.OFFICER, A, D1), station(Role.AUDITOR, B, D1))
    assert scope.station_ids == {A, B}
    assert scope.stations_as(Role.OFFICER) == {A}
    assert scope.stations_as(Role.AUDITOR) == {B}
    assert scope.districts_as(Role.OFFICER) == frozenset()
    assert can_manage(scope, A, D1)
    assert is_station_staff(scope, A)
    assert not can_manage(scope, B, D1)
    assert not is_station_staff(scope, B)
    assert not sees_full_personal_data(scope, B, None)


def test_district_admin_auditing_another_district_manages_only_their_own() -> None:
    scope = scope_of(district(Role.DISTRICT_ADMIN, D1, {A, B}), district(Role.AUDITOR, D2, {C}))
    assert scope.district_ids == {D1, D2}
    assert scope.districts_as(Role.DISTRICT_ADMIN) == {D1}
    assert can_manage(scope, B, D1)
    assert not can_manage(scope, C, D2)
    assert not is_station_staff(scope, A)  # a district admin is nobody's station staff


def test_grants_follow_the_admin_roles_own_units() -> None:
    admin = scope_of(station(Role.STATION_ADMIN, A, D1), station(Role.AUDITOR, B, D1))
    at_a = OrgUnitRef(A, "A", "湖塘派出所", UnitLevel.STATION, A, D1)
    at_b = OrgUnitRef(B, "B", "牛塘派出所", UnitLevel.STATION, B, D1)
    ensure_may_grant(admin, Role.OFFICER, at_a)
    with pytest.raises(NotAllowed):
        ensure_may_grant(admin, Role.OFFICER, at_b)

    district_admin = scope_of(
        district(Role.DISTRICT_ADMIN, D1, {A, B}), district(Role.AUDITOR, D2, {C})
    )
    d2 = OrgUnitRef(D2, "D2", "另一分局", UnitLevel.DISTRICT, None, D2)
    with pytest.raises(NotAllowed):
        ensure_may_grant(district_admin, Role.DISTRICT_ADMIN, d2)
    officer_at_c = OfficerView(
        uuid.uuid4(),
        "zhao.lei",
        None,
        AccountStatus.ACTIVE,
        (RoleView(Role.OFFICER, C, "C", "新城派出所", UnitLevel.STATION, C, D2),),
        datetime(2026, 11, 22, tzinfo=UTC),
        1,
    )
    with pytest.raises(NotAllowed):
        ensure_may_disable(district_admin, officer_at_c)


def test_hand_built_single_jurisdiction_scopes_keep_working() -> None:
    scope = Scope(uuid.uuid4(), frozenset({Role.OFFICER}), frozenset({A}))
    assert scope.stations_as(Role.OFFICER) == {A}
    assert scope.stations_as(Role.DISTRICT_ADMIN) == frozenset()
    assert can_manage(scope, A, D1)


async def test_default_team_station_is_the_one_the_caller_writes_for() -> None:
    world = make_world()
    mine, audited = world.station, world.other
    scope = Scope(
        uuid.uuid4(),
        frozenset({Role.OFFICER, Role.AUDITOR}),
        frozenset({mine.id, audited.id}),
        coverage=(
            RoleCoverage(Role.OFFICER, frozenset({mine.id})),
            RoleCoverage(Role.AUDITOR, frozenset({audited.id})),
        ),
    )
    team = await world.teams.create(scope, TeamInput("阳湖N警", "湖塘队", TeamType.PATROL))
    assert team.station_id == mine.id
    with pytest.raises(NotAllowed):
        await world.teams.create(
            scope, TeamInput("阳湖N警", "新城队", TeamType.PATROL, station_id=audited.id)
        )
