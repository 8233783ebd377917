"""GraphQL door of police appeals (协查通报): node, connection, publish and withdraw (same
service as REST)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, cast
from uuid import UUID

import strawberry
from strawberry import relay
from strawberry.dataloader import DataLoader
from strawberry.scalars import JSON

from app.api.graphql.context import Info
from app.api.graphql.errors import MutationProblem, problem_of
from app.api.graphql.relay import (
    first_of,
    keyset_connection,
    node_uuid,
    optional_node_uuid,
    resolve_scoped,
)
from app.api.pagination import after_id
from app.domain.appeals.errors import AppealNotFound
from app.domain.appeals.model import Appeal, AppealKind, AppealStatus
from app.domain.appeals.services import AppealService, NewAppeal
from app.domain.organisation.geojson import boundary_to_geojson
from app.domain.shared.errors import DomainError
from app.domain.shared.geo import Crs
from app.domain.shared.scope import Scope

strawberry.enum(AppealKind, name="AppealKind", description="协查通报 / 寻人")
strawberry.enum(AppealStatus, name="AppealStatus", description="Appeal lifecycle")


def appeal_loader(info: Info) -> DataLoader[UUID, Appeal | None]:
    service = info.context.services.get(AppealService)

    async def fetch(scope: Scope, keys: list[UUID]) -> dict[UUID, Appeal]:
        return await service.get_many(scope, keys)

    return info.context.scoped_loader("appeals.by_id", fetch)


@strawberry.type(name="Appeal", description="A police appeal (协查通报) or missing person (寻人).")
class AppealNode(relay.Node):
    id: relay.NodeID[str]
    uuid: UUID
    kind: AppealKind
    title: str
    body: str
    status: AppealStatus
    published_at: datetime | None
    expires_at: datetime
    withdrawn_at: datetime | None
    version: int
    appeal: strawberry.Private[Appeal]

    @classmethod
    def of(cls, a: Appeal) -> AppealNode:
        return cls(
            id=str(a.id),
            uuid=a.id,
            kind=a.kind,
            title=a.title,
            body=a.body,
            status=a.status,
            published_at=a.published_at,
            expires_at=a.expires_at,
            withdrawn_at=a.withdrawn_at,
            version=a.version,
            appeal=a,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[AppealNode | None]:
        return await resolve_scoped(node_ids, appeal_loader(info), cls.of, AppealNotFound, required)

    @strawberry.field
    def station_id(self) -> relay.GlobalID | None:
        station = self.appeal.station_id
        return relay.GlobalID("OrgUnit", str(station)) if station else None

    @strawberry.field
    def target_unit_ids(self) -> list[relay.GlobalID]:
        return [relay.GlobalID("OrgUnit", str(u)) for u in self.appeal.target.unit_ids]

    @strawberry.field(description="The drawn target area as a GeoJSON MultiPolygon, if any.")
    def target_polygon(self, crs: Crs = Crs.WGS84) -> JSON | None:
        polygon = self.appeal.target.polygon
        return cast(JSON, boundary_to_geojson(polygon, crs)) if polygon is not None else None

    @strawberry.field
    def media_ids(self) -> list[relay.GlobalID]:
        return [relay.GlobalID("Media", str(m)) for m in self.appeal.media_ids]


@strawberry.type
class AppealsQuery:
    @strawberry.field(description="Appeals you may see, newest first.")
    async def appeals(
        self,
        info: Info,
        status: AppealStatus | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> relay.Connection[AppealNode]:
        scope = await info.context.scope()
        page = await info.context.services.get(AppealService).list_visible(
            scope, status=status, limit=first_of(first), after=after_id(after)
        )
        return keyset_connection(page.items, AppealNode.of, more=page.has_more)


@strawberry.input
class PublishAppealInput:
    kind: AppealKind
    title: str
    body: str
    expires_at: datetime
    target_unit_ids: list[relay.GlobalID] | None = None
    target_polygon: JSON | None = None
    media_ids: list[UUID] = strawberry.field(default_factory=list)
    station_id: relay.GlobalID | None = None


@strawberry.type
class AppealPayload:
    appeal: AppealNode


AppealResult = Annotated[AppealPayload | MutationProblem, strawberry.union("AppealResult")]


@strawberry.type
class AppealsMutation:
    @strawberry.mutation(description="Publish a police appeal to its target area (staff).")
    async def publish_appeal(self, info: Info, input: PublishAppealInput) -> AppealResult:
        scope = await info.context.scope()
        try:
            units = (
                [node_uuid(u, "OrgUnit", AppealNotFound) for u in input.target_unit_ids]
                if input.target_unit_ids is not None
                else None
            )
            polygon = input.target_polygon
            appeal = await info.context.services.get(AppealService).publish(
                scope,
                NewAppeal(
                    kind=input.kind,
                    title=input.title,
                    body=input.body,
                    expires_at=input.expires_at,
                    unit_ids=units,
                    polygon=dict(polygon) if isinstance(polygon, dict) else None,
                    media_ids=tuple(input.media_ids),
                    station_id=optional_node_uuid(input.station_id, "OrgUnit", AppealNotFound),
                ),
            )
        except DomainError as e:
            return problem_of(e, info.context.lang)
        return AppealPayload(appeal=AppealNode.of(appeal))

    @strawberry.mutation(description="Withdraw an appeal (optimistic: expectedVersion).")
    async def withdraw_appeal(
        self, info: Info, id: relay.GlobalID, expected_version: int | None = None
    ) -> AppealResult:
        scope = await info.context.scope()
        try:
            appeal = await info.context.services.get(AppealService).withdraw(
                scope, node_uuid(id, "Appeal", AppealNotFound), expected_version
            )
        except DomainError as e:
            return problem_of(e, info.context.lang)
        return AppealPayload(appeal=AppealNode.of(appeal))
