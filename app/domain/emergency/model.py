"""The emergency unit (最小应急单元): a team of type emergency unit with a leader, a base
location, equipment with locations, and members whose capabilities are backed by
certificates.

Rules:
- Only a team of type ``emergency_unit`` with a leader becomes an emergency unit.
- A member claims capabilities only with certificates valid on the day of the claim; a
  claim counts on a later day only while a certificate for it is still valid then, so an
  expired certificate silently drops the capability from dispatch.
- The unit's capabilities on a day are the union of its members' counted capabilities.
- Each equipment item has a kind and a location (an AED in the lobby, a life buoy on the
  bank); items past their service date (AED pads, extinguisher inspection) are listed but
  not counted as usable.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from app.domain.emergency.capabilities import (
    DEFAULT_CAPABILITY_COURSES,
    CapabilityCourses,
    HeldCertificate,
    certified_capabilities,
    check_claim,
)
from app.domain.emergency.errors import (
    EquipmentNotFound,
    NotAnEmergencyTeam,
    UnitNeedsLeader,
    invalid,
)
from app.domain.emergency.glossary import Capability, EquipmentKind
from app.domain.shared.geo import GeoPoint, distance_m
from app.domain.shared.ids import new_id
from app.domain.shared.text import storable
from app.domain.volunteers.glossary import TeamType
from app.domain.volunteers.teams import Team

LABEL_MAX = 100
MAX_EQUIPMENT = 200


def checked_label(label: str | None) -> str | None:
    text = " ".join((label or "").split())
    if not text:
        return None
    if len(text) > LABEL_MAX or not storable(text):
        raise invalid(
            "label_invalid",
            "label",
            f"The label is at most {LABEL_MAX} characters.",
            f"说明最多{LABEL_MAX}字。",
        )
    return text


@dataclass(frozen=True, slots=True)
class EquipmentItem:
    """One piece of equipment where it is kept (``label``: e.g. 小区东门保安亭)."""

    id: uuid.UUID
    kind: EquipmentKind
    location: GeoPoint
    label: str | None = None
    service_due: date | None = None  # None: no service date to keep

    def usable_on(self, day: date) -> bool:
        """Usable up to and including its service-due day."""
        return self.service_due is None or day <= self.service_due


@dataclass(slots=True)
class UnitMember:
    """A member of an emergency unit and the capabilities they claim."""

    volunteer_id: uuid.UUID
    unit_id: uuid.UUID
    claimed: frozenset[Capability] = frozenset()

    def claim(
        self,
        capabilities: Iterable[Capability],
        certificates: Iterable[HeldCertificate],
        on: date,
        courses: CapabilityCourses = DEFAULT_CAPABILITY_COURSES,
    ) -> None:
        """Replace the claimed set; every capability needs a certificate valid on ``on``."""
        self.claimed = check_claim(capabilities, certificates, on, courses)

    def capabilities_on(
        self,
        day: date,
        certificates: Iterable[HeldCertificate],
        courses: CapabilityCourses = DEFAULT_CAPABILITY_COURSES,
    ) -> frozenset[Capability]:
        """The claims still backed by a certificate valid on ``day``."""
        return self.claimed & certified_capabilities(certificates, day, courses)


@dataclass(slots=True)
class EmergencyUnit:
    """最小应急单元. ``id`` is the team's id: a unit is a view of one team."""

    id: uuid.UUID
    station_id: uuid.UUID
    district_id: uuid.UUID
    name: str
    leader_id: uuid.UUID | None  # None when the team's leader left
    base: GeoPoint
    equipment: list[EquipmentItem] = field(default_factory=list)
    version: int = 1
    # What the unit declares it offers (站所登记); dispatch still counts only what its
    # members are certified for on the day (``capabilities_on``).
    offers: frozenset[Capability] = frozenset()

    @classmethod
    def from_team(
        cls, team: Team, base: GeoPoint, offers: Iterable[Capability] = ()
    ) -> EmergencyUnit:
        if team.type != TeamType.EMERGENCY_UNIT:
            raise NotAnEmergencyTeam()
        if team.leader_id is None:
            raise UnitNeedsLeader()
        return cls(
            id=team.id,
            station_id=team.station_id,
            district_id=team.district_id,
            name=team.name,
            leader_id=team.leader_id,
            base=base,
            offers=frozenset(offers),
        )

    def set_offers(self, offers: Iterable[Capability]) -> None:
        self.offers = frozenset(offers)

    def move_base(self, base: GeoPoint) -> None:
        self.base = base

    def add_equipment(
        self,
        kind: EquipmentKind,
        location: GeoPoint,
        *,
        label: str | None = None,
        service_due: date | None = None,
    ) -> EquipmentItem:
        if len(self.equipment) >= MAX_EQUIPMENT:
            raise invalid(
                "too_much_equipment",
                "equipment",
                f"A unit lists at most {MAX_EQUIPMENT} items.",
                f"每个单元最多登记{MAX_EQUIPMENT}件装备。",
            )
        item = EquipmentItem(new_id(), kind, location, checked_label(label), service_due)
        self.equipment.append(item)
        return item

    def _index(self, item_id: uuid.UUID) -> int:
        for i, item in enumerate(self.equipment):
            if item.id == item_id:
                return i
        raise EquipmentNotFound()

    def move_equipment(self, item_id: uuid.UUID, location: GeoPoint) -> EquipmentItem:
        i = self._index(item_id)
        old = self.equipment[i]
        self.equipment[i] = EquipmentItem(old.id, old.kind, location, old.label, old.service_due)
        return self.equipment[i]

    def remove_equipment(self, item_id: uuid.UUID) -> None:
        del self.equipment[self._index(item_id)]

    def nearest_equipment(
        self, kind: EquipmentKind, point: GeoPoint, on: date
    ) -> tuple[EquipmentItem, float] | None:
        """The nearest usable item of ``kind`` to ``point`` and its distance in metres."""
        usable = [e for e in self.equipment if e.kind == kind and e.usable_on(on)]
        if not usable:
            return None
        best = min(usable, key=lambda e: distance_m(e.location, point))
        return best, distance_m(best.location, point)

    def capabilities_on(
        self,
        day: date,
        members: Iterable[UnitMember],
        certificates: Mapping[uuid.UUID, Iterable[HeldCertificate]],
        courses: CapabilityCourses = DEFAULT_CAPABILITY_COURSES,
    ) -> frozenset[Capability]:
        """The union of what this unit's members may do on ``day`` (``certificates`` by
        volunteer id; members of other units are ignored)."""
        found: set[Capability] = set()
        for member in members:
            if member.unit_id == self.id:
                found |= member.capabilities_on(
                    day, certificates.get(member.volunteer_id, ()), courses
                )
        return frozenset(found)
