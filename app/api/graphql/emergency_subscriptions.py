"""``emergencyAlerts(afterSeq)``: the realtime alert feed over graphql-transport-ws
(authenticated at ``connection_init`` by ``ShouwangGraphQLRouter``), the same
``AlertFeed`` as the plain WebSocket and SSE doors. Resume with the last ``seq`` seen;
the subscriber is re-authenticated periodically, so a revoked session ends it."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime
from typing import cast
from uuid import UUID

import strawberry
from strawberry.scalars import JSON

from app.api.graphql.context import Info
from app.api.graphql.emergency import EmergencyPoint
from app.api.graphql.incident_enums import registered
from app.api.graphql.subscriptions import _current_scope
from app.domain.emergency.feed import AlertFeed
from app.domain.emergency.glossary import IncidentType, Severity
from app.domain.emergency.incident import IncidentEventKind, IncidentStatus
from app.domain.emergency.incident_ports import FeedItem, IncidentSummary
from app.domain.shared.geo import Crs, from_wgs84
from app.domain.shared.scope import Scope

assert registered


@strawberry.type(description="The incident an alert concerns, as any subscriber may see it.")
class EmergencyAlertIncident:
    uuid: UUID
    type: IncidentType
    severity: Severity
    location: EmergencyPoint
    description: str
    drill: bool = strawberry.field(description="演练: never a real incident")
    status: IncidentStatus
    raised_at: datetime
    station_id: UUID | None
    district_id: UUID

    @classmethod
    def of(cls, s: IncidentSummary, crs: Crs) -> EmergencyAlertIncident:
        lon, lat = from_wgs84(s.location, crs)
        return cls(
            uuid=s.id,
            type=s.type,
            severity=s.severity,
            location=EmergencyPoint(lon=round(lon, 7), lat=round(lat, 7), crs=crs),
            description=s.description,
            drill=s.drill,
            status=s.status,
            raised_at=s.raised_at,
            station_id=s.station_id,
            district_id=s.district_id,
        )


@strawberry.type(description="One event of an incident as you receive it (resume by seq).")
class EmergencyAlert:
    seq: int
    event_id: UUID
    kind: IncidentEventKind
    at: datetime
    drill: bool
    member_id: UUID | None
    detail: JSON
    incident: EmergencyAlertIncident

    @classmethod
    def of(cls, item: FeedItem, crs: Crs) -> EmergencyAlert:
        return cls(
            seq=item.seq,
            event_id=item.event_id,
            kind=item.kind,
            at=item.at,
            drill=item.drill,
            member_id=item.member_id,
            detail=cast(JSON, item.detail),
            incident=EmergencyAlertIncident.of(item.incident, crs),
        )


@strawberry.type
class EmergencySubscription:
    @strawberry.subscription(
        description="Staff: the events of your jurisdiction's incidents; volunteers: your "
        "alerts and what follows them. Events after afterSeq come from the database first "
        "(resume), then live ones."
    )
    async def emergency_alerts(
        self, info: Info, after_seq: int | None = None, crs: Crs = Crs.WGS84
    ) -> AsyncGenerator[EmergencyAlert, None]:
        ctx = info.context
        alerts = ctx.services.get(AlertFeed)
        scope = await alerts.authorise(await ctx.scope())

        async def reauthenticate() -> Scope:
            return await _current_scope(ctx)

        feed = alerts.stream(
            scope,
            max(after_seq, 0) if after_seq is not None else None,
            reauthenticate=reauthenticate,
        )
        try:
            async for item in feed:
                yield EmergencyAlert.of(item, crs)
        finally:
            await feed.aclose()
