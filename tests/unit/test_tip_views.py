"""Who sees a tip coarsely (auditors without a writing role at its station), how coarse
its place and times become, and the map document both doors share."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from app.domain.shared.geo import GeoPoint
from app.domain.shared.scope import Role, RoleCoverage, Scope, system_scope
from app.domain.tips.model import Category, Routing, Tip, TipStatus, Urgency
from app.domain.tips.views import (
    COARSE_CELL,
    TimeAgo,
    coarsen,
    map_features,
    sees_coarse,
    time_ago,
    visible_detail,
)

NOW = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
DISTRICT = uuid.uuid4()
STATION = uuid.uuid4()
OTHER_STATION = uuid.uuid4()


def tip(station: uuid.UUID | None = STATION, at: GeoPoint | None = None) -> Tip:
    return Tip(
        id=uuid.uuid4(),
        category=Category.THEFT,
        description="小区东门有人多次拉拽车门",
        location=at or GeoPoint(119.953217, 31.702846),
        urgency=Urgency.HIGH,
        anonymous=False,
        routing=Routing(DISTRICT, station, None, None),
        submitted_at=NOW - timedelta(hours=2),
    )


def scope(*coverage: RoleCoverage) -> Scope:
    return Scope(
        account_id=uuid.uuid4(),
        roles=frozenset(c.role for c in coverage),
        station_ids=frozenset(s for c in coverage for s in c.station_ids),
        district_ids=frozenset(d for c in coverage for d in c.district_ids),
        coverage=coverage,
    )


def at_station(role: Role, station: uuid.UUID = STATION) -> RoleCoverage:
    return RoleCoverage(role, frozenset({station}), frozenset())


def at_district(role: Role) -> RoleCoverage:
    # District roles reach every station of the district and its district queue.
    return RoleCoverage(role, frozenset({STATION, OTHER_STATION}), frozenset({DISTRICT}))


@pytest.mark.parametrize(
    ("elapsed", "bucket"),
    [
        (timedelta(0), TimeAgo.JUST_NOW),
        (timedelta(minutes=4, seconds=59), TimeAgo.JUST_NOW),
        (timedelta(minutes=5), TimeAgo.WITHIN_HOUR),
        (timedelta(minutes=59), TimeAgo.WITHIN_HOUR),
        (timedelta(hours=1), TimeAgo.TODAY),
        (timedelta(hours=23, minutes=59), TimeAgo.TODAY),
        (timedelta(hours=24), TimeAgo.WITHIN_WEEK),
        (timedelta(days=6, hours=23), TimeAgo.WITHIN_WEEK),
        (timedelta(days=7), TimeAgo.OLDER),
        (timedelta(days=400), TimeAgo.OLDER),
        (timedelta(seconds=-30), TimeAgo.JUST_NOW),  # clock skew: not "older"
    ],
)
def test_time_ago_buckets(elapsed: timedelta, bucket: TimeAgo) -> None:
    assert time_ago(NOW - elapsed, NOW) is bucket


def test_coarse_point_is_the_cell_centre() -> None:
    point = GeoPoint(119.953217, 31.702846)
    coarse = coarsen(point)
    assert coarse == GeoPoint(119.9525, 31.7025)
    assert coarsen(coarse) == coarse  # idempotent
    # Every point of the cell shows the same place; the next cell another one.
    assert coarsen(GeoPoint(119.9500001, 31.7049999)) == coarse
    assert coarsen(GeoPoint(119.955, 31.7025)) != coarse
    # Never further than half a cell diagonal (about 370 m here) from the real place.
    dlat = (coarse.lat - point.lat) * 111_320
    dlon = (coarse.lon - point.lon) * 111_320 * math.cos(math.radians(point.lat))
    assert math.hypot(dlat, dlon) < COARSE_CELL * 111_320 * math.sqrt(2) / 2
    assert coarse != point


def test_coarse_point_stays_on_the_globe() -> None:
    assert coarsen(GeoPoint(180.0, 90.0)) == GeoPoint(180.0, 90.0)
    assert coarsen(GeoPoint(-180.0, -90.0)) == GeoPoint(-179.9975, -89.9975)


def test_auditor_alone_sees_coarse_and_writers_exact() -> None:
    t = tip()
    assert sees_coarse(scope(at_station(Role.AUDITOR)), t) is True
    assert sees_coarse(scope(at_district(Role.AUDITOR)), t) is True
    for role in (Role.OFFICER, Role.STATION_ADMIN):
        assert sees_coarse(scope(at_station(role)), t) is False
    assert sees_coarse(scope(at_district(Role.DISTRICT_ADMIN)), t) is False
    # A writing role over the tip's station wins over the auditor role.
    both = scope(at_district(Role.AUDITOR), at_station(Role.OFFICER))
    assert sees_coarse(both, t) is False
    # An officer role elsewhere lends nothing: here the caller is only an auditor.
    elsewhere = scope(at_district(Role.AUDITOR), at_station(Role.OFFICER, OTHER_STATION))
    assert sees_coarse(elsewhere, t) is True


def test_district_queue_tip_is_coarse_for_district_auditors_only() -> None:
    t = tip(station=None)
    assert sees_coarse(scope(at_district(Role.AUDITOR)), t) is True
    assert sees_coarse(scope(at_district(Role.DISTRICT_ADMIN)), t) is False


def test_reporters_and_the_operator_see_exactly() -> None:
    t = tip()
    assert sees_coarse(scope(at_station(Role.AUDITOR)), t, reporter=True) is False
    resident = Scope(account_id=uuid.uuid4(), roles=frozenset({Role.RESIDENT}))
    assert sees_coarse(resident, t) is False  # their own tip: the reporter's view
    assert sees_coarse(system_scope(), t) is False
    # An auditor reading its own tip in another station (not as staff) sees it exactly.
    assert sees_coarse(scope(at_station(Role.AUDITOR, OTHER_STATION)), t) is False


def test_scope_without_role_coverage_uses_its_roles() -> None:
    t = tip()
    auditor = Scope(
        account_id=uuid.uuid4(), roles=frozenset({Role.AUDITOR}), station_ids=frozenset({STATION})
    )
    officer = Scope(
        account_id=uuid.uuid4(), roles=frozenset({Role.OFFICER}), station_ids=frozenset({STATION})
    )
    assert sees_coarse(auditor, t) is True
    assert sees_coarse(officer, t) is False


def test_coarse_history_detail_drops_exact_times() -> None:
    detail = {"assignee_id": "x", "due_at": "2026-05-03T08:00:00+00:00"}
    assert visible_detail(detail, coarse=True) == {"assignee_id": "x"}
    assert visible_detail(detail, coarse=False) == detail


def test_map_features_coarsen_per_tip() -> None:
    exact, coarse = tip(), tip()
    doc = map_features(
        [exact, coarse],
        overdue={exact.id: True},
        coarse={coarse.id: True},
    )
    assert doc["type"] == "FeatureCollection"
    first, second = doc["features"]
    assert first["id"] == str(exact.id)
    assert first["geometry"] == {"type": "Point", "coordinates": [119.953217, 31.702846]}
    assert first["properties"] == {
        "category": "theft",
        "urgency": "high",
        "status": TipStatus.SUBMITTED.value,
        "overdue": True,
        "coarse": False,
    }
    assert second["geometry"]["coordinates"] == [119.9525, 31.7025]
    assert second["properties"]["coarse"] is True
    assert second["properties"]["overdue"] is False
