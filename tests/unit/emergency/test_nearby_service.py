"""NearbyService with an in-memory finder: staff who dispatch only, searched in the
districts of the caller's stations (and the districts they are bound to), merged by
distance with each volunteer once, and radius / limit validated."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import UTC, datetime

import pytest

from app.domain.emergency.glossary import Capability
from app.domain.emergency.incident_ports import NearbyMember, NearbyUnit
from app.domain.emergency.nearby import NearbyService, NotDispatcher
from app.domain.shared.clock import FixedClock
from app.domain.shared.errors import InvalidInput
from app.domain.shared.geo import GeoPoint
from app.domain.shared.scope import Role, RoleCoverage, Scope

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
HERE = GeoPoint(119.95, 31.70)
D1, D2, D3 = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
S1, S2 = uuid.uuid4(), uuid.uuid4()
STATION_DISTRICT = {S1: D1, S2: D2}


def member(vid: uuid.UUID, distance: float, located: bool = True) -> NearbyMember:
    return NearbyMember(vid, uuid.uuid4(), distance, frozenset({Capability.FIRST_AID}), located)


def unit(distance: float) -> NearbyUnit:
    return NearbyUnit(uuid.uuid4(), S1, distance, frozenset({Capability.FIRE}), 3)


class FakeFinder:
    def __init__(
        self,
        members: dict[uuid.UUID, list[NearbyMember]],
        units: dict[uuid.UUID, list[NearbyUnit]],
    ) -> None:
        self.members = members
        self.units = units
        self.calls: list[tuple[str, uuid.UUID, int, int, frozenset[Capability], datetime]] = []

    async def nearest_members(
        self,
        point: GeoPoint,
        *,
        district_id: uuid.UUID,
        radius_m: int,
        limit: int,
        required: frozenset[Capability],
        now: datetime,
        exclude: Collection[uuid.UUID] = (),
    ) -> list[NearbyMember]:
        self.calls.append(("members", district_id, radius_m, limit, required, now))
        return self.members.get(district_id, [])[:limit]

    async def nearest_units(
        self,
        point: GeoPoint,
        *,
        district_id: uuid.UUID,
        radius_m: int,
        limit: int,
        required: frozenset[Capability],
        now: datetime,
    ) -> list[NearbyUnit]:
        self.calls.append(("units", district_id, radius_m, limit, required, now))
        return self.units.get(district_id, [])[:limit]

    async def districts_of(self, station_ids: Collection[uuid.UUID]) -> frozenset[uuid.UUID]:
        return frozenset(STATION_DISTRICT[s] for s in station_ids)


def staff(*coverage: RoleCoverage) -> Scope:
    return Scope(
        account_id=uuid.uuid4(),
        roles=frozenset(c.role for c in coverage),
        station_ids=frozenset(s for c in coverage for s in c.station_ids),
        district_ids=frozenset(d for c in coverage for d in c.district_ids),
        coverage=coverage,
    )


def service(finder: FakeFinder) -> NearbyService:
    return NearbyService(finder, finder, FixedClock(NOW))


async def test_officer_searches_the_district_of_their_station() -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    near_unit = unit(150)
    finder = FakeFinder(
        {D1: [member(a, 80), member(b, 200, located=False)], D2: [member(uuid.uuid4(), 5)]},
        {D1: [near_unit], D2: [unit(10)]},
    )
    found = await service(finder).nearest(
        staff(RoleCoverage(Role.OFFICER, frozenset({S1}))),
        HERE,
        capabilities=[Capability.FIRST_AID],
        radius_m=1500,
        limit=10,
    )
    assert [m.volunteer_id for m in found.members] == [a, b]
    assert found.units == [near_unit]
    assert {c[1] for c in finder.calls} == {D1}
    assert all(c[2:] == (1500, 10, frozenset({Capability.FIRST_AID}), NOW) for c in finder.calls)


async def test_several_districts_merge_by_distance_each_volunteer_once() -> None:
    shared, x, y = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    finder = FakeFinder(
        {
            D1: [member(x, 50), member(shared, 300)],
            D2: [member(shared, 120), member(y, 400)],
            D3: [member(uuid.uuid4(), 1)],
        },
        {D1: [unit(500)], D2: [unit(100)], D3: [unit(1)]},
    )
    scope = staff(
        RoleCoverage(Role.OFFICER, frozenset({S1})),
        RoleCoverage(Role.DISTRICT_ADMIN, frozenset(), frozenset({D2})),
        # An auditor's reach is not a dispatcher's: D3 is never searched.
        RoleCoverage(Role.AUDITOR, frozenset(), frozenset({D3})),
    )
    found = await service(finder).nearest(scope, HERE, radius_m=1000, limit=3)
    assert [(m.volunteer_id, m.distance_m) for m in found.members] == [
        (x, 50),
        (shared, 120),
        (y, 400),
    ]
    assert [u.distance_m for u in found.units] == [100, 500]
    assert {c[1] for c in finder.calls} == {D1, D2}
    two = await service(finder).nearest(scope, HERE, radius_m=1000, limit=2)
    assert len(two.members) == 2


@pytest.mark.parametrize(
    "roles",
    [
        frozenset({Role.VOLUNTEER}),
        frozenset({Role.RESIDENT}),
        frozenset({Role.AUDITOR}),
        frozenset({Role.TEAM_LEADER, Role.VOLUNTEER}),
    ],
)
async def test_only_dispatching_staff(roles: frozenset[Role]) -> None:
    finder = FakeFinder({}, {})
    scope = Scope(account_id=uuid.uuid4(), roles=roles, station_ids=frozenset({S1}))
    with pytest.raises(NotDispatcher):
        await service(finder).nearest(scope, HERE)
    assert finder.calls == []


@pytest.mark.parametrize(
    ("radius", "limit", "field"),
    [(0, 10, "radius_m"), (20_001, 10, "radius_m"), (100, 0, "limit"), (100, 201, "limit")],
)
async def test_radius_and_limit_are_validated(radius: int, limit: int, field: str) -> None:
    finder = FakeFinder({}, {})
    scope = staff(RoleCoverage(Role.OFFICER, frozenset({S1})))
    with pytest.raises(InvalidInput) as caught:
        await service(finder).nearest(scope, HERE, radius_m=radius, limit=limit)
    assert caught.value.code.startswith("emergency.")
    assert [f.field for f in caught.value.fields] == [field]
    assert finder.calls == []


async def test_edges_of_the_ranges_are_allowed() -> None:
    finder = FakeFinder({D1: [member(uuid.uuid4(), 10)]}, {})
    scope = staff(RoleCoverage(Role.STATION_ADMIN, frozenset({S1})))
    for radius, limit in ((1, 1), (20_000, 200)):
        found = await service(finder).nearest(scope, HERE, radius_m=radius, limit=limit)
        assert len(found.members) == 1
