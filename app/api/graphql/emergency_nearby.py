"""GraphQL door of the nearest responders (附近应急力量): same service and checks as
GET /api/v1/emergency/nearby; members with distance and unit only, never a position."""

from __future__ import annotations

from uuid import UUID

import strawberry

from app.api.graphql.context import Info
from app.api.graphql.emergency import EmergencyLocationInput
from app.domain.emergency.glossary import Capability
from app.domain.emergency.incident_ports import NearbyMember, NearbyUnit
from app.domain.emergency.nearby import DEFAULT_LIMIT, DEFAULT_RADIUS_M, NearbyService


@strawberry.type
class NearbyEmergencyUnit:
    unit_id: UUID
    station_id: UUID
    distance_m: float
    offers: list[Capability]
    on_duty: int

    @classmethod
    def of(cls, u: NearbyUnit) -> NearbyEmergencyUnit:
        return cls(
            unit_id=u.unit_id,
            station_id=u.station_id,
            distance_m=round(u.distance_m, 1),
            offers=sorted(u.offers),
            on_duty=u.on_duty,
        )


@strawberry.type
class NearbyEmergencyMember:
    volunteer_id: UUID
    unit_id: UUID
    distance_m: float
    located: bool = strawberry.field(
        description="True: by the last known location; false: at the unit's base"
    )

    @classmethod
    def of(cls, m: NearbyMember) -> NearbyEmergencyMember:
        return cls(
            volunteer_id=m.volunteer_id,
            unit_id=m.unit_id,
            distance_m=round(m.distance_m, 1),
            located=m.located,
        )


@strawberry.type
class NearbyEmergencyResponders:
    units: list[NearbyEmergencyUnit]
    members: list[NearbyEmergencyMember]


@strawberry.type
class EmergencyNearbyQuery:
    @strawberry.field(
        description="Officers and admins: units and on-duty members nearest to a point in "
        "their districts (radius 1–20000 m, limit 1–200 of each)."
    )
    async def nearby_emergency_responders(
        self,
        info: Info,
        location: EmergencyLocationInput,
        capabilities: list[Capability] | None = None,
        radius_m: int = DEFAULT_RADIUS_M,
        limit: int = DEFAULT_LIMIT,
    ) -> NearbyEmergencyResponders:
        scope = await info.context.scope()
        found = await info.context.services.get(NearbyService).nearest(
            scope,
            location.to_point(),
            capabilities=capabilities or (),
            radius_m=radius_m,
            limit=limit,
        )
        return NearbyEmergencyResponders(
            units=[NearbyEmergencyUnit.of(u) for u in found.units],
            members=[NearbyEmergencyMember.of(m) for m in found.members],
        )
