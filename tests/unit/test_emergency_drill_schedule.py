"""A drill planned ahead: from a minute to a year ahead, with a time zone; raised once or
cancelled before, never both."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from app.domain.emergency.drills import DrillNotScheduled, DrillStatus, ScheduledDrill
from app.domain.emergency.glossary import IncidentType, Severity
from app.domain.emergency.incident import IncidentRouting
from app.domain.emergency.incidents import NewIncident
from app.domain.shared.errors import InvalidInput
from app.domain.shared.geo import GeoPoint

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
PLAN = NewIncident(
    IncidentType.DROWNING, Severity.CRITICAL, GeoPoint(119.93, 31.715), "演练：河边落水救援", True
)
ROUTING = IncidentRouting(uuid.uuid4(), uuid.uuid4())


def plan(at: datetime) -> ScheduledDrill:
    return ScheduledDrill.plan_new(PLAN, ROUTING, at, by=uuid.uuid4(), now=NOW)


@pytest.mark.parametrize(
    "at",
    [
        NOW,
        NOW + timedelta(seconds=59),
        NOW - timedelta(days=1),
        NOW + timedelta(days=367),
        datetime(2026, 11, 24, 10, 0),  # no time zone
    ],
)
def test_time_must_be_a_minute_to_a_year_ahead(at: datetime) -> None:
    with pytest.raises(InvalidInput):
        plan(at)


def test_raised_once_or_cancelled_before() -> None:
    drill = plan(NOW + timedelta(minutes=1))
    assert drill.status == DrillStatus.SCHEDULED
    incident = uuid.uuid4()
    drill.raised(incident)
    assert (drill.status, drill.incident_id) == (DrillStatus.RAISED, incident)
    with pytest.raises(DrillNotScheduled):
        drill.raised(uuid.uuid4())
    with pytest.raises(DrillNotScheduled):
        drill.cancel()

    other = plan(NOW + timedelta(days=366))
    other.cancel()
    assert other.status == DrillStatus.CANCELLED
    with pytest.raises(DrillNotScheduled):
        other.raised(uuid.uuid4())
