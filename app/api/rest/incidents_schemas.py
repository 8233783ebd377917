"""Request and response bodies of /api/v1/emergency/incidents (急、难、险), responses,
the timeline, drill results and readiness."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.api.rest.common import LocationIn, LocationOut
from app.domain.emergency.dispatch import (
    DEFAULT_CHANNELS,
    MAX_ALERTS_PER_RING,
    MAX_CHANNEL_DELAY_S,
    MAX_RADIUS_M,
    MAX_RINGS,
    MAX_TIMEOUT_S,
    Channel,
    ChannelStep,
    Ring,
    RingPolicy,
)
from app.domain.emergency.drills import ScheduledDrill
from app.domain.emergency.glossary import (
    INCIDENT_TYPE_LABELS,
    SEVERITY_LABELS,
    Capability,
    IncidentType,
    RaisedBy,
    Severity,
)
from app.domain.emergency.incident import (
    DESCRIPTION_MAX,
    MAX_MEDIA,
    REASON_MAX,
    IncidentEventKind,
    IncidentStatus,
    TimelineEntry,
)
from app.domain.emergency.incidents import DrillReport, IncidentView
from app.domain.emergency.readiness import DrillResult, StationReadiness, UnitReadiness
from app.domain.emergency.responses import RESPONSE_LABELS, Response, ResponseStatus
from app.domain.shared.geo import Crs

INCIDENT_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not signed in"},
    404: {"description": "No such incident you may see"},
    422: {"description": "Invalid input"},
}
RAISE_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not signed in"},
    403: {
        "description": "Outside your jurisdiction (staff), a drill or command-centre incident "
        "raised by a volunteer, or not a serving volunteer"
    },
    409: {"description": "The Idempotency-Key is in flight or was used for another body"},
    422: {"description": "Invalid input, or outside every district served"},
}
RESPOND_ERRORS: dict[int | str, dict[str, Any]] = {
    **INCIDENT_ERRORS,
    403: {"description": "Not a serving volunteer"},
    404: {"description": "No such incident, or you were not alerted to it"},
    409: {"description": "Not allowed in the incident's or your response's state"},
}
STAFF_ERRORS: dict[int | str, dict[str, Any]] = {
    **INCIDENT_ERRORS,
    403: {"description": "Not writing staff of the incident's station"},
    409: {"description": "Not allowed in the incident's state"},
}


class IncidentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: IncidentType
    severity: Severity = Severity.HIGH
    location: LocationIn
    description: str = Field(
        min_length=1, max_length=DESCRIPTION_MAX, examples=["湖塘镇花园街菜场门口有人持刀斗殴"]
    )
    drill: bool = Field(False, description="演练/拉动测试: staff only, fixed once raised")
    media_ids: list[uuid.UUID] = Field(default_factory=list, max_length=MAX_MEDIA)
    command_centre: bool = Field(
        False, description="District staff raising for the command centre (指挥中心)"
    )


class ResponseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: Literal["accept", "decline", "on_my_way", "on_scene", "stand_down"]


class ResolveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(None, max_length=REASON_MAX)


class CancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=REASON_MAX, examples=["误报，现场无异常"])


class ResponseStepOut(BaseModel):
    status: ResponseStatus
    at: datetime
    by_officer: bool


class ResponseOut(BaseModel):
    member_id: uuid.UUID
    unit_id: uuid.UUID | None
    ring: int
    status: ResponseStatus
    status_label: str
    alerted_at: datetime
    steps: list[ResponseStepOut]

    @classmethod
    def of(cls, r: Response) -> ResponseOut:
        return cls(
            member_id=r.member_id,
            unit_id=r.unit_id,
            ring=r.ring,
            status=r.status,
            status_label=RESPONSE_LABELS[r.status],
            alerted_at=r.alerted_at,
            steps=[
                ResponseStepOut(status=s.status, at=s.at, by_officer=s.by_officer) for s in r.steps
            ],
        )


class TimelineEntryOut(BaseModel):
    at: datetime
    kind: IncidentEventKind
    member_id: uuid.UUID | None = None
    ring: int | None = None
    by_officer: bool = False

    @classmethod
    def of(cls, e: TimelineEntry) -> TimelineEntryOut:
        return cls(
            at=e.at, kind=e.kind, member_id=e.member_id, ring=e.ring, by_officer=e.by_officer
        )


class IncidentOut(BaseModel):
    id: uuid.UUID
    type: IncidentType
    type_label: str
    severity: Severity
    severity_label: str
    drill: bool = Field(description="演练: never counted or shown as a real incident")
    status: IncidentStatus
    location: LocationOut
    description: str
    raised_by: RaisedBy
    raised_at: datetime
    station_id: uuid.UUID | None
    district_id: uuid.UUID
    media_ids: list[uuid.UUID]
    ring: int | None = Field(description="The ring dispatch is in (0 = nearest)")
    accepts: int
    exhausted_at: datetime | None
    stood_down_at: datetime | None
    closed_at: datetime | None
    close_note: str | None
    my_response: ResponseOut | None = Field(description="The caller's own response, if alerted")
    responses: list[ResponseOut] = Field(
        description="Staff: every alerted member's response; a volunteer: their own only"
    )
    timeline: list[TimelineEntryOut] = Field(
        description="Every step in time order (a volunteer sees the incident's steps and their own)"
    )

    @classmethod
    def of(cls, view: IncidentView, crs: Crs = Crs.WGS84) -> IncidentOut:
        i = view.incident
        own = view.viewer_member_id
        timeline = [
            TimelineEntryOut.of(e)
            for e in i.timeline()
            if view.staff or e.member_id is None or e.member_id == own
        ]
        mine = view.my_response
        return cls(
            id=i.id,
            type=i.type,
            type_label=INCIDENT_TYPE_LABELS[i.type],
            severity=i.severity,
            severity_label=SEVERITY_LABELS[i.severity],
            drill=i.drill,
            status=i.status,
            location=LocationOut.of(i.location, crs),
            description=i.description,
            raised_by=i.raised_by,
            raised_at=i.raised_at,
            station_id=i.routing.station_id,
            district_id=i.routing.district_id,
            media_ids=list(i.media_ids),
            ring=i.ring_index,
            accepts=i.accepts,
            exhausted_at=i.exhausted_at,
            stood_down_at=i.stood_down_at,
            closed_at=i.closed_at,
            close_note=i.close_note,
            my_response=ResponseOut.of(mine) if mine else None,
            responses=[ResponseOut.of(r) for r in view.responses],
            timeline=timeline,
        )


class DrillResultOut(BaseModel):
    unit_id: uuid.UUID
    alerted_at: datetime
    alerted_members: int
    responded_members: int
    accepted_members: int
    response_share: float
    first_accept_s: float | None
    first_arrival_s: float | None
    score: float | None = Field(None, description="0–100 (see the readiness formula)")

    @classmethod
    def of(cls, r: DrillResult, score: float | None = None) -> DrillResultOut:
        return cls(
            unit_id=r.unit_id,
            alerted_at=r.alerted_at,
            alerted_members=r.alerted_members,
            responded_members=r.responded_members,
            accepted_members=r.accepted_members,
            response_share=round(r.response_share, 3),
            first_accept_s=r.first_accept_s,
            first_arrival_s=r.first_arrival_s,
            score=score,
        )


class DrillReportOut(BaseModel):
    incident_id: uuid.UUID
    drill: Literal[True] = True
    results: list[DrillResultOut]

    @classmethod
    def of(cls, report: DrillReport) -> DrillReportOut:
        return cls(
            incident_id=report.incident.id,
            results=[DrillResultOut.of(r, s) for r, s in report.results],
        )


class UnitReadinessOut(BaseModel):
    unit_id: uuid.UUID
    score: float | None = Field(description="None: no drill in the period (never zero)")
    drills: int
    mean_first_accept_s: float | None
    mean_first_arrival_s: float | None
    response_share: float | None
    results: list[DrillResultOut]

    @classmethod
    def of(cls, u: UnitReadiness) -> UnitReadinessOut:
        return cls(
            unit_id=u.unit_id,
            score=u.score,
            drills=u.drills,
            mean_first_accept_s=u.mean_first_accept_s,
            mean_first_arrival_s=u.mean_first_arrival_s,
            response_share=u.response_share,
            results=[DrillResultOut.of(r) for r in u.results],
        )


class ReadinessOut(BaseModel):
    station_id: uuid.UUID
    start: datetime
    end: datetime
    score: float | None = Field(description="Mean over the station's scored units")
    scored_units: int
    units: list[UnitReadinessOut]

    @classmethod
    def of(cls, s: StationReadiness, start: datetime, end: datetime) -> ReadinessOut:
        return cls(
            station_id=s.station_id,
            start=start,
            end=end,
            score=s.score,
            scored_units=s.scored_units,
            units=[UnitReadinessOut.of(u) for u in s.units],
        )


class RingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    radius_m: int = Field(ge=1, le=MAX_RADIUS_M, examples=[500])
    max_alerts: int = Field(ge=1, le=MAX_ALERTS_PER_RING, examples=[5])
    timeout_s: int = Field(ge=1, le=MAX_TIMEOUT_S, examples=[60])


class ChannelStepIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel: Channel
    delay_s: int = Field(ge=0, le=MAX_CHANNEL_DELAY_S)


class DispatchPolicyIn(BaseModel):
    """Rings of strictly growing radius; the first channel at 0 s, delays increasing."""

    model_config = ConfigDict(extra="forbid")
    rings: list[RingIn] = Field(min_length=1, max_length=MAX_RINGS)
    needed_accepts: int = Field(ge=1, le=MAX_ALERTS_PER_RING)
    required: list[Capability] = Field(default_factory=list, max_length=len(Capability))
    channels: list[ChannelStepIn] = Field(
        default_factory=lambda: [
            ChannelStepIn(channel=s.channel, delay_s=s.delay_s) for s in DEFAULT_CHANNELS
        ],
        min_length=1,
        max_length=len(Channel),
    )

    def to_policy(self) -> RingPolicy:
        return RingPolicy(
            rings=tuple(Ring(r.radius_m, r.max_alerts, r.timeout_s) for r in self.rings),
            needed_accepts=self.needed_accepts,
            required=frozenset(self.required),
            channels=tuple(ChannelStep(c.channel, c.delay_s) for c in self.channels),
        )


class DispatchPolicyOut(BaseModel):
    incident_type: IncidentType
    type_label: str
    customised: bool = Field(description="False: the built-in default applies")
    rings: list[RingIn]
    needed_accepts: int
    required: list[Capability]
    channels: list[ChannelStepIn]

    @classmethod
    def of(cls, t: IncidentType, policy: RingPolicy, customised: bool) -> DispatchPolicyOut:
        return cls(
            incident_type=t,
            type_label=INCIDENT_TYPE_LABELS[t],
            customised=customised,
            rings=[
                RingIn(radius_m=r.radius_m, max_alerts=r.max_alerts, timeout_s=r.timeout_s)
                for r in policy.rings
            ],
            needed_accepts=policy.needed_accepts,
            required=sorted(policy.required),
            channels=[ChannelStepIn(channel=s.channel, delay_s=s.delay_s) for s in policy.channels],
        )


class DrillIn(BaseModel):
    """A drill planned ahead: raised at ``scheduled_at`` as an incident marked drill."""

    model_config = ConfigDict(extra="forbid")
    type: IncidentType
    severity: Severity = Severity.HIGH
    location: LocationIn
    description: str = Field(
        min_length=1, max_length=DESCRIPTION_MAX, examples=["演练：湖塘农贸市场突发斗殴拉动测试"]
    )
    scheduled_at: datetime = Field(description="From a minute to a year ahead, with an offset")


class DrillOut(BaseModel):
    id: uuid.UUID
    type: IncidentType
    type_label: str
    severity: Severity
    location: LocationOut
    description: str
    station_id: uuid.UUID | None
    district_id: uuid.UUID
    scheduled_at: datetime
    status: Literal["scheduled", "raised", "cancelled"]
    incident_id: uuid.UUID | None = Field(description="The drill incident once raised")
    created_by: uuid.UUID
    created_at: datetime

    @classmethod
    def of(cls, d: ScheduledDrill, crs: Crs = Crs.WGS84) -> DrillOut:
        return cls(
            id=d.id,
            type=d.plan.type,
            type_label=INCIDENT_TYPE_LABELS[d.plan.type],
            severity=d.plan.severity,
            location=LocationOut.of(d.plan.location, crs),
            description=d.plan.description,
            station_id=d.routing.station_id,
            district_id=d.routing.district_id,
            scheduled_at=d.scheduled_at,
            status=d.status.value,
            incident_id=d.incident_id,
            created_by=d.created_by,
            created_at=d.created_at,
        )
