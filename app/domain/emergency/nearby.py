"""Nearest responders (附近应急力量) for station staff: the units and on-duty members nearest
to a point, as dispatch would find them, before or without raising an incident.

Staff only (officers, station and district admins: the roles that dispatch); the search
covers the districts the caller works in — the districts of their stations and the
districts they are bound to — never another district, wherever the point is. Members'
positions are personal data (PIPL): the answer gives their distance and unit, never
where they are.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from typing import Final, Protocol

from app.domain.emergency.errors import invalid
from app.domain.emergency.glossary import Capability
from app.domain.emergency.incident_ports import CandidateFinder, NearbyMember, NearbyUnit
from app.domain.shared.clock import Clock
from app.domain.shared.errors import NotAllowed
from app.domain.shared.geo import GeoPoint
from app.domain.shared.scope import WRITING_STAFF_ROLES, Scope

MAX_RADIUS_M: Final = 20_000
MAX_LIMIT: Final = 200
DEFAULT_RADIUS_M: Final = 3_000
DEFAULT_LIMIT: Final = 20


class StationDistricts(Protocol):
    async def districts_of(self, station_ids: Collection[uuid.UUID]) -> frozenset[uuid.UUID]:
        """The districts the given stations belong to."""
        ...


@dataclass(frozen=True, slots=True)
class Responders:
    units: list[NearbyUnit]
    members: list[NearbyMember]


class NotDispatcher(NotAllowed):
    code = "emergency.not_dispatcher"
    message_en = "Only officers and station or district admins may look for responders."
    message_zh = "只有民警及派出所、分局管理员可以查询附近应急力量。"


def check_search(radius_m: int, limit: int) -> None:
    if not 1 <= radius_m <= MAX_RADIUS_M:
        raise invalid(
            "radius_invalid",
            "radius_m",
            f"The radius is 1 to {MAX_RADIUS_M} m.",
            f"搜索半径须为1至{MAX_RADIUS_M}米。",
        )
    if not 1 <= limit <= MAX_LIMIT:
        raise invalid(
            "limit_invalid",
            "limit",
            f"The limit is 1 to {MAX_LIMIT}.",
            f"返回数量须为1至{MAX_LIMIT}。",
        )


class NearbyService:
    def __init__(self, finder: CandidateFinder, districts: StationDistricts, clock: Clock) -> None:
        self.finder = finder
        self.districts = districts
        self.clock = clock

    async def _districts(self, scope: Scope) -> frozenset[uuid.UUID]:
        stations = scope.stations_as(*WRITING_STAFF_ROLES)
        bound = scope.districts_as(*WRITING_STAFF_ROLES)
        return bound | await self.districts.districts_of(stations)

    async def nearest(
        self,
        scope: Scope,
        point: GeoPoint,
        *,
        capabilities: Collection[Capability] = (),
        radius_m: int = DEFAULT_RADIUS_M,
        limit: int = DEFAULT_LIMIT,
    ) -> Responders:
        """Units (by base) and on-duty members within ``radius_m`` of ``point`` holding
        every capability asked for, nearest first, at most ``limit`` of each."""
        if not scope.can_write_org_data:
            raise NotDispatcher()
        check_search(radius_m, limit)
        required = frozenset(capabilities)
        now = self.clock.now()
        units: list[NearbyUnit] = []
        members: dict[uuid.UUID, NearbyMember] = {}
        for district_id in sorted(await self._districts(scope)):
            units += await self.finder.nearest_units(
                point,
                district_id=district_id,
                radius_m=radius_m,
                limit=limit,
                required=required,
                now=now,
            )
            for member in await self.finder.nearest_members(
                point,
                district_id=district_id,
                radius_m=radius_m,
                limit=limit,
                required=required,
                now=now,
            ):
                known = members.get(member.volunteer_id)
                if known is None or member.distance_m < known.distance_m:
                    members[member.volunteer_id] = member
        units.sort(key=lambda u: (u.distance_m, u.unit_id))
        ranked = sorted(members.values(), key=lambda m: (m.distance_m, m.volunteer_id))
        return Responders(units[:limit], ranked[:limit])
