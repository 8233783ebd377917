"""Incident use cases with in-memory fakes of the ports: the first ring is alerted when
the incident is raised (nearest first, capability filter from the policy), a decline
lets the next nearest in at once, an unanswered ring widens when its time is up and the
incident is exhausted past the last ring, escalation sends push at once to a member no
realtime connection took the alert from (and after 20 s otherwise), SMS after 60 s,
nothing once answered; officers stand everyone down; only staff raise drills and only
within their jurisdiction; a district's policy applies to incidents raised after it."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Self

import pytest

from app.domain.emergency.dispatch import Channel, Ring, RingPolicy, policy_for
from app.domain.emergency.errors import IncidentNotFound, NotAlerted, NotServing
from app.domain.emergency.glossary import Capability, IncidentType, Severity
from app.domain.emergency.incident import Incident, IncidentEventKind, IncidentStatus
from app.domain.emergency.incident_ports import (
    KEEP,
    DueResponse,
    IncidentSlice,
    KeepType,
    NearbyMember,
    NearbyUnit,
)
from app.domain.emergency.incidents import IncidentService, NewIncident
from app.domain.emergency.responses import ResponseStatus
from app.domain.help.ports import ServingVolunteer
from app.domain.organisation.model import Placement
from app.domain.shared.clock import FixedClock
from app.domain.shared.errors import NotAllowed
from app.domain.shared.events import DomainEvent
from app.domain.shared.geo import GeoPoint
from app.domain.shared.scope import Role, Scope

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
DISTRICT = uuid.uuid4()
STATION = uuid.uuid4()
OTHER_STATION = uuid.uuid4()
UNIT = uuid.uuid4()
HERE = GeoPoint(119.93, 31.715)


@dataclass
class Stored:
    incident: Incident
    policy: RingPolicy
    next_check_at: datetime | None
    channels: dict[uuid.UUID, tuple[frozenset[Channel], datetime | None]] = field(
        default_factory=dict
    )
    delivered: set[uuid.UUID] = field(default_factory=set)


@dataclass
class World:
    clock: FixedClock
    incidents: dict[uuid.UUID, Stored] = field(default_factory=dict)
    members: list[NearbyMember] = field(default_factory=list)
    policies: dict[IncidentType, RingPolicy] = field(default_factory=dict)
    serving: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)  # account → volunteer
    events: list[DomainEvent] = field(default_factory=list)
    grace: timedelta = timedelta(seconds=5)


class FakeIncidents:
    def __init__(self, world: World) -> None:
        self.w = world

    def _copy(self, stored: Stored) -> Incident:
        import copy

        return copy.deepcopy(stored.incident)

    async def insert(
        self, incident: Incident, policy: RingPolicy, *, next_check_at: datetime | None
    ) -> None:
        self.w.incidents[incident.id] = Stored(incident, policy, next_check_at)
        self._new_channels(incident)
        incident.pending.clear()

    def _new_channels(self, incident: Incident) -> None:
        stored = self.w.incidents[incident.id]
        for r in incident.responses.values():
            if r.member_id not in stored.channels:
                stored.channels[r.member_id] = (
                    frozenset({Channel.REALTIME}),
                    r.alerted_at + self.w.grace,
                )
            if r.status != ResponseStatus.ALERTED:
                sent, _ = stored.channels[r.member_id]
                stored.channels[r.member_id] = (sent, None)

    async def get(self, incident_id: uuid.UUID, *, for_update: bool = False) -> Incident | None:
        stored = self.w.incidents.get(incident_id)
        return self._copy(stored) if stored else None

    async def policy_of(self, incident_id: uuid.UUID) -> RingPolicy:
        return self.w.incidents[incident_id].policy

    async def save(
        self, incident: Incident, *, next_check_at: datetime | KeepType | None = KEEP
    ) -> None:
        import copy

        stored = self.w.incidents[incident.id]
        stored.incident = copy.deepcopy(incident)
        stored.incident.pending.clear()
        if not isinstance(next_check_at, KeepType):
            stored.next_check_at = next_check_at
        if not incident.is_live:
            stored.next_check_at = None
        self._new_channels(incident)
        incident.pending.clear()

    async def page(self, **_: Any) -> IncidentSlice:
        return IncidentSlice([s.incident for s in self.w.incidents.values()], False)

    async def due_incidents(self, now: datetime, limit: int) -> list[uuid.UUID]:
        return [
            i for i, s in self.w.incidents.items() if s.next_check_at and s.next_check_at <= now
        ]

    async def due_responses(self, now: datetime, limit: int) -> list[DueResponse]:
        due = []
        for s in self.w.incidents.values():
            for member, (sent, at) in s.channels.items():
                if at is not None and at <= now:
                    r = s.incident.responses[member]
                    due.append(
                        DueResponse(
                            s.incident.id,
                            member,
                            s.incident.drill,
                            s.incident.type,
                            s.incident.severity,
                            r.alerted_at,
                            r.status != ResponseStatus.ALERTED or not s.incident.is_live,
                            member in s.delivered,
                            sent,
                        )
                    )
        return due

    async def set_channels(
        self,
        incident_id: uuid.UUID,
        member_id: uuid.UUID,
        sent: frozenset[Channel],
        next_at: datetime | None,
    ) -> None:
        self.w.incidents[incident_id].channels[member_id] = (sent, next_at)

    async def units_of_station(self, station_id: uuid.UUID) -> list[uuid.UUID] | None:
        return [UNIT]

    async def drills(self, **_: Any) -> list[Incident]:
        return [s.incident for s in self.w.incidents.values() if s.incident.drill]


class FakePolicies:
    def __init__(self, world: World) -> None:
        self.w = world

    async def of_district(self, district_id: uuid.UUID) -> dict[IncidentType, RingPolicy]:
        return dict(self.w.policies)

    async def put(
        self,
        district_id: uuid.UUID,
        incident_type: IncidentType,
        policy: RingPolicy | None,
        *,
        by: uuid.UUID,
    ) -> None:
        if policy is None:
            self.w.policies.pop(incident_type, None)
        else:
            self.w.policies[incident_type] = policy


class FakeCandidates:
    def __init__(self, world: World) -> None:
        self.w = world

    async def nearest_members(
        self,
        point: GeoPoint,
        *,
        district_id: uuid.UUID,
        radius_m: int,
        limit: int,
        required: frozenset[Capability],
        now: datetime,
        exclude: Collection[uuid.UUID] = (),
    ) -> list[NearbyMember]:
        found = [
            m
            for m in self.w.members
            if m.distance_m <= radius_m
            and required <= m.capabilities
            and m.volunteer_id not in exclude
        ]
        return sorted(found, key=lambda m: m.distance_m)[:limit]

    async def nearest_units(self, *_: Any, **__: Any) -> list[NearbyUnit]:
        return []


class FakeRoster:
    def __init__(self, world: World) -> None:
        self.w = world

    async def serving(self, account_id: uuid.UUID) -> ServingVolunteer | None:
        vid = self.w.serving.get(account_id)
        return ServingVolunteer(vid, frozenset({STATION})) if vid else None


class FakeUow:
    def __init__(self, world: World, scope: Scope) -> None:
        self.w = world
        self.scope = scope
        self.clock = world.clock
        self.incidents = FakeIncidents(world)
        self.policies = FakePolicies(world)
        self.candidates = FakeCandidates(world)
        self.roster = FakeRoster(world)
        self._events: list[DomainEvent] = []

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    def add_event(self, event: DomainEvent) -> None:
        self._events.append(event)

    def audit(self, *_: Any, **__: Any) -> None:
        return None

    async def commit(self) -> None:
        self.w.events += self._events
        self._events = []

    async def rollback(self) -> None:
        self._events = []


class FakeLocator:
    async def locate(self, point: GeoPoint) -> Placement:
        station = OTHER_STATION if point.lon > 120 else STATION
        return Placement(DISTRICT, station, None, None, outside=False)


def member(distance: float, *caps: Capability) -> NearbyMember:
    return NearbyMember(uuid.uuid4(), UNIT, distance, frozenset(caps), located=True)


@pytest.fixture
def world() -> World:
    return World(FixedClock(NOW))


def service(world: World) -> IncidentService:
    return IncidentService(lambda scope: FakeUow(world, scope), world.clock, FakeLocator())  # type: ignore[arg-type,return-value]


def officer(station: uuid.UUID = STATION) -> Scope:
    return Scope(uuid.uuid4(), frozenset({Role.OFFICER}), station_ids=frozenset({station}))


def volunteer(world: World, vid: uuid.UUID) -> Scope:
    account = uuid.uuid4()
    world.serving[account] = vid
    return Scope(account, frozenset({Role.VOLUNTEER}))


def fight(drill: bool = False, where: GeoPoint = HERE) -> NewIncident:
    return NewIncident(IncidentType.FIGHT, Severity.HIGH, where, "菜场门口有人斗殴", drill)


def alert_events(world: World) -> list[tuple[str, Any]]:
    return [
        (e.event_type, e.payload["member_id"])
        for e in world.events
        if e.event_type.startswith("emergency.alert_")
    ]


async def test_first_ring_alerted_on_raise_nearest_first(world: World) -> None:
    # Fight: ring 0 is 300 m, 6 alerts; members at 50..400 m.
    world.members = [member(d) for d in (400, 50, 250, 120)]
    view = await service(world).raise_incident(officer(), fight())
    incident = view.incident
    assert incident.status == IncidentStatus.DISPATCHING
    alerted = [r.member_id for r in sorted(incident.responses.values(), key=lambda r: r.ring)]
    assert set(alerted) == {m.volunteer_id for m in world.members if m.distance_m <= 300}
    assert world.events[0].event_type == "emergency.incident_raised"
    stored = world.incidents[incident.id]
    assert stored.next_check_at == NOW + timedelta(seconds=45)  # the ring's end


async def test_capability_required_by_the_policy(world: World) -> None:
    trained = member(300, Capability.FIRE)
    world.members = [member(100), trained]
    view = await service(world).raise_incident(
        officer(), NewIncident(IncidentType.FIRE, Severity.CRITICAL, HERE, "楼道起火")
    )
    assert set(view.incident.responses) == {trained.volunteer_id}


async def test_a_decline_lets_the_next_nearest_in_and_rings_widen(world: World) -> None:
    world.policies[IncidentType.FIGHT] = RingPolicy(
        (Ring(100, 1, 30), Ring(500, 1, 30)), needed_accepts=1
    )
    near, second, far = member(50), member(80), member(400)
    world.members = [near, second, far]
    svc = service(world)
    view = await svc.raise_incident(officer(), fight())
    iid = view.incident.id
    assert set(view.incident.responses) == {near.volunteer_id}

    world.clock.advance(seconds=5)
    await svc.respond(volunteer(world, near.volunteer_id), iid, "decline")
    assert world.incidents[iid].next_check_at == world.clock.now()  # plan again at once
    await svc.dispatch_due()
    assert set(world.incidents[iid].incident.responses) == {near.volunteer_id, second.volunteer_id}

    # Nobody answers within ring 0's 30 s: the next ring (500 m) alerts the far member.
    world.clock.advance(seconds=30)
    await svc.dispatch_due()
    incident = world.incidents[iid].incident
    assert incident.ring_index == 1
    assert incident.responses[far.volunteer_id].ring == 1
    # Past the last ring without an accept: exhausted, the station is told, no more checks.
    world.clock.advance(seconds=31)
    await svc.dispatch_due()
    incident = world.incidents[iid].incident
    assert incident.exhausted_at == world.clock.now()
    assert world.incidents[iid].next_check_at is None


async def test_enough_accepts_stop_alerting(world: World) -> None:
    world.policies[IncidentType.FIGHT] = RingPolicy((Ring(100, 1, 30), Ring(500, 5, 30)), 1)
    near, far = member(50), member(400)
    world.members = [near, far]
    svc = service(world)
    iid = (await svc.raise_incident(officer(), fight())).incident.id
    await svc.respond(volunteer(world, near.volunteer_id), iid, "accept")
    world.clock.advance(seconds=31)
    await svc.dispatch_due()
    assert set(world.incidents[iid].incident.responses) == {near.volunteer_id}
    assert world.incidents[iid].next_check_at is None


async def test_escalation_push_then_sms_unless_answered(world: World) -> None:
    connected, offline, answering = member(50), member(60), member(70)
    world.members = [connected, offline, answering]
    svc = service(world)
    iid = (await svc.raise_incident(officer(), fight())).incident.id
    world.incidents[iid].delivered.add(connected.volunteer_id)

    world.clock.advance(seconds=3)
    await svc.respond(volunteer(world, answering.volunteer_id), iid, "accept")
    world.clock.advance(seconds=2)  # 5 s: the grace is over
    await svc.escalate_due()
    assert alert_events(world) == [("emergency.alert_push", offline.volunteer_id)]

    world.clock.advance(seconds=15)  # 20 s: the connected one gets push too
    await svc.escalate_due()
    assert alert_events(world)[1:] == [("emergency.alert_push", connected.volunteer_id)]

    world.clock.advance(seconds=40)  # 60 s: SMS to both still silent, once each
    await svc.escalate_due()
    await svc.escalate_due()
    assert sorted(alert_events(world)[2:]) == sorted(
        [
            ("emergency.alert_sms", offline.volunteer_id),
            ("emergency.alert_sms", connected.volunteer_id),
        ]
    )
    assert all(e[1] != answering.volunteer_id for e in alert_events(world))


async def test_officer_stands_everyone_down(world: World) -> None:
    a, b = member(50), member(60)
    world.members = [a, b]
    svc = service(world)
    scope = officer()
    iid = (await svc.raise_incident(scope, fight())).incident.id
    await svc.respond(volunteer(world, a.volunteer_id), iid, "accept")
    with pytest.raises(NotAllowed):
        await svc.stand_down_all(officer(OTHER_STATION), iid)
    view = await svc.stand_down_all(scope, iid)
    assert {r.status for r in view.incident.responses.values()} == {ResponseStatus.STOOD_DOWN}
    kinds = [e.kind for e in view.incident.timeline()]
    assert kinds[0] == IncidentEventKind.RAISED
    assert IncidentEventKind.ALL_STOOD_DOWN in kinds
    # No more alerts or escalation afterwards.
    world.clock.advance(seconds=120)
    assert await svc.dispatch_due() == 0
    await svc.escalate_due()
    assert alert_events(world) == []


async def test_who_may_raise(world: World) -> None:
    svc = service(world)
    vid = uuid.uuid4()
    # A volunteer raises a real incident, never a drill.
    view = await svc.raise_incident(volunteer(world, vid), fight())
    assert view.incident.raised_by.value == "volunteer"
    with pytest.raises(NotAllowed):
        await svc.raise_incident(volunteer(world, vid), fight(drill=True))
    # Not serving: refused.
    with pytest.raises(NotServing):
        await svc.raise_incident(Scope(uuid.uuid4(), frozenset({Role.RESIDENT})), fight())
    # An officer only within their jurisdiction.
    with pytest.raises(NotAllowed):
        await svc.raise_incident(officer(), fight(where=GeoPoint(120.1, 31.7)))
    drill = await svc.raise_incident(officer(), fight(drill=True))
    assert drill.incident.drill is True


async def test_answers_only_from_alerted_members(world: World) -> None:
    a = member(50)
    world.members = [a]
    svc = service(world)
    iid = (await svc.raise_incident(officer(), fight())).incident.id
    with pytest.raises(NotAlerted):
        await svc.respond(volunteer(world, uuid.uuid4()), iid, "accept")
    with pytest.raises(IncidentNotFound):
        await svc.respond(volunteer(world, a.volunteer_id), uuid.uuid4(), "accept")


async def test_district_policy_applies_to_later_incidents(world: World) -> None:
    svc = service(world)
    admin = Scope(
        uuid.uuid4(), frozenset({Role.DISTRICT_ADMIN}), district_ids=frozenset({DISTRICT})
    )
    custom = RingPolicy((Ring(1000, 1, 10),), 1)
    policy, customised = await svc.set_policy(admin, DISTRICT, IncidentType.FIGHT, custom)
    assert customised
    assert policy == custom
    with pytest.raises(NotAllowed):
        await svc.set_policy(
            Scope(uuid.uuid4(), frozenset({Role.AUDITOR}), district_ids=frozenset({DISTRICT})),
            DISTRICT,
            IncidentType.FIGHT,
            None,
        )
    world.members = [member(900), member(950)]
    view = await svc.raise_incident(officer(), fight())
    assert len(view.incident.responses) == 1
    assert world.incidents[view.incident.id].policy == custom
    all_policies = await svc.policies(admin, DISTRICT)
    assert all_policies[IncidentType.FIRE] == (policy_for(IncidentType.FIRE), False)
