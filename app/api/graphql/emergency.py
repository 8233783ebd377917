"""GraphQL door of emergency units (最小应急单元): the EmergencyUnit node, units in scope,
a unit's members with duty status, the caller's duty and track; mutations for units,
equipment, roster, capability claims, duty and location batches. Same services and
permission checks as REST."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import date, datetime, time
from typing import Annotated, Any
from uuid import UUID

import strawberry
from strawberry import relay

from app.api.graphql.context import Info
from app.api.graphql.errors import MutationProblem, problem_of
from app.api.graphql.geo import Crs
from app.api.graphql.relay import (
    first_of,
    keyset_connection,
    node_uuid,
    optional_node_uuid,
    resolve_scoped,
)
from app.api.pagination import after_id, id_cursor
from app.domain.emergency.duty import DutyBasis, RosterSlot
from app.domain.emergency.errors import UnitNotFound
from app.domain.emergency.glossary import EQUIPMENT_LABELS, Capability, EquipmentKind
from app.domain.emergency.locations import LocationSample
from app.domain.emergency.model import EmergencyUnit, EquipmentItem
from app.domain.emergency.services import (
    EmergencyUnitService,
    LocationReport,
    MemberStatus,
    MyDuty,
    NewEquipment,
    NewUnit,
)
from app.domain.shared.errors import DomainError, field_invalid
from app.domain.shared.geo import GeoPoint, from_wgs84, to_wgs84
from app.domain.shared.scope import Scope

strawberry.enum(Capability, name="EmergencyCapability", description="能力: what one can do")
strawberry.enum(EquipmentKind, name="EmergencyEquipmentKind")
strawberry.enum(DutyBasis, name="DutyBasis", description="Why a member is on duty")


@strawberry.type
class EmergencyPoint:
    lon: float
    lat: float
    crs: Crs


def _point(p: GeoPoint, crs: Crs) -> EmergencyPoint:
    lon, lat = from_wgs84(p, crs)
    return EmergencyPoint(lon=round(lon, 7), lat=round(lat, 7), crs=crs)


@strawberry.type(description="A kept location sample (位置).")
class EmergencyLocation:
    at: datetime
    lon: float
    lat: float
    accuracy_m: float | None

    @classmethod
    def of(cls, s: LocationSample | None) -> EmergencyLocation | None:
        if s is None:
            return None
        return cls(
            at=s.at, lon=round(s.point.lon, 7), lat=round(s.point.lat, 7), accuracy_m=s.accuracy_m
        )


@strawberry.type
class EmergencyEquipment:
    id: UUID
    kind: EquipmentKind
    kind_label: str
    label: str | None
    service_due: date | None
    item: strawberry.Private[EquipmentItem]

    @classmethod
    def of(cls, e: EquipmentItem) -> EmergencyEquipment:
        return cls(
            id=e.id,
            kind=e.kind,
            kind_label=EQUIPMENT_LABELS[e.kind],
            label=e.label,
            service_due=e.service_due,
            item=e,
        )

    @strawberry.field
    def location(self, crs: Crs = Crs.WGS84) -> EmergencyPoint:
        return _point(self.item.location, crs)


def _loader(info: Info) -> Any:
    async def fetch(scope: Scope, keys: list[UUID]) -> dict[UUID, EmergencyUnit]:
        return await info.context.services.get(EmergencyUnitService).get_units(scope, keys)

    return info.context.scoped_loader("emergency_units", fetch)


@strawberry.type(name="EmergencyUnit", description="最小应急单元 (its id is its team's).")
class EmergencyUnitNode(relay.Node):
    id: relay.NodeID[str]
    uuid: UUID
    name: str
    station_id: UUID
    district_id: UUID
    leader_id: UUID | None
    offers: list[Capability]
    equipment: list[EmergencyEquipment]
    version: int
    unit: strawberry.Private[EmergencyUnit]

    @classmethod
    def of(cls, u: EmergencyUnit) -> EmergencyUnitNode:
        return cls(
            id=str(u.id),
            uuid=u.id,
            name=u.name,
            station_id=u.station_id,
            district_id=u.district_id,
            leader_id=u.leader_id,
            offers=sorted(u.offers),
            equipment=[EmergencyEquipment.of(e) for e in u.equipment],
            version=u.version,
            unit=u,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[EmergencyUnitNode | None]:
        return await resolve_scoped(node_ids, _loader(info), cls.of, UnitNotFound, required)

    @strawberry.field(description="驻点")
    def base(self, crs: Crs = Crs.WGS84) -> EmergencyPoint:
        return _point(self.unit.base, crs)


@strawberry.type
class EmergencyRosterSlot:
    weekday: int
    start: time
    end: time


def _slots(slots: Iterable[RosterSlot]) -> list[EmergencyRosterSlot]:
    return [EmergencyRosterSlot(weekday=s.weekday, start=s.start, end=s.end) for s in slots]


@strawberry.type(description="A member as you may see them (locations: station staff, self).")
class EmergencyMember:
    volunteer_id: UUID
    name: str | None
    volunteer_number: str | None
    is_leader: bool
    claimed: list[Capability]
    capabilities: list[Capability] | None
    on_duty: bool
    basis: DutyBasis | None
    until: datetime | None
    roster: list[EmergencyRosterSlot]
    last_location: EmergencyLocation | None

    @classmethod
    def of(cls, m: MemberStatus) -> EmergencyMember:
        return cls(
            volunteer_id=m.volunteer_id,
            name=m.name,
            volunteer_number=m.volunteer_number,
            is_leader=m.is_leader,
            claimed=sorted(m.claimed),
            capabilities=None if m.capabilities is None else sorted(m.capabilities),
            on_duty=m.on_duty,
            basis=m.basis,
            until=m.until,
            roster=_slots(m.roster),
            last_location=EmergencyLocation.of(m.last_location),
        )


@strawberry.type
class EmergencyMemberPage:
    items: list[EmergencyMember]
    next_cursor: str | None


@strawberry.type
class UnitDutyEntry:
    unit_id: UUID
    unit_name: str
    on_duty: bool
    basis: DutyBasis | None
    until: datetime | None
    roster: list[EmergencyRosterSlot]
    claimed: list[Capability]


@strawberry.type(name="MyDuty")
class MyDutyType:
    volunteer_id: UUID
    on_duty: bool
    until: datetime | None
    units: list[UnitDutyEntry]
    last_location: EmergencyLocation | None

    @classmethod
    def of(cls, d: MyDuty) -> MyDutyType:
        return cls(
            volunteer_id=d.volunteer_id,
            on_duty=d.on_duty,
            until=d.until,
            units=[
                UnitDutyEntry(
                    unit_id=u.unit_id,
                    unit_name=u.unit_name,
                    on_duty=u.on_duty,
                    basis=u.basis,
                    until=u.until,
                    roster=_slots(u.roster),
                    claimed=sorted(u.claimed),
                )
                for u in d.units
            ],
            last_location=EmergencyLocation.of(d.last_location),
        )


@strawberry.type(name="LocationReport", description="What became of a batch of locations.")
class LocationReportType:
    kept: int
    thinned: int
    stale: int
    future: int
    off_duty: int
    last_location: EmergencyLocation | None
    on_duty_until: datetime | None

    @classmethod
    def of(cls, r: LocationReport) -> LocationReportType:
        return cls(
            kept=len(r.result.kept),
            thinned=r.result.thinned,
            stale=r.result.stale,
            future=r.result.future,
            off_duty=r.result.off_duty,
            last_location=EmergencyLocation.of(r.last_location),
            on_duty_until=r.on_duty_until,
        )


def _service(info: Info) -> EmergencyUnitService:
    return info.context.services.get(EmergencyUnitService)


def _uid(gid: relay.GlobalID) -> UUID:
    return node_uuid(gid, "EmergencyUnit", UnitNotFound)


@strawberry.type
class EmergencyQuery:
    @strawberry.field(description="Staff: their jurisdiction's units; volunteers: their own.")
    async def emergency_units(
        self,
        info: Info,
        station_id: UUID | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> relay.Connection[EmergencyUnitNode]:
        scope = await info.context.scope()
        units, more = await _service(info).list_units(
            scope, station_id=station_id, limit=first_of(first), after=after_id(after)
        )
        return keyset_connection(units, EmergencyUnitNode.of, more=more)

    @strawberry.field(description="A unit's members with duty status (see EmergencyMember).")
    async def emergency_unit_members(
        self, info: Info, unit: relay.GlobalID, first: int = 50, after: str | None = None
    ) -> EmergencyMemberPage:
        scope = await info.context.scope()
        members, more = await _service(info).members(
            scope, _uid(unit), limit=first_of(first), after=after_id(after)
        )
        cursor = id_cursor(members[-1].volunteer_id) if more and members else None
        return EmergencyMemberPage(
            items=[EmergencyMember.of(m) for m in members], next_cursor=cursor
        )

    @strawberry.field(description="Your duty in each of your units and last known location.")
    async def my_duty(self, info: Info) -> MyDutyType:
        return MyDutyType.of(await _service(info).my_duty(await info.context.scope()))


@strawberry.input
class EmergencyLocationInput:
    lon: float
    lat: float
    crs: Crs = Crs.WGS84

    def to_point(self) -> GeoPoint:
        return to_wgs84(self.lon, self.lat, self.crs)


@strawberry.input
class CreateEmergencyUnitInput:
    team_id: UUID
    base: EmergencyLocationInput
    offers: list[Capability] = strawberry.field(default_factory=list)


@strawberry.input
class EmergencyRosterSlotInput:
    weekday: int
    start: time
    end: time


@strawberry.input
class LocationSampleInput:
    at: datetime
    location: EmergencyLocationInput
    accuracy_m: float | None = None


@strawberry.type
class EmergencyUnitPayload:
    unit: EmergencyUnitNode


@strawberry.type
class EmergencyMemberPayload:
    member: EmergencyMember


EmergencyUnitResult = Annotated[
    EmergencyUnitPayload | MutationProblem, strawberry.union("EmergencyUnitResult")
]
EmergencyMemberResult = Annotated[
    EmergencyMemberPayload | MutationProblem, strawberry.union("EmergencyMemberResult")
]
MyDutyResult = Annotated[MyDutyType | MutationProblem, strawberry.union("MyDutyResult")]
LocationReportResult = Annotated[
    LocationReportType | MutationProblem, strawberry.union("LocationReportResult")
]


def _aware(at: datetime, field: str) -> datetime:
    if at.tzinfo is None:
        raise field_invalid(
            "emergency.time_needs_offset",
            field,
            "Give times with a UTC offset (RFC 3339).",
            "时间须带时区偏移（RFC 3339）。",
        )
    return at


async def _unit(
    info: Info, act: Callable[[EmergencyUnitService, Scope], Awaitable[EmergencyUnit]]
) -> EmergencyUnitResult:
    scope = await info.context.scope()
    try:
        unit = await act(_service(info), scope)
    except DomainError as e:
        return problem_of(e, info.context.lang)
    return EmergencyUnitPayload(unit=EmergencyUnitNode.of(unit))


async def _member(
    info: Info, act: Callable[[EmergencyUnitService, Scope], Awaitable[MemberStatus]]
) -> EmergencyMemberResult:
    scope = await info.context.scope()
    try:
        member = await act(_service(info), scope)
    except DomainError as e:
        return problem_of(e, info.context.lang)
    return EmergencyMemberPayload(member=EmergencyMember.of(member))


@strawberry.type
class EmergencyMutation:
    @strawberry.mutation(description="Station staff: a unit of an emergency-unit team.")
    async def create_emergency_unit(
        self, info: Info, input: CreateEmergencyUnitInput
    ) -> EmergencyUnitResult:
        new = NewUnit(input.team_id, input.base.to_point(), tuple(input.offers))
        return await _unit(info, lambda s, scope: s.create_unit(scope, new))

    @strawberry.mutation(description="Station staff: move the base or change the offers.")
    async def update_emergency_unit(
        self,
        info: Info,
        id: relay.GlobalID,
        base: EmergencyLocationInput | None = None,
        offers: list[Capability] | None = None,
        expected_version: int | None = None,
    ) -> EmergencyUnitResult:
        return await _unit(
            info,
            lambda s, scope: s.update_unit(
                scope,
                _uid(id),
                base=base.to_point() if base else None,
                offers=offers,
                expected_version=expected_version,
            ),
        )

    @strawberry.mutation(description="Staff or the leader: register equipment where it is.")
    async def add_emergency_equipment(
        self,
        info: Info,
        id: relay.GlobalID,
        kind: EquipmentKind,
        location: EmergencyLocationInput,
        label: str | None = None,
        service_due: date | None = None,
        expected_version: int | None = None,
    ) -> EmergencyUnitResult:
        async def act(s: EmergencyUnitService, scope: Scope) -> EmergencyUnit:
            new = NewEquipment(kind, location.to_point(), label, service_due)
            unit, _ = await s.add_equipment(scope, _uid(id), new, expected_version=expected_version)
            return unit

        return await _unit(info, act)

    @strawberry.mutation(description="Staff or the leader: the item is now kept elsewhere.")
    async def move_emergency_equipment(
        self,
        info: Info,
        id: relay.GlobalID,
        item_id: UUID,
        location: EmergencyLocationInput,
        expected_version: int | None = None,
    ) -> EmergencyUnitResult:
        async def act(s: EmergencyUnitService, scope: Scope) -> EmergencyUnit:
            unit, _ = await s.move_equipment(
                scope, _uid(id), item_id, location.to_point(), expected_version=expected_version
            )
            return unit

        return await _unit(info, act)

    @strawberry.mutation(description="Staff or the leader: remove an item.")
    async def remove_emergency_equipment(
        self,
        info: Info,
        id: relay.GlobalID,
        item_id: UUID,
        expected_version: int | None = None,
    ) -> EmergencyUnitResult:
        return await _unit(
            info,
            lambda s, scope: s.remove_equipment(
                scope, _uid(id), item_id, expected_version=expected_version
            ),
        )

    @strawberry.mutation(description="A member: capabilities claimed (valid certificates).")
    async def claim_emergency_capabilities(
        self, info: Info, id: relay.GlobalID, capabilities: list[Capability]
    ) -> EmergencyMemberResult:
        return await _member(
            info, lambda s, scope: s.claim_capabilities(scope, _uid(id), capabilities)
        )

    @strawberry.mutation(description="Staff or the leader: a member's weekly roster slots.")
    async def set_emergency_roster(
        self,
        info: Info,
        id: relay.GlobalID,
        volunteer_id: UUID,
        slots: list[EmergencyRosterSlotInput],
    ) -> EmergencyMemberResult:
        async def act(s: EmergencyUnitService, scope: Scope) -> MemberStatus:
            roster = [RosterSlot(x.weekday, x.start, x.end) for x in slots]
            return await s.set_roster(scope, _uid(id), volunteer_id, roster)

        return await _member(info, act)

    @strawberry.mutation(description="我现在可以响应 until a time (available), or off duty.")
    async def set_my_duty(
        self,
        info: Info,
        available: bool,
        until: datetime | None = None,
        unit: relay.GlobalID | None = None,
    ) -> MyDutyResult:
        scope = await info.context.scope()
        service = _service(info)
        try:
            unit_id = optional_node_uuid(unit, "EmergencyUnit", UnitNotFound)
            if not available:
                duty = await service.go_off_duty(scope, unit_id=unit_id)
            else:
                at = _aware(until, "until") if until is not None else None
                duty = await service.go_available(scope, at, unit_id=unit_id)
        except DomainError as e:
            return problem_of(e, info.context.lang)
        return MyDutyType.of(duty)

    @strawberry.mutation(description="While on duty: a batch of your locations (≤1 per 30 s).")
    async def report_my_locations(
        self, info: Info, samples: list[LocationSampleInput]
    ) -> LocationReportResult:
        scope = await info.context.scope()
        try:
            batch = [
                LocationSample(_aware(x.at, "at"), x.location.to_point(), x.accuracy_m)
                for x in samples
            ]
            report = await _service(info).report_locations(scope, batch)
        except DomainError as e:
            return problem_of(e, info.context.lang)
        return LocationReportType.of(report)
