"""Use cases of incidents and dispatch (急、难、险: 发起、分圈调派、响应、解除).

Who may do what:
- writing staff of the station the location belongs to (or its district) raise incidents
  and drills, stand everyone down, resolve and cancel; a district's staff may mark an
  incident as raised for the command centre (指挥中心);
- a serving volunteer raises an incident (never a drill): the station is informed first
  like for any incident (the ``raised`` event and ``emergency.incident_raised``);
- an alerted member answers: accept or decline, then on my way, on scene, stood down;
- staff read their stations' incidents whole; volunteers read those they were alerted to
  or raised, with their own response only.

Dispatch starts when the incident is raised, in the same transaction: the first ring's
members are alerted before the request returns. The worker then calls ``dispatch_due``
every second or so for incidents whose ring decision is due (the ring's end, or at once
after a decline or a member standing down), and ``escalate_due`` for alerts whose next
channel is due: realtime goes at once (the event's notification), then push and SMS
through the outbox (``emergency.alert_push``, ``emergency.alert_sms``) per the policy's
channel schedule; a member no realtime connection took the alert from within a few
seconds (the first escalation check, set by the repository) counts as not connected and
is pushed at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final

from app.domain.emergency.dispatch import (
    Candidate,
    CandidateKind,
    Channel,
    DispatchAction,
    RingPolicy,
    escalate_channels,
    plan_dispatch,
    policy_for,
)
from app.domain.emergency.errors import IncidentNotFound, NotServing, invalid
from app.domain.emergency.glossary import IncidentType, RaisedBy, Severity
from app.domain.emergency.incident import Incident, IncidentRouting, IncidentStatus
from app.domain.emergency.incident_ports import (
    KEEP,
    DueResponse,
    IncidentSlice,
    IncidentUnitOfWork,
    KeepType,
)
from app.domain.emergency.readiness import (
    DrillResult,
    Period,
    ReadinessTargets,
    StationReadiness,
    drill_results,
    drill_score,
    station_readiness,
)
from app.domain.emergency.responses import Response, ResponseStatus
from app.domain.media.model import Attachment
from app.domain.media.services import attach_media
from app.domain.organisation.model import Routing
from app.domain.organisation.ports import JurisdictionLocator
from app.domain.organisation.services import OrgUnitNotFound
from app.domain.shared.clock import Clock
from app.domain.shared.errors import NotAllowed
from app.domain.shared.events import DomainEvent
from app.domain.shared.geo import GeoPoint
from app.domain.shared.ids import new_id
from app.domain.shared.scope import Role, Scope, system_scope

UowFactory = Callable[[Scope], IncidentUnitOfWork]
INCIDENT_RECORD = "emergency_incident"  # the record type media objects are attached to
MAX_CANDIDATES: Final = 1000
PAGE_MAX: Final = 200


class ResponseAction(StrEnum):
    """What an alerted member answers (the ``Incident`` method of the same name)."""

    ACCEPT = "accept"
    DECLINE = "decline"
    ON_MY_WAY = "on_my_way"
    ON_SCENE = "on_scene"
    STAND_DOWN = "stand_down"


_ACTIONS: Final = frozenset(a.value for a in ResponseAction)


@dataclass(frozen=True, slots=True)
class NewIncident:
    type: IncidentType
    severity: Severity
    location: GeoPoint
    description: str
    drill: bool = False
    media_ids: tuple[uuid.UUID, ...] = ()
    command_centre: bool = False  # raised by district staff for the command centre


@dataclass(frozen=True, slots=True)
class IncidentView:
    """An incident as the caller may see it: staff see every response; a volunteer only
    their own (``responses`` holds just theirs, or nothing)."""

    incident: Incident
    staff: bool
    viewer_member_id: uuid.UUID | None

    @property
    def responses(self) -> list[Response]:
        if self.staff:
            return sorted(self.incident.responses.values(), key=lambda r: r.alerted_at)
        mine = self.incident.responses.get(self.viewer_member_id) if self.viewer_member_id else None
        return [mine] if mine else []

    @property
    def my_response(self) -> Response | None:
        if self.viewer_member_id is None:
            return None
        return self.incident.responses.get(self.viewer_member_id)


@dataclass(frozen=True, slots=True)
class IncidentPage:
    items: list[IncidentView]
    has_more: bool


@dataclass(frozen=True, slots=True)
class DrillReport:
    """A drill's results per alerted unit, with the score of each (0–100)."""

    incident: Incident
    results: list[tuple[DrillResult, float]]


def _incident_event(name: str, incident: Incident, at: datetime, **extra: Any) -> DomainEvent:
    """An outbox event of the incident: its ids and routing, the drill flag, ``extra``."""
    body = {
        "incident_id": incident.id,
        "station_id": incident.routing.station_id,
        "district_id": incident.routing.district_id,
        "drill": incident.drill,
        **extra,
    }
    return DomainEvent(name, "emergency_incident", incident.id, at, body)


def _outside_area() -> Exception:
    return invalid(
        "outside_service_area",
        "location",
        "The location is outside every district served.",
        "该位置不在服务辖区内。",
    )


def _is_answer_freeing_a_place(action: str) -> bool:
    """A decline, or a member standing down, may leave the incident short: plan again."""
    return action in (ResponseAction.DECLINE, ResponseAction.STAND_DOWN)


class IncidentService:
    def __init__(
        self,
        uow_factory: UowFactory,
        clock: Clock,
        locator: JurisdictionLocator,
        *,
        targets: ReadinessTargets = ReadinessTargets(),
    ) -> None:
        self.uow_factory = uow_factory
        self.clock = clock
        self.locator = locator
        self.targets = targets

    # --- raising ----------------------------------------------------------------------------

    async def route(self, scope: Scope, new: NewIncident) -> tuple[Routing, RaisedBy]:
        """Where the incident belongs and who raises it; refuses what the caller may not
        raise there."""
        routing = Routing.of(await self.locator.locate(new.location))
        if routing is None:
            raise _outside_area()
        if scope.is_staff:
            if not scope.writes_at(routing.station_id, routing.district_id):
                raise NotAllowed(
                    "The location is outside your jurisdiction.", "该位置不在您的辖区内。"
                )
            if new.command_centre and routing.district_id not in scope.district_ids:
                raise NotAllowed(
                    "Only district staff raise incidents for the command centre.",
                    "只有分局工作人员可以代指挥中心发起事件。",
                )
            return routing, RaisedBy.COMMAND_CENTRE if new.command_centre else RaisedBy.OFFICER
        if new.drill or new.command_centre:
            raise NotAllowed("Only station staff raise drills.", "只有派出所工作人员可以发起演练。")
        return routing, RaisedBy.VOLUNTEER

    async def raise_incident(self, scope: Scope, new: NewIncident) -> IncidentView:
        routing, raised_by = await self.route(scope, new)
        async with self.uow_factory(scope) as uow:
            if (
                raised_by == RaisedBy.VOLUNTEER
                and await uow.roster.serving(scope.account_id) is None
            ):
                raise NotServing()
            incident = await self.raise_in(
                uow, scope, new, routing, raised_by, scope.account_id, self.clock.now()
            )
            await uow.commit()
        return IncidentView(incident, scope.is_staff, None)

    async def raise_in(
        self,
        uow: IncidentUnitOfWork,
        scope: Scope,
        new: NewIncident,
        routing: Routing,
        raised_by: RaisedBy,
        raised_by_id: uuid.UUID | None,
        now: datetime,
    ) -> Incident:
        """Raise and start dispatch inside ``uow`` (the caller commits): the incident, its
        first ring's alerts, media attached, the station's event and the audit entry."""
        overrides = await uow.policies.of_district(routing.district_id)
        policy = policy_for(new.type, overrides)
        incident = Incident.raise_new(
            id=new_id(),
            type=new.type,
            severity=new.severity,
            location=new.location,
            description=new.description,
            raised_by=raised_by,
            raised_by_id=raised_by_id,
            routing=IncidentRouting(routing.district_id, routing.station_id),
            drill=new.drill,
            at=now,
            media_ids=new.media_ids,
        )
        incident.start_dispatch(at=now)
        next_check = await self._plan(uow, incident, policy, now)
        await uow.incidents.insert(incident, policy, next_check_at=next_check)
        # Same transaction: unknown or foreign media roll the whole incident back.
        await attach_media(uow, scope, incident.media_ids, INCIDENT_RECORD, incident.id)
        uow.add_event(
            _incident_event(
                "emergency.incident_raised",
                incident,
                now,
                type=new.type.value,
                severity=new.severity.value,
                raised_by=raised_by.value,
            )
        )
        uow.audit(
            "emergency.incident_raised",
            "emergency_incident",
            incident.id,
            {"type": new.type.value, "drill": new.drill, "alerted": len(incident.responses)},
        )
        return incident

    # --- dispatch ---------------------------------------------------------------------------

    async def _plan(
        self, uow: IncidentUnitOfWork, incident: Incident, policy: RingPolicy, now: datetime
    ) -> datetime | None:
        """Decide the next ring step now; returns when to decide again (None: not until a
        member's answer frees a place)."""
        if (
            incident.status != IncidentStatus.DISPATCHING
            or incident.stood_down_at is not None
            or incident.exhausted_at is not None
            or incident.ring_index is None
            or incident.ring_started_at is None
        ):
            return None
        pool = [
            Candidate(
                r.member_id,
                CandidateKind.MEMBER,
                0.0,
                alerted_ring=r.ring,
                accepted=r.accepted,
                declined=r.status == ResponseStatus.DECLINED,
            )
            for r in incident.responses.values()
        ]
        if incident.committed < policy.needed_accepts:
            nearby = await uow.candidates.nearest_members(
                incident.location,
                district_id=incident.routing.district_id,
                radius_m=policy.rings[-1].radius_m,
                limit=min(MAX_CANDIDATES, sum(r.max_alerts for r in policy.rings)),
                required=policy.required,
                now=now,
                exclude=list(incident.responses),
            )
        else:
            nearby = []
        unit_of = {m.volunteer_id: m.unit_id for m in nearby}
        pool += [
            Candidate(
                m.volunteer_id,
                CandidateKind.MEMBER if m.located else CandidateKind.UNIT,
                m.distance_m,
                m.capabilities,
            )
            for m in nearby
        ]
        decision = plan_dispatch(
            policy,
            ring_index=incident.ring_index,
            ring_started_at=incident.ring_started_at,
            accepts=incident.committed,
            candidates=pool,
            now=now,
        )
        for ring in range(incident.ring_index + 1, decision.ring_index + 1):
            incident.widen(ring, at=now)
        if decision.action == DispatchAction.EXHAUSTED:
            incident.exhaust(at=now)
            uow.add_event(
                _incident_event(
                    "emergency.dispatch_exhausted", incident, now, accepts=incident.committed
                )
            )
            return None
        if decision.action == DispatchAction.SATISFIED:
            return None
        for candidate in decision.alert:
            incident.alert(candidate.id, at=now, unit_id=unit_of.get(candidate.id))
        return decision.check_at

    async def dispatch_due(self, *, limit: int = 50) -> int:
        """Take the next ring decision of every incident that is due; returns how many."""
        now = self.clock.now()
        async with self.uow_factory(system_scope("emergency-dispatch")) as uow:
            due = await uow.incidents.due_incidents(now, limit)
        for incident_id in due:
            async with self.uow_factory(system_scope("emergency-dispatch")) as uow:
                incident = await uow.incidents.get(incident_id, for_update=True)
                if incident is None:
                    continue
                policy = await uow.incidents.policy_of(incident_id)
                next_check = await self._plan(uow, incident, policy, self.clock.now())
                await uow.incidents.save(incident, next_check_at=next_check)
                await uow.commit()
        return len(due)

    async def escalate_due(self, *, limit: int = 200) -> int:
        """Send the channels due for unanswered alerts (push, SMS through the outbox)."""
        now = self.clock.now()
        async with self.uow_factory(system_scope("emergency-escalation")) as uow:
            due = await uow.incidents.due_responses(now, limit)
            policies: dict[uuid.UUID, RingPolicy] = {}
            for item in due:
                if item.incident_id not in policies:
                    policies[item.incident_id] = await uow.incidents.policy_of(item.incident_id)
                await self._escalate(uow, item, policies[item.incident_id], now)
            await uow.commit()
        return len(due)

    async def _escalate(
        self, uow: IncidentUnitOfWork, item: DueResponse, policy: RingPolicy, now: datetime
    ) -> None:
        decision = escalate_channels(
            policy.channels,
            age_s=(now - item.alerted_at).total_seconds(),
            answered=item.answered,
            connected=item.delivered,
            sent=item.sent,
        )
        for channel in decision.send:
            if channel == Channel.REALTIME:
                continue  # the alert's own notification, sent when it was stored
            # One outbox record per alerted member: one member's failing SMS must not hold
            # back another's push (the outbox hands out a record's events in order).
            uow.add_event(
                DomainEvent(
                    f"emergency.alert_{channel.value}",
                    "emergency_response",
                    uuid.uuid5(item.incident_id, str(item.member_id)),
                    now,
                    {
                        "incident_id": item.incident_id,
                        "member_id": item.member_id,
                        "drill": item.drill,
                        "type": item.type.value,
                        "severity": item.severity.value,
                    },
                )
            )
        next_at = now + timedelta(seconds=decision.next_in_s) if decision.next_in_s else None
        await uow.incidents.set_channels(
            item.incident_id, item.member_id, item.sent | frozenset(decision.send), next_at
        )

    # --- answers and the officer's steps ----------------------------------------------------

    async def _load(
        self, uow: IncidentUnitOfWork, incident_id: uuid.UUID, *, for_update: bool = False
    ) -> Incident:
        incident = await uow.incidents.get(incident_id, for_update=for_update)
        if incident is None:
            raise IncidentNotFound()
        return incident

    async def respond(self, scope: Scope, incident_id: uuid.UUID, action: str) -> IncidentView:
        if action not in _ACTIONS:
            raise invalid(
                "response_action",
                "action",
                f"The answer is one of: {', '.join(sorted(_ACTIONS))}.",
                "响应动作无效。",
            )
        async with self.uow_factory(scope) as uow:
            serving = await uow.roster.serving(scope.account_id)
            if serving is None:
                raise NotServing()
            incident = await self._load(uow, incident_id, for_update=True)
            now = self.clock.now()
            getattr(incident, action)(serving.volunteer_id, at=now)
            next_check: datetime | KeepType | None = (
                now if _is_answer_freeing_a_place(action) and incident.is_live else KEEP
            )
            await uow.incidents.save(incident, next_check_at=next_check)
            uow.audit(f"emergency.response_{action}", "emergency_incident", incident.id, {})
            await uow.commit()
        return IncidentView(incident, scope.is_staff, serving.volunteer_id)

    async def _staff_step(
        self, scope: Scope, incident_id: uuid.UUID, name: str, step: Callable[[Incident], object]
    ) -> IncidentView:
        async with self.uow_factory(scope) as uow:
            incident = await self._load(uow, incident_id, for_update=True)
            if not scope.writes_at(incident.routing.station_id, incident.routing.district_id):
                raise NotAllowed()
            step(incident)
            await uow.incidents.save(incident, next_check_at=None)
            uow.add_event(_incident_event(f"emergency.incident_{name}", incident, self.clock.now()))
            uow.audit(f"emergency.incident_{name}", "emergency_incident", incident.id, {})
            await uow.commit()
        return IncidentView(incident, True, None)

    async def stand_down_all(self, scope: Scope, incident_id: uuid.UUID) -> IncidentView:
        """Police on scene (警力到场): every response that is not final is stood down."""
        now = self.clock.now()
        return await self._staff_step(
            scope,
            incident_id,
            "stood_down",
            lambda i: i.stand_down_all(at=now, by=scope.account_id),
        )

    async def resolve(
        self, scope: Scope, incident_id: uuid.UUID, note: str | None = None
    ) -> IncidentView:
        now = self.clock.now()
        return await self._staff_step(
            scope,
            incident_id,
            "resolved",
            lambda i: i.resolve(at=now, by=scope.account_id, note=note),
        )

    async def cancel(self, scope: Scope, incident_id: uuid.UUID, reason: str) -> IncidentView:
        now = self.clock.now()
        return await self._staff_step(
            scope,
            incident_id,
            "cancelled",
            lambda i: i.cancel(at=now, by=scope.account_id, reason=reason),
        )

    # --- reading ----------------------------------------------------------------------------

    @staticmethod
    async def _member_id(uow: IncidentUnitOfWork, scope: Scope) -> uuid.UUID | None:
        """The caller's volunteer record, whose response they see (staff: none needed)."""
        if scope.is_staff:
            return None
        serving = await uow.roster.serving(scope.account_id)
        return serving.volunteer_id if serving else None

    async def get(self, scope: Scope, incident_id: uuid.UUID) -> IncidentView:
        async with self.uow_factory(scope) as uow:
            incident = await self._load(uow, incident_id)
            me = await self._member_id(uow, scope)
        return IncidentView(incident, self._staff_of(scope, incident), me)

    @staticmethod
    def _staff_of(scope: Scope, incident: Incident) -> bool:
        return scope.is_staff and scope.sees_station(
            incident.routing.station_id, incident.routing.district_id
        )

    async def list(
        self,
        scope: Scope,
        *,
        station_id: uuid.UUID | None = None,
        live_only: bool = False,
        drill: bool | None = None,
        limit: int = 20,
        after: uuid.UUID | None = None,
    ) -> IncidentPage:
        if not 1 <= limit <= PAGE_MAX:
            raise invalid("limit", "limit", f"limit is 1 to {PAGE_MAX}.", f"每页1至{PAGE_MAX}条。")
        async with self.uow_factory(scope) as uow:
            found: IncidentSlice = await uow.incidents.page(
                station_id=station_id, live_only=live_only, drill=drill, limit=limit, after=after
            )
            me = await self._member_id(uow, scope) if found.items else None
        return IncidentPage(
            [IncidentView(i, self._staff_of(scope, i), me) for i in found.items],
            found.has_more,
        )

    # --- districts' ring policies -----------------------------------------------------------

    async def policies(
        self, scope: Scope, district_id: uuid.UUID
    ) -> dict[IncidentType, tuple[RingPolicy, bool]]:
        """Every incident type's policy in the district, with whether the district set it
        (False: the default). District staff (admins, auditors)."""
        if not (scope.unrestricted or (scope.is_staff and district_id in scope.district_ids)):
            raise OrgUnitNotFound()
        async with self.uow_factory(scope) as uow:
            overrides = await uow.policies.of_district(district_id)
        return {t: (policy_for(t, overrides), t in overrides) for t in IncidentType}

    async def set_policy(
        self,
        scope: Scope,
        district_id: uuid.UUID,
        incident_type: IncidentType,
        policy: RingPolicy | None,
    ) -> tuple[RingPolicy, bool]:
        """District admins set (None: reset to the default) a type's policy; incidents
        already raised keep the policy they were raised with."""
        if not (scope.unrestricted or district_id in scope.districts_as(Role.DISTRICT_ADMIN)):
            if scope.is_staff and district_id in scope.district_ids:
                raise NotAllowed(
                    "Only the district's admins set dispatch policies.",
                    "只有分局管理员可以设置调派策略。",
                )
            raise OrgUnitNotFound()
        async with self.uow_factory(scope) as uow:
            await uow.policies.put(district_id, incident_type, policy, by=scope.account_id)
            uow.audit(
                "emergency.dispatch_policy_set" if policy else "emergency.dispatch_policy_reset",
                "org_unit",
                district_id,
                {"incident_type": incident_type.value},
            )
            await uow.commit()
        return policy_for(incident_type, {incident_type: policy} if policy else None), bool(policy)

    # --- drills and readiness ---------------------------------------------------------------

    async def drill_report(self, scope: Scope, incident_id: uuid.UUID) -> DrillReport:
        """A drill's results per unit (staff of its station)."""
        view = await self.get(scope, incident_id)
        if not view.staff:
            raise IncidentNotFound()
        results = drill_results(view.incident)
        return DrillReport(view.incident, [(r, drill_score(r, self.targets)) for r in results])

    async def readiness(
        self, scope: Scope, station_id: uuid.UUID, period: Period
    ) -> StationReadiness:
        """The station's readiness over ``period`` from its drills alone (staff of the
        station or its district); every unit of the station is listed, those without a
        drill in the period unscored. A station the caller may not see is not found."""
        if not scope.is_staff:
            raise NotAllowed()
        async with self.uow_factory(scope) as uow:
            unit_ids = await uow.incidents.units_of_station(station_id)
            if unit_ids is None:
                raise OrgUnitNotFound()
            drills = await uow.incidents.drills(
                station_id=station_id, start=period.start, end=period.end
            )
        results = [r for d in drills for r in drill_results(d)]
        return station_readiness(station_id, unit_ids, results, period, self.targets)


class IncidentMediaVisibility:
    """Registered with the media context for ``"emergency_incident"``: whoever may see the
    incident (its station's staff, alerted members, the raiser) may see its media."""

    def __init__(self, uow_factory: UowFactory) -> None:
        self.uow_factory = uow_factory

    async def can_see(self, scope: Scope, attachment: Attachment) -> bool:
        if attachment.record_type != INCIDENT_RECORD:
            return False
        async with self.uow_factory(scope) as uow:
            return await uow.incidents.get(attachment.record_id) is not None
