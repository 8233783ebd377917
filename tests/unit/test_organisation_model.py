"""Entities of the organisation context: the level hierarchy and watch points."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from shapely.geometry import box

from app.domain.organisation.model import (
    InvalidOrgUnit,
    Level,
    OrgUnit,
    OutsideJurisdiction,
    Placement,
    UnitRef,
    WatchPoint,
    WatchPointInvalid,
    WatchPointTransition,
    new_qr_token,
)
from app.domain.shared.geo import GeoPoint

AT = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def unit(level: Level, parent: OrgUnit | None, code: str = "X") -> OrgUnit:
    return OrgUnit.create(
        level=level,
        code=code,
        name="单位",
        boundary=box(0, 0, 1, 1),
        parent=parent,
        unit_id=uuid.uuid4(),
    )


def test_levels_go_district_station_community_grid() -> None:
    assert [lv.value for lv in Level] == ["district", "station", "community", "grid"]
    assert Level.DISTRICT.parent_level is None
    assert Level.STATION.parent_level is Level.DISTRICT
    assert Level.COMMUNITY.parent_level is Level.STATION
    assert Level.GRID.parent_level is Level.COMMUNITY


def test_parent_must_be_exactly_one_level_up() -> None:
    district = unit(Level.DISTRICT, None)
    station = unit(Level.STATION, district)
    community = unit(Level.COMMUNITY, station)
    grid = unit(Level.GRID, community)
    assert (station.district_id, station.station_id) == (district.id, station.id)
    assert (grid.district_id, grid.station_id, grid.parent_id) == (
        district.id,
        station.id,
        community.id,
    )
    with pytest.raises(InvalidOrgUnit):
        unit(Level.GRID, station)
    with pytest.raises(InvalidOrgUnit):
        unit(Level.COMMUNITY, district)
    with pytest.raises(InvalidOrgUnit):
        unit(Level.STATION, None)
    with pytest.raises(InvalidOrgUnit):
        unit(Level.DISTRICT, district)


def test_reshape_bumps_the_version_only_on_change() -> None:
    district = unit(Level.DISTRICT, None)
    assert not district.reshape("单位", box(0, 0, 1, 1))
    assert district.version == 1
    assert district.reshape("武进分局", box(0, 0, 1, 1))
    assert district.reshape("武进分局", box(0, 0, 2, 1))
    assert district.version == 3


def placement(station: bool = True) -> Placement:
    ids = [uuid.uuid4() for _ in range(4)]
    if not station:
        return Placement.nowhere(UnitRef(ids[0], "WJ", "武进分局"))
    return Placement(ids[0], ids[1], ids[2], ids[3], outside=False)


def watch_point(**overrides: object) -> WatchPoint:
    args: dict[str, object] = {
        "watch_point_id": uuid.uuid4(),
        "code": "HT-WP001",
        "name": "花园小区北门守望点",
        "location": GeoPoint(119.95, 31.70),
        "radius_m": 50,
        "placement": placement(),
        "created_by": uuid.uuid4(),
        "qr_token": new_qr_token(),
        "at": AT,
    }
    args.update(overrides)
    return WatchPoint.create(**args)  # type: ignore[arg-type]


def test_watch_point_takes_its_units_from_the_placement() -> None:
    where = placement()
    point = watch_point(placement=where)
    assert (point.district_id, point.station_id, point.community_id, point.grid_id) == (
        where.district_id,
        where.station_id,
        where.community_id,
        where.grid_id,
    )
    assert point.active
    assert point.version == 1


def test_watch_point_outside_every_station_is_refused() -> None:
    with pytest.raises(OutsideJurisdiction) as caught:
        watch_point(placement=placement(station=False))
    assert caught.value.code == "watch_point.outside_jurisdiction"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("radius_m", 9),
        ("radius_m", 2001),
        ("name", "  "),
        ("name", "名" * 101),
        ("code", "HT WP"),
        ("code", ""),
    ],
)
def test_watch_point_validation(field: str, value: object) -> None:
    with pytest.raises(WatchPointInvalid) as caught:
        watch_point(**{field: value})
    assert caught.value.fields[0].field == field


def test_radius_bounds_are_inclusive() -> None:
    assert watch_point(radius_m=10).radius_m == 10
    assert watch_point(radius_m=2000).radius_m == 2000


def test_edits_record_what_changed() -> None:
    point = watch_point()
    point.rename("花园小区北门守望点")
    point.resize(50)
    assert point.changes == {}
    point.rename("北门守望点")
    point.resize(80)
    assert point.changes == {"name": "北门守望点", "radius_m": 80}
    with pytest.raises(WatchPointInvalid):
        point.resize(5000)
    with pytest.raises(OutsideJurisdiction):
        point.move(GeoPoint(100.0, 40.0), placement(station=False))


def test_deactivate_once() -> None:
    point = watch_point()
    point.deactivate()
    assert not point.active
    with pytest.raises(WatchPointTransition):
        point.deactivate()


def test_geofence() -> None:
    point = watch_point(radius_m=100)
    assert point.contains(GeoPoint(119.95, 31.7008))  # about 89 m north
    assert not point.contains(GeoPoint(119.95, 31.7010))  # about 111 m north


def test_qr_tokens_are_url_safe_and_unguessable() -> None:
    tokens = {new_qr_token() for _ in range(1000)}
    assert len(tokens) == 1000
    for token in tokens:
        assert len(token) >= 22  # 128 bits in base64url
        assert all(c.isalnum() or c in "-_" for c in token)
