"""The incident (急、难、险) and the responses to it.

open → dispatching → resolved / cancelled; an open incident may also be resolved or
cancelled before any dispatch. Rules:
- The station is always informed first: the first event of every incident is ``raised``,
  which carries the routing and ``notify_station``, whoever raised it (officer, command
  centre or volunteer).
- A drill (演练) is marked when raised and can never change (assigning another value
  raises ``DrillFlagFixed``); every event carries the flag, so no client or statistic can
  take a drill for a real incident or the reverse.
- Dispatch goes ring by ring (see ``dispatch``): rings widen one at a time; members are
  alerted only while dispatching and before the stand-down, each at most once.
- The officer's stand-down (警力到场，全体解除) stands down every response that is not
  final and stops further alerts; resolving or cancelling does the same.
- No step is earlier than the incident was raised.
Every change is kept as an ``IncidentEvent``; ``timeline()`` rebuilds the ordered steps.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from app.domain.emergency.errors import (
    AlreadyAlerted,
    DrillFlagFixed,
    IncidentInvalidTransition,
    NotAlerted,
    StepOutOfOrder,
    invalid,
)
from app.domain.emergency.glossary import IncidentType, RaisedBy, Severity
from app.domain.emergency.responses import COMMITTED, Response, ResponseStatus, ResponseStep
from app.domain.shared.geo import GeoPoint
from app.domain.shared.ids import new_id
from app.domain.shared.text import storable

DESCRIPTION_MAX = 2000
REASON_MAX = 500
MAX_MEDIA = 9


class IncidentStatus(StrEnum):
    OPEN = "open"
    DISPATCHING = "dispatching"
    RESOLVED = "resolved"
    CANCELLED = "cancelled"


LIVE = frozenset({IncidentStatus.OPEN, IncidentStatus.DISPATCHING})


class IncidentEventKind(StrEnum):
    RAISED = "raised"
    DISPATCH_STARTED = "dispatch_started"
    RING_WIDENED = "ring_widened"
    DISPATCH_EXHAUSTED = "dispatch_exhausted"  # every ring tried without enough accepts
    ALERTED = "alerted"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    ON_MY_WAY = "on_my_way"
    ON_SCENE = "on_scene"
    STOOD_DOWN = "stood_down"
    ALL_STOOD_DOWN = "all_stood_down"
    RESOLVED = "resolved"
    CANCELLED = "cancelled"


_STEP_EVENT: dict[ResponseStatus, IncidentEventKind] = {
    ResponseStatus.ALERTED: IncidentEventKind.ALERTED,
    ResponseStatus.ACCEPTED: IncidentEventKind.ACCEPTED,
    ResponseStatus.DECLINED: IncidentEventKind.DECLINED,
    ResponseStatus.ON_MY_WAY: IncidentEventKind.ON_MY_WAY,
    ResponseStatus.ON_SCENE: IncidentEventKind.ON_SCENE,
    ResponseStatus.STOOD_DOWN: IncidentEventKind.STOOD_DOWN,
}


@dataclass(frozen=True, slots=True)
class IncidentRouting:
    district_id: uuid.UUID
    station_id: uuid.UUID | None  # None: outside every station, the district's queue


@dataclass(frozen=True, slots=True)
class IncidentEvent:
    id: uuid.UUID
    incident_id: uuid.UUID
    kind: IncidentEventKind
    at: datetime
    drill: bool
    by: uuid.UUID | None = None
    member_id: uuid.UUID | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    at: datetime
    kind: IncidentEventKind
    member_id: uuid.UUID | None = None
    ring: int | None = None
    by_officer: bool = False


def _text(value: str | None, limit: int, code: str, field_name: str, zh: str) -> str:
    text = (value or "").strip()
    if not text or len(text) > limit or not storable(text):
        raise invalid(code, field_name, f"The {field_name} must be 1 to {limit} characters.", zh)
    return text


@dataclass(slots=True)
class Incident:
    id: uuid.UUID
    type: IncidentType
    severity: Severity
    location: GeoPoint
    description: str
    raised_by: RaisedBy
    raised_by_id: uuid.UUID | None  # the officer's or volunteer's account; None: API client
    routing: IncidentRouting
    drill: bool
    raised_at: datetime
    media_ids: tuple[uuid.UUID, ...] = ()
    status: IncidentStatus = IncidentStatus.OPEN
    ring_index: int | None = None
    ring_started_at: datetime | None = None
    rings: list[tuple[int, datetime]] = field(default_factory=list)  # (ring, started)
    exhausted_at: datetime | None = None
    responses: dict[uuid.UUID, Response] = field(default_factory=dict)
    stood_down_at: datetime | None = None
    stood_down_by: uuid.UUID | None = None
    closed_at: datetime | None = None
    closed_by: uuid.UUID | None = None
    close_note: str | None = None
    version: int = 1
    pending: list[IncidentEvent] = field(default_factory=list)

    def __setattr__(self, name: str, value: object) -> None:
        if name == "drill":
            try:
                current = object.__getattribute__(self, "drill")
            except AttributeError:
                pass  # being built
            else:
                if current != value:
                    raise DrillFlagFixed()
        object.__setattr__(self, name, value)

    @classmethod
    def raise_new(
        cls,
        *,
        id: uuid.UUID,
        type: IncidentType,
        severity: Severity,
        location: GeoPoint,
        description: str,
        raised_by: RaisedBy,
        raised_by_id: uuid.UUID | None,
        routing: IncidentRouting,
        drill: bool,
        at: datetime,
        media_ids: tuple[uuid.UUID, ...] = (),
    ) -> Incident:
        media = tuple(dict.fromkeys(media_ids))
        if len(media) > MAX_MEDIA:
            raise invalid(
                "too_many_media",
                "media_ids",
                f"Attach at most {MAX_MEDIA} photos or videos.",
                f"最多附{MAX_MEDIA}个图片或视频。",
            )
        if raised_by != RaisedBy.COMMAND_CENTRE and raised_by_id is None:
            raise invalid(
                "raiser_required",
                "raised_by_id",
                "An officer or volunteer raising an incident is named.",
                "民警或志愿者发起事件须记录发起人。",
            )
        incident = cls(
            id=id,
            type=type,
            severity=severity,
            location=location,
            description=_text(
                description,
                DESCRIPTION_MAX,
                "description_invalid",
                "description",
                f"请描述现场情况（1至{DESCRIPTION_MAX}字）。",
            ),
            raised_by=raised_by,
            raised_by_id=raised_by_id,
            routing=routing,
            drill=drill,
            raised_at=at,
            media_ids=media,
        )
        incident._record(
            IncidentEventKind.RAISED,
            at,
            by=raised_by_id,
            detail={
                "type": type.value,
                "severity": severity.value,
                "raised_by": raised_by.value,
                "notify_station": True,
                "station_id": str(routing.station_id) if routing.station_id else None,
                "district_id": str(routing.district_id),
            },
        )
        return incident

    # --- reading --------------------------------------------------------------------------

    @property
    def is_live(self) -> bool:
        return self.status in LIVE

    @property
    def accepts(self) -> int:
        """Members who accepted (still counted after being stood down)."""
        return sum(1 for r in self.responses.values() if r.accepted)

    @property
    def committed(self) -> int:
        """Members who accepted and are still engaged."""
        return sum(1 for r in self.responses.values() if r.status in COMMITTED)

    @property
    def alerted_unit_ids(self) -> frozenset[uuid.UUID]:
        return frozenset(r.unit_id for r in self.responses.values() if r.unit_id is not None)

    def response(self, member_id: uuid.UUID) -> Response:
        found = self.responses.get(member_id)
        if found is None:
            raise NotAlerted()
        return found

    def timeline(self) -> list[TimelineEntry]:
        """Every step in time order (ties keep the order they happened in)."""
        entries = [TimelineEntry(self.raised_at, IncidentEventKind.RAISED)]
        for number, (ring, started) in enumerate(self.rings):
            kind = (
                IncidentEventKind.DISPATCH_STARTED
                if number == 0
                else IncidentEventKind.RING_WIDENED
            )
            entries.append(TimelineEntry(started, kind, ring=ring))
        for r in self.responses.values():
            entries += [
                TimelineEntry(s.at, _STEP_EVENT[s.status], r.member_id, r.ring, s.by_officer)
                for s in r.steps
            ]
        if self.exhausted_at is not None:
            entries.append(TimelineEntry(self.exhausted_at, IncidentEventKind.DISPATCH_EXHAUSTED))
        if self.stood_down_at is not None:
            entries.append(TimelineEntry(self.stood_down_at, IncidentEventKind.ALL_STOOD_DOWN))
        if self.closed_at is not None:
            kind = (
                IncidentEventKind.RESOLVED
                if self.status == IncidentStatus.RESOLVED
                else IncidentEventKind.CANCELLED
            )
            entries.append(TimelineEntry(self.closed_at, kind))
        return sorted(entries, key=lambda e: e.at)

    # --- changes --------------------------------------------------------------------------

    def _record(
        self,
        kind: IncidentEventKind,
        at: datetime,
        *,
        by: uuid.UUID | None = None,
        member_id: uuid.UUID | None = None,
        detail: dict[str, Any] | None = None,
    ) -> IncidentEvent:
        event = IncidentEvent(new_id(), self.id, kind, at, self.drill, by, member_id, detail or {})
        self.pending.append(event)
        return event

    def _check(self, at: datetime, *allowed: IncidentStatus) -> None:
        if self.status not in allowed:
            raise IncidentInvalidTransition()
        if at < self.raised_at:
            raise StepOutOfOrder()

    def _check_alerting(self, at: datetime) -> None:
        self._check(at, IncidentStatus.DISPATCHING)
        if self.stood_down_at is not None:
            raise IncidentInvalidTransition(
                "Everyone was stood down; no more alerts.", "已全体解除，不再发出调派通知。"
            )

    def start_dispatch(self, *, at: datetime) -> None:
        self._check(at, IncidentStatus.OPEN)
        self.status = IncidentStatus.DISPATCHING
        self._enter_ring(0, at)
        self._record(IncidentEventKind.DISPATCH_STARTED, at, detail={"ring": 0})

    def _enter_ring(self, ring: int, at: datetime) -> None:
        self.ring_index, self.ring_started_at = ring, at
        self.rings.append((ring, at))

    def widen(self, to_ring: int, *, at: datetime) -> None:
        """Move to the next ring (one at a time)."""
        self._check_alerting(at)
        if self.ring_index is None or to_ring != self.ring_index + 1:
            raise IncidentInvalidTransition()
        self._enter_ring(to_ring, at)
        self._record(IncidentEventKind.RING_WIDENED, at, detail={"ring": to_ring})

    def exhaust(self, *, at: datetime) -> None:
        """Every ring was tried without enough accepts: the station is told (once)."""
        self._check_alerting(at)
        if self.exhausted_at is not None:
            raise IncidentInvalidTransition()
        self.exhausted_at = at
        self._record(
            IncidentEventKind.DISPATCH_EXHAUSTED,
            at,
            detail={"accepts": self.accepts, "notify_station": True},
        )

    def alert(
        self, member_id: uuid.UUID, *, at: datetime, unit_id: uuid.UUID | None = None
    ) -> None:
        self._check_alerting(at)
        if member_id in self.responses:
            raise AlreadyAlerted()
        assert self.ring_index is not None
        response = Response.alerted(member_id, unit_id, self.ring_index, at)
        self.responses[member_id] = response
        detail: dict[str, Any] = {"ring": self.ring_index}
        if unit_id is not None:
            detail["unit_id"] = str(unit_id)
        self._record(IncidentEventKind.ALERTED, at, member_id=member_id, detail=detail)

    def _member_step(self, member_id: uuid.UUID, to: ResponseStatus, at: datetime) -> None:
        self._check(at, IncidentStatus.DISPATCHING)
        step = self.response(member_id).move(to, at)
        self._record(_STEP_EVENT[step.status], at, by=member_id, member_id=member_id)

    def accept(self, member_id: uuid.UUID, *, at: datetime) -> None:
        self._member_step(member_id, ResponseStatus.ACCEPTED, at)

    def decline(self, member_id: uuid.UUID, *, at: datetime) -> None:
        self._member_step(member_id, ResponseStatus.DECLINED, at)

    def on_my_way(self, member_id: uuid.UUID, *, at: datetime) -> None:
        self._member_step(member_id, ResponseStatus.ON_MY_WAY, at)

    def on_scene(self, member_id: uuid.UUID, *, at: datetime) -> None:
        self._member_step(member_id, ResponseStatus.ON_SCENE, at)

    def stand_down(self, member_id: uuid.UUID, *, at: datetime) -> None:
        """The member stands themselves down (after accepting)."""
        self._member_step(member_id, ResponseStatus.STOOD_DOWN, at)

    def _stand_down_everyone(self, at: datetime, by: uuid.UUID | None) -> int:
        count = 0
        for response in self.responses.values():
            step: ResponseStep | None = response.stand_down_by_officer(at)
            if step is not None:
                count += 1
                self._record(
                    IncidentEventKind.STOOD_DOWN,
                    step.at,
                    by=by,
                    member_id=response.member_id,
                    detail={"by_officer": True},
                )
        return count

    def stand_down_all(self, *, at: datetime, by: uuid.UUID) -> int:
        """The officer stands everyone down (police on scene); returns how many."""
        self._check(at, *LIVE)
        if self.stood_down_at is not None:
            raise IncidentInvalidTransition()
        count = self._stand_down_everyone(at, by)
        self.stood_down_at, self.stood_down_by = at, by
        self._record(IncidentEventKind.ALL_STOOD_DOWN, at, by=by, detail={"count": count})
        return count

    def _close(
        self,
        to: IncidentStatus,
        kind: IncidentEventKind,
        at: datetime,
        by: uuid.UUID | None,
        note: str | None,
    ) -> None:
        self._check(at, *LIVE)
        self._stand_down_everyone(at, by)
        self.status, self.closed_at, self.closed_by, self.close_note = to, at, by, note
        self._record(kind, at, by=by, detail={"note": note} if note else {})

    def resolve(self, *, at: datetime, by: uuid.UUID | None, note: str | None = None) -> None:
        text = (
            _text(note, REASON_MAX, "note_invalid", "note", f"说明最多{REASON_MAX}字。")
            if (note and note.strip())
            else None
        )
        self._close(IncidentStatus.RESOLVED, IncidentEventKind.RESOLVED, at, by, text)

    def cancel(self, *, at: datetime, by: uuid.UUID | None, reason: str) -> None:
        """Cancelled (误报、重复): a reason is required."""
        text = _text(
            reason, REASON_MAX, "reason_invalid", "reason", f"请填写取消原因（1至{REASON_MAX}字）。"
        )
        self._close(IncidentStatus.CANCELLED, IncidentEventKind.CANCELLED, at, by, text)
