"""Drills (应急处突演练 / 拉动测试) and the readiness score (应急单元响应能力).

Only drills count: results are built from drills alone (``NotADrill`` for a real
incident) and every aggregate skips any result not marked as a drill.

Per drill and unit (``DrillResult``), measured from the unit's first alert in that drill:
- time to first accept: the first member of the unit to accept;
- time to first arrival: the first member of the unit on scene;
- response share: members of the unit who answered (accepted or declined) over those
  alerted — an answer, even "no", shows the member was reachable.

Score of one drill, 0–100:
    100 × (w_accept × T(accept, target_accept)
         + w_arrival × T(arrival, target_arrival)
         + w_share × share)
where T(t, target) is 1 up to the target, falls linearly to 0 at ``zero_factor`` × target
and is 0 beyond or when it never happened. Defaults: accept within 60 s, arrival within
5 min, weights 0.3 / 0.4 / 0.3, zero at 3 × target.

A unit's score over a period is the mean of its drill scores for drills alerted in that
period (start inclusive, end exclusive); a station's is the mean over its units that have
a score — a unit with no drill in the period has no score (None), never zero, and does
not pull the station down. The raw times are kept beside every score.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from statistics import fmean

from app.domain.emergency.errors import NotADrill, invalid
from app.domain.emergency.incident import Incident
from app.domain.emergency.responses import Response, ResponseStatus


@dataclass(frozen=True, slots=True)
class Period:
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise invalid(
                "period_timezone",
                "start",
                "Give start and end with a time zone offset.",
                "统计期须带时区。",
            )
        if not self.start < self.end:
            raise invalid(
                "period_invalid",
                "end",
                "The period ends after it starts.",
                "统计期结束须晚于开始。",
            )

    def contains(self, at: datetime) -> bool:
        return self.start <= at < self.end


@dataclass(frozen=True, slots=True)
class DrillResult:
    incident_id: uuid.UUID
    unit_id: uuid.UUID
    station_id: uuid.UUID | None
    drill: bool
    alerted_at: datetime
    alerted_members: int
    responded_members: int
    accepted_members: int
    first_accept_s: float | None
    first_arrival_s: float | None

    @property
    def response_share(self) -> float:
        return self.responded_members / self.alerted_members if self.alerted_members else 0.0


def _first(responses: list[Response], status: ResponseStatus) -> datetime | None:
    times = [t for r in responses if (t := r.at_of(status)) is not None]
    return min(times) if times else None


def drill_results(
    incident: Incident, unit_of: Mapping[uuid.UUID, uuid.UUID] | None = None
) -> list[DrillResult]:
    """One result per unit alerted in a drill. A member counts for the unit they were
    alerted through, else the one ``unit_of`` (member → unit) names; others are skipped."""
    if not incident.drill:
        raise NotADrill()
    by_unit: dict[uuid.UUID, list[Response]] = {}
    for response in incident.responses.values():
        unit = response.unit_id or (unit_of or {}).get(response.member_id)
        if unit is not None:
            by_unit.setdefault(unit, []).append(response)
    results = []
    for unit, responses in by_unit.items():
        alerted = min(r.alerted_at for r in responses)
        accept = _first(responses, ResponseStatus.ACCEPTED)
        arrival = _first(responses, ResponseStatus.ON_SCENE)
        results.append(
            DrillResult(
                incident_id=incident.id,
                unit_id=unit,
                station_id=incident.routing.station_id,
                drill=True,
                alerted_at=alerted,
                alerted_members=len(responses),
                responded_members=sum(1 for r in responses if r.answered),
                accepted_members=sum(1 for r in responses if r.accepted),
                first_accept_s=(accept - alerted).total_seconds() if accept else None,
                first_arrival_s=(arrival - alerted).total_seconds() if arrival else None,
            )
        )
    return sorted(results, key=lambda r: str(r.unit_id))


@dataclass(frozen=True, slots=True)
class ReadinessTargets:
    accept_s: float = 60.0
    arrival_s: float = 300.0
    w_accept: float = 0.3
    w_arrival: float = 0.4
    w_share: float = 0.3
    zero_factor: float = 3.0

    def __post_init__(self) -> None:
        weights = (self.w_accept, self.w_arrival, self.w_share)
        if (
            self.accept_s <= 0
            or self.arrival_s <= 0
            or self.zero_factor <= 1
            or any(w < 0 for w in weights)
            or not math.isclose(sum(weights), 1.0)
        ):
            raise invalid(
                "targets_invalid",
                "targets",
                "Targets are positive, the zero factor above 1 and the weights sum to 1.",
                "目标时间须为正数，归零倍数须大于1，权重之和须为1。",
            )


def timeliness(seconds: float | None, target: float, zero_factor: float) -> float:
    """1 up to ``target``, linear to 0 at ``zero_factor × target``; 0 when None."""
    if seconds is None:
        return 0.0
    if seconds <= target:
        return 1.0
    limit = target * zero_factor
    return max(0.0, (limit - seconds) / (limit - target))


def drill_score(result: DrillResult, targets: ReadinessTargets = ReadinessTargets()) -> float:
    t = targets
    value = (
        t.w_accept * timeliness(result.first_accept_s, t.accept_s, t.zero_factor)
        + t.w_arrival * timeliness(result.first_arrival_s, t.arrival_s, t.zero_factor)
        + t.w_share * result.response_share
    )
    return round(100 * value, 1)


def _mean(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return fmean(present) if present else None


@dataclass(frozen=True, slots=True)
class UnitReadiness:
    unit_id: uuid.UUID
    score: float | None  # None: no drill in the period
    results: tuple[DrillResult, ...]
    mean_first_accept_s: float | None
    mean_first_arrival_s: float | None
    response_share: float | None  # answered over alerted across the period's drills

    @property
    def drills(self) -> int:
        return len(self.results)


def unit_readiness(
    unit_id: uuid.UUID,
    results: Iterable[DrillResult],
    period: Period,
    targets: ReadinessTargets = ReadinessTargets(),
) -> UnitReadiness:
    mine = tuple(
        sorted(
            (
                r
                for r in results
                if r.drill and r.unit_id == unit_id and period.contains(r.alerted_at)
            ),
            key=lambda r: r.alerted_at,
        )
    )
    if not mine:
        return UnitReadiness(unit_id, None, (), None, None, None)
    alerted = sum(r.alerted_members for r in mine)
    return UnitReadiness(
        unit_id=unit_id,
        score=round(fmean(drill_score(r, targets) for r in mine), 1),
        results=mine,
        mean_first_accept_s=_mean(r.first_accept_s for r in mine),
        mean_first_arrival_s=_mean(r.first_arrival_s for r in mine),
        response_share=sum(r.responded_members for r in mine) / alerted if alerted else None,
    )


@dataclass(frozen=True, slots=True)
class StationReadiness:
    station_id: uuid.UUID
    score: float | None  # None: no unit of the station drilled in the period
    units: tuple[UnitReadiness, ...]

    @property
    def scored_units(self) -> int:
        return sum(1 for u in self.units if u.score is not None)

    @property
    def unscored_unit_ids(self) -> tuple[uuid.UUID, ...]:
        return tuple(u.unit_id for u in self.units if u.score is None)


def station_readiness(
    station_id: uuid.UUID,
    unit_ids: Iterable[uuid.UUID],
    results: Iterable[DrillResult],
    period: Period,
    targets: ReadinessTargets = ReadinessTargets(),
) -> StationReadiness:
    """Every unit of the station (``unit_ids``), each scored on its own drills."""
    pool = list(results)
    units = tuple(unit_readiness(u, pool, period, targets) for u in dict.fromkeys(unit_ids))
    scores = [u.score for u in units if u.score is not None]
    return StationReadiness(station_id, round(fmean(scores), 1) if scores else None, units)
