"""Emergency unit use cases with in-memory fakes of the ports: only station staff make a
unit (another station's officer finds no team), equipment by staff or the leader,
capability claims need a valid certificate, duty on and off raise events and move the
duty end stored with the last known location, batches are refused off duty and thinned
on duty, and the retention purge is the operator's."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from types import TracebackType
from typing import Any, Self

import pytest

from app.domain.emergency.duty import MemberDuty, RosterSlot
from app.domain.emergency.errors import (
    CapabilityNotCertified,
    NotAnEmergencyTeam,
    NotServing,
    NotUnitManager,
    OffDuty,
    UnitExists,
    UnitNotFound,
)
from app.domain.emergency.glossary import Capability, EquipmentKind
from app.domain.emergency.locations import LocationSample
from app.domain.emergency.model import EmergencyUnit
from app.domain.emergency.ports import LastLocation, MemberRecord, UnitSlice
from app.domain.emergency.services import (
    EmergencyUnitService,
    NewEquipment,
    NewUnit,
    accept_batch,
)
from app.domain.help.ports import ServingVolunteer
from app.domain.shared.clock import FixedClock
from app.domain.shared.errors import NotAllowed
from app.domain.shared.events import DomainEvent
from app.domain.shared.geo import GeoPoint
from app.domain.shared.scope import Role, RoleCoverage, Scope, system_scope
from app.domain.volunteers.errors import TeamNotFound
from app.domain.volunteers.glossary import TeamType
from app.domain.volunteers.teams import Membership, Team
from app.domain.volunteers.training import Certificate, Course, TrainingRecord
from app.domain.volunteers.views import MemberView

DISTRICT, STATION, OTHER_STATION = (uuid.uuid4() for _ in range(3))
BASE = GeoPoint(119.95, 31.70)
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 10:00 in Beijing


@dataclass
class Store:
    teams: dict[uuid.UUID, Team] = field(default_factory=dict)
    memberships: dict[uuid.UUID, set[uuid.UUID]] = field(default_factory=dict)
    units: dict[uuid.UUID, EmergencyUnit] = field(default_factory=dict)
    records: dict[tuple[uuid.UUID, uuid.UUID], MemberRecord] = field(default_factory=dict)
    last: dict[uuid.UUID, LastLocation] = field(default_factory=dict)
    samples: list[tuple[uuid.UUID, LocationSample]] = field(default_factory=list)
    volunteers: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)  # account → volunteer
    certificates: dict[uuid.UUID, list[Certificate]] = field(default_factory=dict)
    outbox: list[DomainEvent] = field(default_factory=list)
    audits: list[str] = field(default_factory=list)

    def visible(self, scope: Scope, team: Team) -> bool:
        me = self.volunteers.get(scope.account_id)
        return scope.sees_station(team.station_id, team.district_id) or (
            me in self.memberships.get(team.id, set())
        )


class FakeTeams:
    def __init__(self, store: Store, scope: Scope) -> None:
        self.store, self.scope = store, scope

    async def get(self, team_id: uuid.UUID, *, for_update: bool = False) -> Team | None:
        team = self.store.teams.get(team_id)
        return team if team and self.store.visible(self.scope, team) else None

    async def is_member(self, team_id: uuid.UUID, volunteer_id: uuid.UUID) -> bool:
        return volunteer_id in self.store.memberships.get(team_id, set())

    async def current_members(
        self, team_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[Membership]]:
        return {
            t: [Membership(uuid.uuid4(), t, v, NOW) for v in self.store.memberships.get(t, set())]
            for t in team_ids
        }


class FakeUnits:
    def __init__(self, store: Store, scope: Scope) -> None:
        self.store, self.scope = store, scope

    def _visible(self, unit: EmergencyUnit) -> bool:
        return self.store.visible(self.scope, self.store.teams[unit.id])

    async def insert(self, unit: EmergencyUnit) -> bool:
        if unit.id in self.store.units:
            return False
        self.store.units[unit.id] = unit
        return True

    async def get(self, unit_id: uuid.UUID, *, for_update: bool = False) -> EmergencyUnit | None:
        unit = self.store.units.get(unit_id)
        return unit if unit and self._visible(unit) else None

    async def get_many(self, ids: Sequence[uuid.UUID]) -> list[EmergencyUnit]:
        return [u for i in ids if (u := await self.get(i))]

    async def save(self, unit: EmergencyUnit, *, expected_version: int | None) -> None:
        unit.version += 1

    async def page(
        self, *, station_id: uuid.UUID | None, limit: int, after: uuid.UUID | None
    ) -> UnitSlice:
        return UnitSlice([u for u in self.store.units.values() if self._visible(u)], False)

    async def of_member(self, volunteer_id: uuid.UUID) -> list[EmergencyUnit]:
        return [
            u
            for u in self.store.units.values()
            if volunteer_id in self.store.memberships.get(u.id, set())
        ]


class FakeMembers:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def get(
        self, unit_id: uuid.UUID, volunteer_id: uuid.UUID, *, for_update: bool = False
    ) -> MemberRecord | None:
        return self.store.records.get((unit_id, volunteer_id))

    async def of_unit(self, unit_id: uuid.UUID) -> dict[uuid.UUID, MemberRecord]:
        return {v: r for (u, v), r in self.store.records.items() if u == unit_id}

    async def of_volunteer(
        self, volunteer_id: uuid.UUID, unit_ids: Sequence[uuid.UUID], *, for_update: bool = False
    ) -> dict[uuid.UUID, MemberRecord]:
        return {
            u: r for (u, v), r in self.store.records.items() if v == volunteer_id and u in unit_ids
        }

    async def save(self, record: MemberRecord) -> None:
        self.store.records[(record.member.unit_id, record.member.volunteer_id)] = record


class FakeLocations:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def last(self, volunteer_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, LastLocation]:
        return {v: self.store.last[v] for v in volunteer_ids if v in self.store.last}

    async def record(
        self,
        volunteer_id: uuid.UUID,
        samples: Sequence[LocationSample],
        *,
        on_duty_until: datetime | None,
        received_at: datetime,
    ) -> None:
        self.store.samples += [(volunteer_id, s) for s in samples]
        newest = max(samples, key=lambda s: s.at)
        self.store.last[volunteer_id] = LastLocation(volunteer_id, newest, on_duty_until)

    async def set_on_duty_until(self, volunteer_id: uuid.UUID, until: datetime | None) -> None:
        known = self.store.last.get(volunteer_id)
        if known is not None:
            self.store.last[volunteer_id] = LastLocation(volunteer_id, known.sample, until)

    async def history(
        self, volunteer_id: uuid.UUID, *, limit: int, before: datetime | None
    ) -> list[LocationSample]:
        mine = [s for v, s in self.store.samples if v == volunteer_id]
        return sorted(mine, key=lambda s: s.at, reverse=True)[:limit]

    async def purge(self, cutoff: datetime) -> int:
        before = len(self.store.samples) + len(self.store.last)
        self.store.samples = [(v, s) for v, s in self.store.samples if s.at >= cutoff]
        self.store.last = {v: k for v, k in self.store.last.items() if k.sample.at >= cutoff}
        return before - len(self.store.samples) - len(self.store.last)


class FakeRoster:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def serving(self, account_id: uuid.UUID) -> ServingVolunteer | None:
        vid = self.store.volunteers.get(account_id)
        return ServingVolunteer(vid, frozenset({STATION})) if vid else None

    async def cards(self, volunteer_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Any]:
        return {}


class FakeUow:
    def __init__(self, store: Store, scope: Scope, clock: FixedClock) -> None:
        self.store, self.scope, self.clock = store, scope, clock
        self.units = FakeUnits(store, scope)
        self.members = FakeMembers(store)
        self.locations = FakeLocations(store)
        self.teams = FakeTeams(store, scope)
        self.roster = FakeRoster(store)
        self._events: list[DomainEvent] = []
        self._audits: list[str] = []

    async def __aenter__(self) -> Self:
        self._events, self._audits = [], []
        return self

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    async def commit(self) -> None:
        self.store.outbox += self._events
        self.store.audits += self._audits

    async def rollback(self) -> None:
        self._events, self._audits = [], []

    def add_event(self, event: DomainEvent) -> None:
        self._events.append(event)

    def audit(self, action: str, record_type: str, record_id: Any, detail: Any = None) -> None:
        self._audits.append(action)


class FakeCertificates:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def certificates_of(
        self, scope: Scope, volunteer_ids: list[uuid.UUID]
    ) -> dict[uuid.UUID, list[Certificate]]:
        return {v: self.store.certificates.get(v, []) for v in volunteer_ids}


class FakeTeamRoster:
    async def members_of(
        self, scope: Scope, team_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[MemberView]]:
        return {}


@dataclass
class World:
    service: EmergencyUnitService
    store: Store
    clock: FixedClock

    def volunteer(self) -> tuple[Scope, uuid.UUID]:
        scope = Scope(account_id=uuid.uuid4(), roles=frozenset({Role.VOLUNTEER}))
        vid = uuid.uuid4()
        self.store.volunteers[scope.account_id] = vid
        return scope, vid

    def team(self, members: list[uuid.UUID], kind: TeamType = TeamType.EMERGENCY_UNIT) -> Team:
        team = Team(
            uuid.uuid4(),
            STATION,
            DISTRICT,
            "阳湖N警",
            "花园社区最小应急单元",
            kind,
            NOW,
            leader_id=members[0] if members else None,
        )
        self.store.teams[team.id] = team
        self.store.memberships[team.id] = set(members)
        return team

    def certify(self, vid: uuid.UUID, capability: str, completed: date, months: int) -> None:
        course = Course(
            uuid.uuid4(), DISTRICT, STATION, "JWLM-FA-01", "急救培训", capability, months, NOW
        )
        expires = date(completed.year + months // 12, completed.month, completed.day)
        record = TrainingRecord(uuid.uuid4(), vid, course.id, completed, expires, uuid.uuid4(), NOW)
        self.store.certificates.setdefault(vid, []).append(Certificate(record, course))


@pytest.fixture
def world() -> World:
    store = Store()
    clock = FixedClock(NOW)
    service = EmergencyUnitService(
        lambda s: FakeUow(store, s, clock),  # type: ignore[arg-type, return-value]
        clock,
        FakeCertificates(store),
        FakeTeamRoster(),
    )
    return World(service, store, clock)


def officer(station: uuid.UUID = STATION) -> Scope:
    return Scope(
        account_id=uuid.uuid4(),
        roles=frozenset({Role.OFFICER}),
        station_ids=frozenset({station}),
        coverage=(RoleCoverage(Role.OFFICER, frozenset({station})),),
    )


async def unit_with(world: World, *members: uuid.UUID) -> EmergencyUnit:
    team = world.team(list(members))
    return await world.service.create_unit(
        officer(), NewUnit(team.id, BASE, (Capability.FIRST_AID,))
    )


async def test_only_station_staff_make_a_unit_of_an_emergency_team(world: World) -> None:
    _, leader = world.volunteer()
    team = world.team([leader])
    new = NewUnit(team.id, BASE, (Capability.FIRST_AID, Capability.WATER_RESCUE))
    with pytest.raises(TeamNotFound):
        await world.service.create_unit(officer(OTHER_STATION), new)
    auditor = Scope(
        account_id=uuid.uuid4(),
        roles=frozenset({Role.AUDITOR}),
        station_ids=frozenset({STATION}),
    )
    with pytest.raises(NotAllowed):
        await world.service.create_unit(auditor, new)
    assert world.store.units == {}

    unit = await world.service.create_unit(officer(), new)
    assert unit.id == team.id
    assert unit.leader_id == leader
    assert unit.offers == {Capability.FIRST_AID, Capability.WATER_RESCUE}
    assert [e.event_type for e in world.store.outbox] == ["emergency.unit_created"]
    assert world.store.outbox[0].payload["station_id"] == STATION
    assert world.store.audits == ["emergency.unit_created"]
    with pytest.raises(UnitExists):
        await world.service.create_unit(officer(), new)
    patrol = world.team([leader], TeamType.PATROL)
    with pytest.raises(NotAnEmergencyTeam):
        await world.service.create_unit(officer(), NewUnit(patrol.id, BASE))


async def test_equipment_by_staff_or_the_leader_only(world: World) -> None:
    leader_scope, leader = world.volunteer()
    member_scope, member = world.volunteer()
    unit = await unit_with(world, leader, member)
    aed = NewEquipment(EquipmentKind.AED, BASE, "花园小区东门保安亭", date(2027, 5, 1))
    with pytest.raises(NotUnitManager):
        await world.service.add_equipment(member_scope, unit.id, aed)
    updated, item = await world.service.add_equipment(leader_scope, unit.id, aed)
    assert updated.equipment == [item]
    assert item.label == "花园小区东门保安亭"
    moved, _ = await world.service.move_equipment(
        officer(), unit.id, item.id, GeoPoint(119.951, 31.70)
    )
    assert moved.equipment[0].location == GeoPoint(119.951, 31.70)
    assert (await world.service.remove_equipment(officer(), unit.id, item.id)).equipment == []


async def test_capability_claim_needs_a_certificate_valid_today(world: World) -> None:
    scope, vid = world.volunteer()
    unit = await unit_with(world, vid)
    with pytest.raises(CapabilityNotCertified) as refused:
        await world.service.claim_capabilities(scope, unit.id, [Capability.FIRST_AID])
    assert refused.value.missing == ("first_aid",)
    # Expired yesterday: still refused.
    world.certify(vid, "first_aid", date(2024, 11, 22), 24)
    with pytest.raises(CapabilityNotCertified):
        await world.service.claim_capabilities(scope, unit.id, [Capability.FIRST_AID])
    world.certify(vid, "first_aid", date(2026, 10, 8), 24)
    status = await world.service.claim_capabilities(scope, unit.id, [Capability.FIRST_AID])
    assert status.claimed == {Capability.FIRST_AID}
    assert status.capabilities == {Capability.FIRST_AID}
    stranger, _ = world.volunteer()  # not a member: the unit does not exist for them
    with pytest.raises(UnitNotFound):
        await world.service.claim_capabilities(stranger, unit.id, [])


async def test_duty_and_location_batches(world: World) -> None:
    scope, vid = world.volunteer()
    await unit_with(world, vid)
    at = GeoPoint(119.9501, 31.7001)

    with pytest.raises(OffDuty):
        await world.service.report_locations(scope, [LocationSample(NOW, at)])
    resident = Scope(account_id=uuid.uuid4(), roles=frozenset({Role.RESIDENT}))
    with pytest.raises(NotServing):
        await world.service.go_available(resident, NOW + timedelta(hours=1))

    until = NOW + timedelta(hours=2)
    duty = await world.service.go_available(scope, until)
    assert duty.on_duty
    assert duty.until == until
    assert [e.event_type for e in world.store.outbox][-1] == "emergency.member_available"

    world.clock.advance(minutes=2)
    now = world.clock.now()
    batch = [LocationSample(now - timedelta(seconds=s), at) for s in (60, 45, 20, 5)]
    report = await world.service.report_locations(scope, batch)
    assert [s.at for s in report.result.kept] == [
        now - timedelta(seconds=60),
        now - timedelta(seconds=20),
    ]
    assert report.result.thinned == 2
    assert world.store.last[vid].sample.at == now - timedelta(seconds=20)
    assert world.store.last[vid].on_duty_until == until

    off = await world.service.go_off_duty(scope)
    assert not off.on_duty
    assert world.store.last[vid].on_duty_until is None
    assert [e.event_type for e in world.store.outbox][-1] == "emergency.member_off_duty"
    with pytest.raises(OffDuty):
        await world.service.report_locations(scope, [LocationSample(world.clock.now(), at)])
    assert len(world.store.samples) == 2


async def test_roster_set_by_the_leader_puts_the_member_on_duty_in_the_slot(world: World) -> None:
    leader_scope, leader = world.volunteer()
    member_scope, member = world.volunteer()
    unit = await unit_with(world, leader, member)
    slot = RosterSlot(0, time(9, 0), time(12, 0))  # Monday morning, Beijing
    with pytest.raises(NotUnitManager):
        await world.service.set_roster(member_scope, unit.id, leader, [slot])
    status = await world.service.set_roster(leader_scope, unit.id, member, [slot])
    assert status.on_duty
    assert status.until == datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
    report = await world.service.report_locations(member_scope, [LocationSample(NOW, BASE)])
    assert len(report.result.kept) == 1
    members, more = await world.service.members(officer(), unit.id, limit=10)
    assert not more
    by_id = {m.volunteer_id: m for m in members}
    assert by_id[member].last_location == LocationSample(NOW, BASE)
    assert by_id[leader].is_leader
    assert not by_id[leader].on_duty


def test_a_batch_counts_duty_in_any_of_the_members_units() -> None:
    vid = uuid.uuid4()
    roster_unit = MemberDuty(vid, uuid.uuid4(), roster=(RosterSlot(0, time(9), time(10)),))
    idle_unit = MemberDuty(vid, uuid.uuid4())
    now = NOW + timedelta(minutes=30)  # Monday 10:30 Beijing: the slot is over
    with pytest.raises(OffDuty):
        accept_batch([roster_unit, idle_unit], [LocationSample(now, BASE)], now=now, last_at=None)
    idle_unit.go_available(now + timedelta(hours=1), at=now - timedelta(minutes=5))
    result = accept_batch(
        [roster_unit, idle_unit],
        [
            LocationSample(now - timedelta(minutes=40), BASE),  # in the roster slot
            LocationSample(now - timedelta(minutes=20), BASE),  # in neither
            LocationSample(now - timedelta(minutes=1), BASE),  # available now
        ],
        now=now,
        last_at=None,
    )
    assert len(result.kept) == 2
    assert result.off_duty == 1


async def test_retention_purge_is_the_operators(world: World) -> None:
    scope, vid = world.volunteer()
    await unit_with(world, vid)
    await world.service.go_available(scope, NOW + timedelta(hours=1))
    world.clock.advance(minutes=1)
    await world.service.report_locations(scope, [LocationSample(world.clock.now(), BASE)])
    with pytest.raises(NotAllowed):
        await world.service.purge_locations(officer())
    world.clock.advance(days=6)
    assert await world.service.purge_locations(system_scope()) == 0
    world.clock.advance(days=2)
    assert await world.service.purge_locations(system_scope()) == 2
    assert world.store.samples == []
    assert world.store.last == {}
    assert world.store.audits[-1] == "emergency.locations_purged"
