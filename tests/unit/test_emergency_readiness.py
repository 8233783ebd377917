"""Drills (应急处突演练) and the readiness score: drills only, raw times kept."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from app.domain.emergency.errors import NotADrill
from app.domain.emergency.glossary import IncidentType, RaisedBy, Severity
from app.domain.emergency.incident import Incident, IncidentRouting
from app.domain.emergency.readiness import (
    DrillResult,
    Period,
    ReadinessTargets,
    drill_results,
    drill_score,
    station_readiness,
    timeliness,
    unit_readiness,
)
from app.domain.shared.errors import InvalidInput
from app.domain.shared.geo import GeoPoint

T0 = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)
STATION, DISTRICT = uuid.uuid4(), uuid.uuid4()
UNIT, OTHER_UNIT, IDLE_UNIT = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
A, B, C, D = (uuid.uuid4() for _ in range(4))
NOVEMBER = Period(datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def run(drill: bool) -> Incident:
    inc = Incident.raise_new(
        id=uuid.uuid4(),
        type=IncidentType.MEDICAL,
        severity=Severity.HIGH,
        location=GeoPoint(119.95, 31.70),
        description="拉动测试：马拉松终点附近有跑者晕倒" if drill else "广场有老人晕倒",
        raised_by=RaisedBy.OFFICER,
        raised_by_id=uuid.uuid4(),
        routing=IncidentRouting(DISTRICT, STATION),
        drill=drill,
        at=T0,
    )
    inc.start_dispatch(at=at(0))
    inc.alert(A, at=at(0), unit_id=UNIT)
    inc.alert(B, at=at(0), unit_id=UNIT)
    inc.alert(C, at=at(0), unit_id=UNIT)
    inc.alert(D, at=at(10))  # alerted as a member; unit known from the membership map
    inc.accept(A, at=at(45))
    inc.on_my_way(A, at=at(50))
    inc.decline(B, at=at(70))
    inc.accept(D, at=at(20))
    inc.on_scene(D, at=at(130))
    inc.on_scene(A, at=at(240))
    inc.resolve(at=at(600), by=None)
    return inc


def result(
    accept: float | None,
    arrival: float | None,
    responded: int = 2,
    alerted: int = 3,
    unit: uuid.UUID = UNIT,
    drill: bool = True,
    when: datetime = T0,
) -> DrillResult:
    return DrillResult(
        uuid.uuid4(), unit, STATION, drill, when, alerted, responded, 1, accept, arrival
    )


def test_results_per_unit_from_a_drill() -> None:
    results = drill_results(run(drill=True), unit_of={D: OTHER_UNIT})
    by_unit = {r.unit_id: r for r in results}
    mine = by_unit[UNIT]
    assert (mine.first_accept_s, mine.first_arrival_s) == (45, 240)
    assert (mine.alerted_members, mine.responded_members, mine.accepted_members) == (3, 2, 1)
    assert mine.response_share == pytest.approx(2 / 3)
    other = by_unit[OTHER_UNIT]
    assert (other.first_accept_s, other.first_arrival_s) == (10, 120)  # from its own alert
    assert all(r.drill for r in results)


def test_real_incidents_give_no_drill_results() -> None:
    with pytest.raises(NotADrill):
        drill_results(run(drill=False))


def test_timeliness_is_full_to_target_then_linear_to_zero() -> None:
    assert timeliness(60, 60, 3) == 1.0
    assert timeliness(120, 60, 3) == pytest.approx(0.5)
    assert timeliness(180, 60, 3) == 0.0
    assert timeliness(500, 60, 3) == 0.0
    assert timeliness(None, 60, 3) == 0.0


def test_drill_score_formula() -> None:
    # accept 45 s (1.0), arrival 240 s (1.0), share 2/3: 100 × (0.3 + 0.4 + 0.3 × 2/3) = 90
    assert drill_score(result(45, 240)) == 90.0
    # accept 120 s (0.5), never arrived (0), all answered: 100 × (0.15 + 0 + 0.3) = 45
    assert drill_score(result(120, None, responded=3)) == 45.0
    assert drill_score(result(None, None, responded=0)) == 0.0
    custom = ReadinessTargets(accept_s=30, arrival_s=120, w_accept=0.5, w_arrival=0.5, w_share=0)
    assert drill_score(result(60, 120), custom) == 75.0


def test_targets_are_validated() -> None:
    with pytest.raises(InvalidInput):
        ReadinessTargets(w_accept=0.5, w_arrival=0.5, w_share=0.5)
    with pytest.raises(InvalidInput):
        ReadinessTargets(accept_s=0)
    with pytest.raises(InvalidInput):
        Period(T0, T0)


def test_unit_score_is_the_mean_over_drills_in_the_period() -> None:
    results = [
        result(45, 240),  # 90
        result(120, None, responded=3),  # 45
        result(10, 10, responded=3, when=datetime(2026, 12, 1, tzinfo=UTC)),  # outside
        result(10, 10, responded=3, drill=False),  # a real incident never counts
        result(10, 10, responded=3, unit=OTHER_UNIT),
    ]
    readiness = unit_readiness(UNIT, results, NOVEMBER)
    assert readiness.score == 67.5
    assert readiness.drills == 2
    assert readiness.mean_first_accept_s == pytest.approx(82.5)
    assert readiness.mean_first_arrival_s == 240
    assert readiness.response_share == pytest.approx(5 / 6)


def test_unit_without_drills_has_no_score_not_zero() -> None:
    readiness = unit_readiness(IDLE_UNIT, [result(45, 240)], NOVEMBER)
    assert readiness.score is None
    assert readiness.drills == 0
    assert readiness.mean_first_accept_s is None


def test_station_score_averages_units_that_drilled() -> None:
    results = [result(45, 240), result(10, 10, responded=3, unit=OTHER_UNIT)]  # 90 and 100
    station = station_readiness(STATION, [UNIT, OTHER_UNIT, IDLE_UNIT], results, NOVEMBER)
    assert station.score == 95.0
    assert station.scored_units == 2
    assert station.unscored_unit_ids == (IDLE_UNIT,)
    empty = station_readiness(STATION, [IDLE_UNIT], results, NOVEMBER)
    assert empty.score is None


def test_end_to_end_drill_gives_a_score_and_real_incidents_stay_out() -> None:
    drill = drill_results(run(drill=True))
    assert [r.unit_id for r in drill] == [UNIT]  # D had no unit: skipped
    readiness = unit_readiness(UNIT, drill, NOVEMBER)
    assert readiness.score == 90.0
