"""Org unit reads and watch point use cases with in-memory fakes: permissions, scope,
routing by location, optimistic concurrency."""

from __future__ import annotations

import json
import uuid

import pytest
from support.org import collection, feature, square
from support.org_fakes import OrgFakes

from app.domain.organisation.model import Level, OutsideJurisdiction, WatchPointCodeTaken
from app.domain.organisation.ports import WatchPointFilter
from app.domain.organisation.services import (
    NewWatchPoint,
    OrgUnitNotFound,
    StaffOnly,
    WatchPointChanges,
    WatchPointNotFound,
    WatchPointWriteNotAllowed,
)
from app.domain.shared.errors import StaleVersion
from app.domain.shared.geo import GeoPoint
from app.domain.shared.scope import Role, Scope, system_scope

X, Y = 119.9, 31.6
IN_GRID = GeoPoint(X + 0.01, Y + 0.05)
IN_COMMUNITY_ONLY = GeoPoint(X + 0.04, Y + 0.05)
IN_OTHER_STATION = GeoPoint(X + 0.15, Y + 0.1)
NOWHERE = GeoPoint(100.0, 40.0)


@pytest.fixture
async def fakes() -> OrgFakes:
    f = OrgFakes()
    report = await f.importer.import_file(
        system_scope(),
        json.dumps(
            collection(
                feature("district", "WJ", "武进分局", square(X, Y, X + 0.2, Y + 0.2)),
                feature("station", "HT", "湖塘派出所", square(X, Y, X + 0.1, Y + 0.2), "WJ"),
                feature("station", "XC", "新城派出所", square(X + 0.1, Y, X + 0.2, Y + 0.2), "WJ"),
                feature("community", "HY", "花园社区", square(X, Y, X + 0.05, Y + 0.1), "HT"),
                feature("grid", "G1", "网格一", square(X, Y, X + 0.025, Y + 0.1), "HY"),
                feature("grid", "G2", "网格二", square(X + 0.025, Y, X + 0.03, Y + 0.1), "HY"),
                feature("district", "XB", "新北分局", square(X + 1, Y, X + 1.2, Y + 0.2)),
            )
        ),
    )
    assert report.accepted == 7
    return f


def staff(f: OrgFakes, role: Role, code: str) -> Scope:
    """A scope as the identity context builds it from a role bound to unit ``code``."""
    unit = f.store.unit(code)
    if unit.level is Level.DISTRICT:
        stations = {
            u.id
            for u in f.store.units.values()
            if u.level is Level.STATION and u.district_id == unit.id
        }
        return Scope(
            uuid.uuid4(),
            frozenset({role}),
            station_ids=frozenset(stations),
            district_ids=frozenset({unit.id}),
        )
    assert unit.station_id is not None
    return Scope(uuid.uuid4(), frozenset({role}), station_ids=frozenset({unit.station_id}))


def resident() -> Scope:
    return Scope(uuid.uuid4(), frozenset({Role.RESIDENT}))


async def test_station_officer_sees_own_subtree_and_district_only(fakes: OrgFakes) -> None:
    officer = staff(fakes, Role.OFFICER, "HT")
    page = await fakes.units.list_units(officer, limit=50)
    assert sorted(u.code for u in page.items) == ["G1", "G2", "HT", "HY", "WJ"]
    with pytest.raises(OrgUnitNotFound):
        await fakes.units.get_unit(officer, fakes.store.unit("XC").id)
    children = await fakes.units.children(officer, fakes.store.unit("WJ").id, limit=50)
    assert [u.code for u in children.items] == ["HT"]


async def test_district_admin_sees_the_district(fakes: OrgFakes) -> None:
    admin = staff(fakes, Role.DISTRICT_ADMIN, "WJ")
    page = await fakes.units.list_units(admin, limit=50)
    assert sorted(u.code for u in page.items) == ["G1", "G2", "HT", "HY", "WJ", "XC"]
    stations = await fakes.units.list_units(admin, level=Level.STATION, limit=50)
    assert sorted(u.code for u in stations.items) == ["HT", "XC"]
    with pytest.raises(OrgUnitNotFound):
        await fakes.units.get_unit(admin, fakes.store.unit("XB").id)


async def test_keyset_pages_do_not_repeat(fakes: OrgFakes) -> None:
    admin = staff(fakes, Role.DISTRICT_ADMIN, "WJ")
    first = await fakes.units.list_units(admin, limit=4)
    assert first.has_more
    second = await fakes.units.list_units(admin, limit=4, after=first.items[-1].id)
    assert not second.has_more
    codes = [u.code for u in first.items + second.items]
    assert len(codes) == len(set(codes)) == 6


async def test_residents_see_no_units_but_may_locate(fakes: OrgFakes) -> None:
    with pytest.raises(StaffOnly):
        await fakes.units.list_units(resident())
    assert await fakes.units.units_by_ids(resident(), [fakes.store.unit("HT").id]) == {}
    placement = await fakes.units.locate(resident(), IN_GRID)
    assert placement.grid is not None
    assert placement.grid.code == "G1"


async def test_boundary_is_loaded_only_when_asked(fakes: OrgFakes) -> None:
    admin = staff(fakes, Role.DISTRICT_ADMIN, "WJ")
    plain = await fakes.units.get_unit(admin, fakes.store.unit("HT").id)
    assert plain.boundary is None
    full = await fakes.units.get_unit(admin, fakes.store.unit("HT").id, with_boundary=True)
    assert full.boundary is not None


async def test_officer_creates_a_point_routed_to_station_community_and_grid(
    fakes: OrgFakes,
) -> None:
    officer = staff(fakes, Role.OFFICER, "HT")
    point = await fakes.watch_points.create(
        officer, NewWatchPoint(name="北门守望点", location=IN_GRID, radius_m=50)
    )
    s = fakes.store
    assert (point.station_id, point.community_id, point.grid_id, point.district_id) == (
        s.unit("HT").id,
        s.unit("HY").id,
        s.unit("G1").id,
        s.unit("WJ").id,
    )
    assert point.code.startswith("HT-WP")
    assert point.created_by == officer.account_id
    assert [a[0] for a in s.audits][-1] == "watch_point.created"
    assert s.events[-1].event_type == "watch_point.created"
    in_community = await fakes.watch_points.create(
        officer, NewWatchPoint(name="社区守望点", location=IN_COMMUNITY_ONLY, radius_m=30)
    )
    assert (in_community.community_id, in_community.grid_id) == (s.unit("HY").id, None)


async def test_points_outside_the_callers_station_are_refused(fakes: OrgFakes) -> None:
    officer = staff(fakes, Role.OFFICER, "HT")
    for where in (IN_OTHER_STATION, NOWHERE):
        with pytest.raises(OutsideJurisdiction):
            await fakes.watch_points.create(
                officer, NewWatchPoint(name="守望点", location=where, radius_m=50)
            )
    admin = staff(fakes, Role.DISTRICT_ADMIN, "WJ")
    point = await fakes.watch_points.create(
        admin, NewWatchPoint(name="新城守望点", location=IN_OTHER_STATION, radius_m=50)
    )
    assert point.station_id == fakes.store.unit("XC").id


async def test_only_writing_staff_create(fakes: OrgFakes) -> None:
    command = NewWatchPoint(name="守望点", location=IN_GRID, radius_m=50)
    with pytest.raises(WatchPointWriteNotAllowed):
        await fakes.watch_points.create(staff(fakes, Role.AUDITOR, "HT"), command)
    with pytest.raises(WatchPointWriteNotAllowed):
        await fakes.watch_points.create(resident(), command)
    station_admin = staff(fakes, Role.STATION_ADMIN, "HT")
    assert (await fakes.watch_points.create(station_admin, command)).active


async def test_codes_are_unique(fakes: OrgFakes) -> None:
    officer = staff(fakes, Role.OFFICER, "HT")
    command = NewWatchPoint(name="守望点", location=IN_GRID, radius_m=50, code="HT-001")
    await fakes.watch_points.create(officer, command)
    with pytest.raises(WatchPointCodeTaken):
        await fakes.watch_points.create(staff(fakes, Role.DISTRICT_ADMIN, "WJ"), command)


async def test_reads_are_scoped_and_staff_only(fakes: OrgFakes) -> None:
    ht = staff(fakes, Role.OFFICER, "HT")
    xc = staff(fakes, Role.OFFICER, "XC")
    mine = await fakes.watch_points.create(
        ht, NewWatchPoint(name="湖塘守望点", location=IN_GRID, radius_m=50)
    )
    theirs = await fakes.watch_points.create(
        xc, NewWatchPoint(name="新城守望点", location=IN_OTHER_STATION, radius_m=50)
    )
    with pytest.raises(WatchPointNotFound):
        await fakes.watch_points.get(ht, theirs.id)
    listed = await fakes.watch_points.list_points(ht, WatchPointFilter())
    assert [p.id for p in listed.items] == [mine.id]
    auditor = staff(fakes, Role.AUDITOR, "WJ")
    assert {
        p.id for p in (await fakes.watch_points.list_points(auditor, WatchPointFilter())).items
    } == {
        mine.id,
        theirs.id,
    }
    with pytest.raises(StaffOnly):
        await fakes.watch_points.list_points(resident(), WatchPointFilter())
    near = WatchPointFilter(near=GeoPoint(IN_GRID.lon + 0.001, IN_GRID.lat), radius_m=200)
    assert [p.id for p in (await fakes.watch_points.list_points(auditor, near)).items] == [mine.id]
    by_grid = WatchPointFilter(grid_id=fakes.store.unit("G1").id)
    assert [p.id for p in (await fakes.watch_points.list_points(auditor, by_grid)).items] == [
        mine.id
    ]


async def test_update_checks_the_version_and_reroutes_moves(fakes: OrgFakes) -> None:
    officer = staff(fakes, Role.OFFICER, "HT")
    point = await fakes.watch_points.create(
        officer, NewWatchPoint(name="守望点", location=IN_GRID, radius_m=50)
    )
    moved = await fakes.watch_points.update(
        officer,
        point.id,
        1,
        WatchPointChanges(name="新名字", location=IN_COMMUNITY_ONLY, radius_m=120),
    )
    assert (moved.name, moved.radius_m, moved.version, moved.grid_id) == ("新名字", 120, 2, None)
    assert fakes.store.events[-1].payload["fields"] == [
        "location",
        "name",
        "radius_m",
        "station_id",
    ]
    with pytest.raises(StaleVersion):
        await fakes.watch_points.update(officer, point.id, 1, WatchPointChanges(name="再改"))
    with pytest.raises(OutsideJurisdiction):
        await fakes.watch_points.update(
            officer, point.id, 2, WatchPointChanges(location=IN_OTHER_STATION)
        )
    unchanged = await fakes.watch_points.update(
        officer, point.id, 2, WatchPointChanges(name="新名字")
    )
    assert unchanged.version == 2


async def test_foreign_points_are_not_found_for_writes(fakes: OrgFakes) -> None:
    xc = staff(fakes, Role.OFFICER, "XC")
    theirs = await fakes.watch_points.create(
        xc, NewWatchPoint(name="新城守望点", location=IN_OTHER_STATION, radius_m=50)
    )
    ht = staff(fakes, Role.OFFICER, "HT")
    with pytest.raises(WatchPointNotFound):
        await fakes.watch_points.update(ht, theirs.id, 1, WatchPointChanges(name="改名"))
    with pytest.raises(WatchPointNotFound):
        await fakes.watch_points.deactivate(ht, theirs.id)
    with pytest.raises(WatchPointWriteNotAllowed):
        await fakes.watch_points.deactivate(staff(fakes, Role.AUDITOR, "XC"), theirs.id)


async def test_deactivate(fakes: OrgFakes) -> None:
    officer = staff(fakes, Role.OFFICER, "HT")
    point = await fakes.watch_points.create(
        officer, NewWatchPoint(name="守望点", location=IN_GRID, radius_m=50)
    )
    with pytest.raises(StaleVersion):
        await fakes.watch_points.deactivate(officer, point.id, 7)
    done = await fakes.watch_points.deactivate(officer, point.id)
    assert (done.active, done.version) == (False, 2)
    assert fakes.store.events[-1].event_type == "watch_point.deactivated"
    inactive = await fakes.watch_points.list_points(officer, WatchPointFilter(active=True))
    assert inactive.items == []
