"""Request and response bodies of /api/v1/emergency-units (最小应急单元), duty and
location reports."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from app.api.rest.common import LocationIn, LocationOut
from app.domain.emergency.duty import MAX_SLOTS, DutyBasis, RosterSlot
from app.domain.emergency.glossary import EQUIPMENT_LABELS, Capability, EquipmentKind
from app.domain.emergency.locations import MAX_BATCH, LocationSample
from app.domain.emergency.model import LABEL_MAX, EmergencyUnit, EquipmentItem
from app.domain.emergency.services import LocationReport, MemberStatus, MyDuty, UnitDuty
from app.domain.shared.geo import Crs

COMMON_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not signed in"},
    404: {"description": "No such emergency unit (or member) you may see"},
    422: {"description": "Invalid input"},
}
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    **COMMON_ERRORS,
    403: {"description": "Not the unit's station staff (or, where allowed, its leader)"},
    409: {"description": "Conflicts with the unit's state"},
    412: {"description": "If-Match does not match the current version"},
}
CREATE_ERRORS: dict[int | str, dict[str, Any]] = {
    **COMMON_ERRORS,
    403: {"description": "Not staff of the team's station"},
    404: {"description": "No such team you may see"},
    409: {
        "description": "The team is already a unit, is not of type emergency_unit, has no "
        "leader, or the Idempotency-Key is in flight"
    },
}
MEMBER_ERRORS: dict[int | str, dict[str, Any]] = {
    **COMMON_ERRORS,
    403: {
        "description": "Not a serving volunteer, or a capability lacks a certificate valid "
        "today (code emergency.capability_not_certified)"
    },
}
DUTY_ERRORS: dict[int | str, dict[str, Any]] = {
    **COMMON_ERRORS,
    403: {"description": "Not a serving volunteer"},
    404: {"description": "Not a member of that (or any) emergency unit"},
}
LOCATION_ERRORS: dict[int | str, dict[str, Any]] = {
    **DUTY_ERRORS,
    409: {"description": "Off duty: no location is collected (code emergency.off_duty)"},
}


class UnitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    team_id: uuid.UUID = Field(description="A team of type emergency_unit with a leader")
    base: LocationIn = Field(description="驻点: where the unit is based")
    offers: list[Capability] = Field(default_factory=list, max_length=len(Capability))


class UnitPatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    base: LocationIn | None = None
    offers: list[Capability] | None = Field(None, max_length=len(Capability))


class EquipmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: EquipmentKind
    location: LocationIn
    label: str | None = Field(None, max_length=LABEL_MAX, examples=["花园小区东门保安亭"])
    service_due: date | None = Field(None, description="Pads or inspection due (Beijing date)")


class EquipmentMoveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    location: LocationIn


class EquipmentOut(BaseModel):
    id: uuid.UUID
    kind: EquipmentKind
    kind_label: str
    location: LocationOut
    label: str | None
    service_due: date | None

    @classmethod
    def of(cls, item: EquipmentItem, crs: Crs = Crs.WGS84) -> EquipmentOut:
        return cls(
            id=item.id,
            kind=item.kind,
            kind_label=EQUIPMENT_LABELS[item.kind],
            location=LocationOut.of(item.location, crs),
            label=item.label,
            service_due=item.service_due,
        )


class UnitOut(BaseModel):
    """An emergency unit; ``id`` is its team's id."""

    id: uuid.UUID
    name: str
    station_id: uuid.UUID
    district_id: uuid.UUID
    leader_id: uuid.UUID | None
    base: LocationOut
    offers: list[Capability]
    equipment: list[EquipmentOut]
    version: int

    @classmethod
    def of(cls, unit: EmergencyUnit, crs: Crs = Crs.WGS84) -> UnitOut:
        return cls(
            id=unit.id,
            name=unit.name,
            station_id=unit.station_id,
            district_id=unit.district_id,
            leader_id=unit.leader_id,
            base=LocationOut.of(unit.base, crs),
            offers=sorted(unit.offers),
            equipment=[EquipmentOut.of(e, crs) for e in unit.equipment],
            version=unit.version,
        )


class CapabilitiesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    capabilities: list[Capability] = Field(max_length=len(Capability))


class SlotIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    weekday: int = Field(ge=0, le=6, description="0 Monday … 6 Sunday")
    start: time = Field(description="Local China time", examples=["19:00:00"])
    end: time = Field(description="Local China time; not after start: runs past midnight")

    def to_slot(self) -> RosterSlot:
        return RosterSlot(self.weekday, self.start, self.end)


class RosterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    slots: list[SlotIn] = Field(max_length=MAX_SLOTS)


class SlotOut(BaseModel):
    weekday: int
    start: time
    end: time

    @classmethod
    def of(cls, slot: RosterSlot) -> SlotOut:
        return cls(weekday=slot.weekday, start=slot.start, end=slot.end)


class SampleOut(BaseModel):
    at: datetime
    location: LocationOut
    accuracy_m: float | None

    @classmethod
    def of(cls, sample: LocationSample, crs: Crs = Crs.WGS84) -> SampleOut:
        return cls(
            at=sample.at, location=LocationOut.of(sample.point, crs), accuracy_m=sample.accuracy_m
        )


def _labelled(capabilities: frozenset[Capability] | None) -> list[Capability] | None:
    return None if capabilities is None else sorted(capabilities)


class UnitMemberOut(BaseModel):
    """A member as you may see them: staff of the station see names, certified
    capabilities and the last known location; members see duty status (and their own
    location)."""

    volunteer_id: uuid.UUID
    name: str | None
    volunteer_number: str | None
    is_leader: bool
    claimed: list[Capability]
    capabilities: list[Capability] | None = Field(
        description="Claims backed by a certificate valid today; null if not yours to see"
    )
    on_duty: bool
    basis: DutyBasis | None
    until: datetime | None
    roster: list[SlotOut]
    last_location: SampleOut | None

    @classmethod
    def of(cls, m: MemberStatus, crs: Crs = Crs.WGS84) -> UnitMemberOut:
        return cls(
            volunteer_id=m.volunteer_id,
            name=m.name,
            volunteer_number=m.volunteer_number,
            is_leader=m.is_leader,
            claimed=sorted(m.claimed),
            capabilities=_labelled(m.capabilities),
            on_duty=m.on_duty,
            basis=m.basis,
            until=m.until,
            roster=[SlotOut.of(s) for s in m.roster],
            last_location=SampleOut.of(m.last_location, crs) if m.last_location else None,
        )


class DutyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal["available", "off_duty"] = Field(
        description="available: 我现在可以响应 until `until`; off_duty: stop now"
    )
    until: AwareDatetime | None = Field(
        None, description="With available: in the future, at most 12 hours ahead"
    )
    unit_id: uuid.UUID | None = Field(None, description="One of your units; default: all")


class UnitDutyOut(BaseModel):
    unit_id: uuid.UUID
    unit_name: str
    on_duty: bool
    basis: DutyBasis | None
    until: datetime | None
    roster: list[SlotOut]
    claimed: list[Capability]

    @classmethod
    def of(cls, d: UnitDuty) -> UnitDutyOut:
        return cls(
            unit_id=d.unit_id,
            unit_name=d.unit_name,
            on_duty=d.on_duty,
            basis=d.basis,
            until=d.until,
            roster=[SlotOut.of(s) for s in d.roster],
            claimed=sorted(d.claimed),
        )


class MyDutyOut(BaseModel):
    volunteer_id: uuid.UUID
    on_duty: bool
    until: datetime | None
    units: list[UnitDutyOut]
    last_location: SampleOut | None

    @classmethod
    def of(cls, d: MyDuty, crs: Crs = Crs.WGS84) -> MyDutyOut:
        return cls(
            volunteer_id=d.volunteer_id,
            on_duty=d.on_duty,
            until=d.until,
            units=[UnitDutyOut.of(u) for u in d.units],
            last_location=SampleOut.of(d.last_location, crs) if d.last_location else None,
        )


class SampleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    at: AwareDatetime = Field(description="When the point was taken (RFC 3339 with offset)")
    location: LocationIn
    accuracy_m: float | None = Field(None, ge=0, le=100_000)

    def to_sample(self) -> LocationSample:
        return LocationSample(self.at, self.location.to_point(), self.accuracy_m)


class LocationsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    samples: list[SampleIn] = Field(min_length=1, max_length=MAX_BATCH)


class LocationReportOut(BaseModel):
    """What became of the batch: points kept (at most one per 30 s) and the rest counted."""

    kept: int
    thinned: int
    stale: int
    future: int
    off_duty: int
    last_location: SampleOut | None
    on_duty_until: datetime | None

    @classmethod
    def of(cls, r: LocationReport, crs: Crs = Crs.WGS84) -> LocationReportOut:
        b = r.result
        return cls(
            kept=len(b.kept),
            thinned=b.thinned,
            stale=b.stale,
            future=b.future,
            off_duty=b.off_duty,
            last_location=SampleOut.of(r.last_location, crs) if r.last_location else None,
            on_duty_until=r.on_duty_until,
        )
