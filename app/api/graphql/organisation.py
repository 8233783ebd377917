"""GraphQL door of the organisation context: units, locate, watch points (守望点)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import datetime
from functools import partial
from typing import Annotated, cast
from uuid import UUID

import strawberry
from strawberry import relay
from strawberry.dataloader import DataLoader
from strawberry.scalars import JSON

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
from app.api.pagination import after_id
from app.domain.organisation.geojson import boundary_to_geojson
from app.domain.organisation.model import Level, OrgUnit, Placement, Slice, UnitRef, WatchPoint
from app.domain.organisation.ports import WatchPointFilter
from app.domain.organisation.services import (
    NewWatchPoint,
    OrgUnitNotFound,
    OrgUnitService,
    WatchPointChanges,
    WatchPointNotFound,
    WatchPointService,
)
from app.domain.shared.errors import DomainError
from app.domain.shared.errors import InvalidInput as InvalidInputError
from app.domain.shared.geo import from_wgs84, to_wgs84

strawberry.enum(Level, name="OrgUnitLevel", description="分局 / 派出所 / 社区 / 网格")


def _unit_filter(gid: relay.GlobalID | None, field: str) -> UUID | None:
    """An OrgUnit id given as a filter; any other id is invalid input."""

    def invalid() -> InvalidInputError:
        return InvalidInputError(
            f"{field} is not the id of a OrgUnit.",
            f"{field} 不是有效的 OrgUnit 标识。",
            code="graphql.invalid_id",
        )

    return optional_node_uuid(gid, "OrgUnit", invalid)


def _unit_loader(info: Info, with_boundary: bool) -> DataLoader[UUID, OrgUnit | None]:
    units = partial(
        info.context.services.get(OrgUnitService).units_by_ids, with_boundary=with_boundary
    )
    name = "organisation.units" + (".boundary" if with_boundary else "")
    return info.context.scoped_loader(name, units)


def _point_loader(info: Info) -> DataLoader[UUID, WatchPoint | None]:
    points = info.context.services.get(WatchPointService).by_ids
    return info.context.scoped_loader("organisation.watch_points", points)


async def _unit_node(info: Info, unit_id: UUID | None) -> OrgUnitNode | None:
    if unit_id is None:
        return None
    unit = await _unit_loader(info, False).load(unit_id)
    return OrgUnitNode.of(unit) if unit else None


@strawberry.type(name="OrgUnit", description="A unit of the organisation tree in your scope.")
class OrgUnitNode(relay.Node):
    id: relay.NodeID[str]
    uuid: UUID
    level: Level
    code: str
    name: str
    version: int
    created_at: datetime | None
    updated_at: datetime | None
    parent_uuid: strawberry.Private[UUID | None]

    @classmethod
    def of(cls, unit: OrgUnit) -> OrgUnitNode:
        return cls(
            id=str(unit.id),
            uuid=unit.id,
            level=unit.level,
            code=unit.code,
            name=unit.name,
            version=unit.version,
            created_at=unit.created_at,
            updated_at=unit.updated_at,
            parent_uuid=unit.parent_id,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[OrgUnitNode | None]:
        loader = _unit_loader(info, False)
        return await resolve_scoped(node_ids, loader, cls.of, OrgUnitNotFound, required)

    @strawberry.field(description="The parent unit, if it is in your scope.")
    async def parent(self, info: Info) -> OrgUnitNode | None:
        return await _unit_node(info, self.parent_uuid)

    @strawberry.field(description="Jurisdiction polygon as a GeoJSON MultiPolygon.")
    async def boundary(self, info: Info, crs: Crs = Crs.WGS84) -> JSON | None:
        unit = await _unit_loader(info, True).load(self.uuid)
        if unit is None or unit.boundary is None:
            return None
        # Many vertices: convert off the event loop.
        return cast(JSON, await asyncio.to_thread(boundary_to_geojson, unit.boundary, crs))

    @strawberry.field(description="Units directly below this one that are in your scope.")
    async def children(
        self, info: Info, first: int = 50, after: str | None = None
    ) -> relay.Connection[OrgUnitNode]:
        scope = await info.context.scope()
        service = info.context.services.get(OrgUnitService)
        page = await service.children(
            scope, self.uuid, limit=first_of(first), after=after_id(after)
        )
        return _unit_connection(page)


def _unit_connection(page: Slice[OrgUnit]) -> relay.Connection[OrgUnitNode]:
    return keyset_connection(page.items, OrgUnitNode.of, more=page.has_more)


@strawberry.type(name="OrgUnitRef", description="Id, code and name of a unit, for display.")
class UnitRefType:
    uuid: UUID
    code: str
    name: str

    @strawberry.field(description="Global id, for node(id:) if the unit is in your scope.")
    def id(self) -> relay.GlobalID:
        return relay.GlobalID("OrgUnit", str(self.uuid))

    @classmethod
    def of(cls, ref: UnitRef | None) -> UnitRefType | None:
        return cls(uuid=ref.id, code=ref.code, name=ref.name) if ref else None


@strawberry.type(name="Placement", description="Where a point belongs.")
class PlacementType:
    outside: bool = strawberry.field(description="No station's jurisdiction covers the point.")
    district: UnitRefType | None
    station: UnitRefType | None
    community: UnitRefType | None
    grid: UnitRefType | None

    @classmethod
    def of(cls, placement: Placement) -> PlacementType:
        return cls(
            outside=placement.outside,
            district=UnitRefType.of(placement.district),
            station=UnitRefType.of(placement.station),
            community=UnitRefType.of(placement.community),
            grid=UnitRefType.of(placement.grid),
        )


@strawberry.type(description="A location in the requested coordinate system.")
class WatchPointLocation:
    lon: float
    lat: float
    crs: Crs


@strawberry.type(name="WatchPoint", description="守望点: a watched place with a geofence.")
class WatchPointNode(relay.Node):
    id: relay.NodeID[str]
    uuid: UUID
    code: str
    name: str
    radius_m: int
    active: bool
    version: int
    created_at: datetime | None
    updated_at: datetime | None
    point: strawberry.Private[WatchPoint]

    @classmethod
    def of(cls, point: WatchPoint) -> WatchPointNode:
        return cls(
            id=str(point.id),
            uuid=point.id,
            code=point.code,
            name=point.name,
            radius_m=point.radius_m,
            active=point.active,
            version=point.version,
            created_at=point.created_at,
            updated_at=point.updated_at,
            point=point,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[WatchPointNode | None]:
        return await resolve_scoped(
            node_ids, _point_loader(info), cls.of, WatchPointNotFound, required
        )

    @strawberry.field
    def location(self, crs: Crs = Crs.WGS84) -> WatchPointLocation:
        lon, lat = from_wgs84(self.point.location, crs)
        return WatchPointLocation(lon=round(lon, 7), lat=round(lat, 7), crs=crs)

    @strawberry.field(description="Content of the printable QR code (police staff only).")
    async def qr_token(self, info: Info) -> str | None:
        scope = await info.context.scope()
        return self.point.qr_token if scope.is_staff else None

    @strawberry.field
    async def station(self, info: Info) -> OrgUnitNode | None:
        return await _unit_node(info, self.point.station_id)

    @strawberry.field
    async def community(self, info: Info) -> OrgUnitNode | None:
        return await _unit_node(info, self.point.community_id)

    @strawberry.field
    async def grid(self, info: Info) -> OrgUnitNode | None:
        return await _unit_node(info, self.point.grid_id)


@strawberry.type
class OrganisationQuery:
    @strawberry.field(description="Organisation units in your scope, newest first.")
    async def org_units(
        self,
        info: Info,
        level: Level | None = None,
        parent_id: relay.GlobalID | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> relay.Connection[OrgUnitNode]:
        scope = await info.context.scope()
        page = await info.context.services.get(OrgUnitService).list_units(
            scope,
            level=level,
            parent_id=_unit_filter(parent_id, "parentId"),
            limit=first_of(first),
            after=after_id(after),
        )
        return _unit_connection(page)

    @strawberry.field(description="The station, community and grid covering a point.")
    async def locate(
        self, info: Info, lon: float, lat: float, crs: Crs = Crs.WGS84
    ) -> PlacementType:
        scope = await info.context.scope()
        service = info.context.services.get(OrgUnitService)
        return PlacementType.of(await service.locate(scope, to_wgs84(lon, lat, crs)))

    @strawberry.field(description="Watch points in your scope (police staff), newest first.")
    async def watch_points(
        self,
        info: Info,
        station_id: relay.GlobalID | None = None,
        grid_id: relay.GlobalID | None = None,
        active: bool | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> relay.Connection[WatchPointNode]:
        scope = await info.context.scope()
        where = WatchPointFilter(
            station_id=_unit_filter(station_id, "stationId"),
            grid_id=_unit_filter(grid_id, "gridId"),
            active=active,
        )
        service = info.context.services.get(WatchPointService)
        page = await service.list_points(scope, where, limit=first_of(first), after=after_id(after))
        return keyset_connection(page.items, WatchPointNode.of, more=page.has_more)


@strawberry.input
class WatchPointLocationInput:
    lon: float
    lat: float
    crs: Crs = Crs.WGS84


@strawberry.input
class CreateWatchPointInput:
    name: str
    location: WatchPointLocationInput
    radius_m: int
    code: str | None = None


@strawberry.input
class UpdateWatchPointInput:
    name: str | None = None
    location: WatchPointLocationInput | None = None
    radius_m: int | None = None


@strawberry.type
class WatchPointPayload:
    watch_point: WatchPointNode


CreateWatchPointResult = Annotated[
    WatchPointPayload | MutationProblem, strawberry.union("CreateWatchPointResult")
]
UpdateWatchPointResult = Annotated[
    WatchPointPayload | MutationProblem, strawberry.union("UpdateWatchPointResult")
]
DeactivateWatchPointResult = Annotated[
    WatchPointPayload | MutationProblem, strawberry.union("DeactivateWatchPointResult")
]


def _watch_point_id(gid: relay.GlobalID) -> UUID:
    return node_uuid(gid, "WatchPoint", WatchPointNotFound)


@strawberry.type
class OrganisationMutation:
    @strawberry.mutation(description="Create a watch point inside your station.")
    async def create_watch_point(
        self, info: Info, input: CreateWatchPointInput
    ) -> CreateWatchPointResult:
        ctx = info.context
        scope = await ctx.scope()
        try:
            loc = input.location
            point = await ctx.services.get(WatchPointService).create(
                scope,
                NewWatchPoint(
                    name=input.name,
                    location=to_wgs84(loc.lon, loc.lat, loc.crs),
                    radius_m=input.radius_m,
                    code=input.code,
                ),
            )
        except DomainError as error:
            return problem_of(error, ctx.lang)
        return WatchPointPayload(watch_point=WatchPointNode.of(point))

    @strawberry.mutation(description="Rename, resize or move a watch point.")
    async def update_watch_point(
        self,
        info: Info,
        id: relay.GlobalID,
        expected_version: int,
        input: UpdateWatchPointInput,
    ) -> UpdateWatchPointResult:
        ctx = info.context
        scope = await ctx.scope()
        try:
            loc = input.location
            changes = WatchPointChanges(
                name=input.name,
                location=to_wgs84(loc.lon, loc.lat, loc.crs) if loc else None,
                radius_m=input.radius_m,
            )
            point = await ctx.services.get(WatchPointService).update(
                scope, _watch_point_id(id), expected_version, changes
            )
        except DomainError as error:
            return problem_of(error, ctx.lang)
        return WatchPointPayload(watch_point=WatchPointNode.of(point))

    @strawberry.mutation(description="Stop using a watch point.")
    async def deactivate_watch_point(
        self, info: Info, id: relay.GlobalID, expected_version: int | None = None
    ) -> DeactivateWatchPointResult:
        ctx = info.context
        scope = await ctx.scope()
        try:
            point = await ctx.services.get(WatchPointService).deactivate(
                scope, _watch_point_id(id), expected_version
            )
        except DomainError as error:
            return problem_of(error, ctx.lang)
        return WatchPointPayload(watch_point=WatchPointNode.of(point))
