"""How exactly a caller may see a tip's place and times (pure rules, no I/O).

Low-privilege staff (the read-only ``auditor`` role) inspect how tips are handled, not
where and when a resident saw something: without a writing role (officer, station admin,
district admin) over the tip's station (or, for a district-queue tip, its district) they
see a *coarse* tip:

- the location snapped to the centre of its 0.005° × 0.005° cell (WGS-84; about 555 m
  north-south and 475 m east-west around Changzhou), so every tip in a cell shows the
  same point and nothing finer than the cell can be read back;
- times as a relative bucket (``TimeAgo``) computed with the service clock, instead of
  the exact submission, due and history timestamps.

Reporters see their own tips exactly; so do writing staff of the tip's station, and the
operator (unrestricted scope).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from app.domain.shared.geo import GeoPoint
from app.domain.shared.scope import WRITING_STAFF_ROLES, Scope
from app.domain.tips.model import Tip

# Size of the coarse cell, in degrees (see the module docstring).
COARSE_CELL = 0.005


class TimeAgo(StrEnum):
    """How long ago something happened, as coarse callers see it."""

    JUST_NOW = "just_now"  # under 5 minutes
    WITHIN_HOUR = "within_hour"  # under 1 hour
    TODAY = "today"  # under 24 hours
    WITHIN_WEEK = "within_week"  # under 7 days
    OLDER = "older"


_BUCKETS: tuple[tuple[timedelta, TimeAgo], ...] = (
    (timedelta(minutes=5), TimeAgo.JUST_NOW),
    (timedelta(hours=1), TimeAgo.WITHIN_HOUR),
    (timedelta(hours=24), TimeAgo.TODAY),
    (timedelta(days=7), TimeAgo.WITHIN_WEEK),
)


def time_ago(at: datetime, now: datetime) -> TimeAgo:
    """The bucket of ``now - at``; a time slightly ahead of ``now`` (clock skew) counts as
    just now."""
    elapsed = now - at
    for limit, bucket in _BUCKETS:
        if elapsed < limit:
            return bucket
    return TimeAgo.OLDER


def _cell_centre(value: float, limit: float) -> float:
    centre = (math.floor(value / COARSE_CELL) + 0.5) * COARSE_CELL
    return round(max(-limit, min(limit, centre)), 6)


def coarsen(point: GeoPoint) -> GeoPoint:
    """The centre of the ``COARSE_CELL`` cell holding ``point`` (idempotent)."""
    return GeoPoint(_cell_centre(point.lon, 180.0), _cell_centre(point.lat, 90.0))


def sees_coarse(scope: Scope, tip: Tip, *, reporter: bool = False) -> bool:
    """Whether ``scope`` sees ``tip`` coarsened: station staff of the tip (its reads reach
    the tip's station or district) without a writing role there, who did not report it.
    Everyone else who may see the tip at all sees it exactly: writing staff of its station,
    its reporter (``reporter``), the operator."""
    return not reporter and coarse_rule(scope)(tip)


def coarse_rule(scope: Scope) -> Callable[[Tip], bool]:
    """``sees_coarse`` of one caller for many tips (a page): the caller's writing
    stations and districts worked out once."""
    if scope.unrestricted or not scope.is_staff:
        return _never
    stations = scope.stations_as(*WRITING_STAFF_ROLES)
    districts = scope.districts_as(*WRITING_STAFF_ROLES)

    def coarse(tip: Tip) -> bool:
        r = tip.routing
        if not scope.sees_station(r.station_id, r.district_id):
            return False  # not seen as staff: only a reporter's own tip, shown exactly
        if r.station_id is not None:
            return r.station_id not in stations
        return r.district_id not in districts

    return coarse


def _never(_: Tip) -> bool:
    return False


# History details that carry exact times (an assignment's due time).
_TIME_DETAILS = frozenset({"due_at"})


def visible_detail(detail: Mapping[str, Any], *, coarse: bool) -> dict[str, Any]:
    """A history entry's detail without its exact times for coarse callers."""
    return {k: v for k, v in detail.items() if not (coarse and k in _TIME_DETAILS)}


def map_features(
    tips: Sequence[Tip], *, overdue: Mapping[Any, bool], coarse: Mapping[Any, bool]
) -> dict[str, Any]:
    """The tips as a GeoJSON FeatureCollection (WGS-84), the same document for REST and
    GraphQL. ``overdue`` and ``coarse`` are keyed by tip id; a coarse tip's point is its
    cell centre."""
    features = []
    for t in tips:
        point = coarsen(t.location) if coarse.get(t.id, False) else t.location
        features.append(
            {
                "type": "Feature",
                "id": str(t.id),
                "geometry": {"type": "Point", "coordinates": [point.lon, point.lat]},
                "properties": {
                    "category": t.category.value,
                    "urgency": t.urgency.value,
                    "status": t.status.value,
                    "overdue": overdue.get(t.id, False),
                    "coarse": coarse.get(t.id, False),
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}
