"""GraphQL door of the organisation context: units, locate, watch points (守望点)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, cast
from uuid import UUID

import strawberry
from strawberry import relay
from strawberry.dataloader import DataLoader
from strawberry.scalars import JSON

from app.api.graphql.context import GraphQLContext
from app.api.graphql.errors import (
    Conflict,
    InvalidInput,
    NotAllowed,
    NotFound,
    RateLimited,
    problem_of,
)
from app.api.graphql.relay import connection_from_page
from app.api.rest.common import MAX_PAGE, decode_cursor, encode_cursor
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
from app.domain.shared.geo import Crs, from_wgs84, to_wgs84
from app.domain.shared.ids import parse_id

Info = strawberry.Info[GraphQLContext, None]

# Wrapping the shared Python enum keeps one GraphQL "Crs" type for every context.
strawberry.enum(Crs, name="Crs", description="Coordinate reference system of a location")
strawberry.enum(Level, name="OrgUnitLevel", description="分局 / 派出所 / 社区 / 网格")


def _uuid(value: str) -> UUID | None:
    return parse_id(value)


def _global_uuid(gid: relay.GlobalID | None, type_name: str, field: str) -> UUID | None:
    if gid is None:
        return None
    parsed = parse_id(gid.node_id) if gid.type_name == type_name else None
    if parsed is None:
        raise InvalidInputError(
            f"{field} is not the id of a {type_name}.",
            f"{field} 不是有效的 {type_name} 标识。",
            code="graphql.invalid_id",
        )
    return parsed


def _after(cursor: str | None) -> UUID | None:
    values = decode_cursor(cursor)
    if values is None:
        return None
    parsed = parse_id(str(values.get("id", "")))
    if parsed is None:
        raise InvalidInputError(
            "The cursor is not valid.", "分页游标无效。", code="pagination.invalid_cursor"
        )
    return parsed


def _first(first: int) -> int:
    return max(1, min(first, MAX_PAGE))


def _cursor(record_id: UUID) -> str:
    return encode_cursor({"id": str(record_id)})


def _unit_loader(info: Info, with_boundary: bool) -> DataLoader[UUID, OrgUnit | None]:
    ctx = info.context

    async def load(keys: list[UUID]) -> list[OrgUnit | None]:
        scope = await ctx.scope()
        found = await ctx.services.get(OrgUnitService).units_by_ids(
            scope, keys, with_boundary=with_boundary
        )
        return [found.get(k) for k in keys]

    name = "organisation.units" + (".boundary" if with_boundary else "")
    return ctx.loader(name, lambda: DataLoader(load_fn=load))


def _point_loader(info: Info) -> DataLoader[UUID, WatchPoint | None]:
    ctx = info.context

    async def load(keys: list[UUID]) -> list[WatchPoint | None]:
        scope = await ctx.scope()
        found = await ctx.services.get(WatchPointService).by_ids(scope, keys)
        return [found.get(k) for k in keys]

    return ctx.loader("organisation.watch_points", lambda: DataLoader(load_fn=load))


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
        out: list[OrgUnitNode | None] = []
        for raw in node_ids:
            parsed = _uuid(raw)
            unit = await loader.load(parsed) if parsed else None
            if unit is None and required:
                raise OrgUnitNotFound()
            out.append(OrgUnitNode.of(unit) if unit else None)
        return out

    @strawberry.field(description="The parent unit, if it is in your scope.")
    async def parent(self, info: Info) -> OrgUnitNode | None:
        return await _unit_node(info, self.parent_uuid)

    @strawberry.field(description="Jurisdiction polygon as a GeoJSON MultiPolygon.")
    async def boundary(self, info: Info, crs: Crs = Crs.WGS84) -> JSON | None:
        unit = await _unit_loader(info, True).load(self.uuid)
        if unit is None or unit.boundary is None:
            return None
        return cast(JSON, boundary_to_geojson(unit.boundary, crs))

    @strawberry.field(description="Units directly below this one that are in your scope.")
    async def children(
        self, info: Info, first: int = 50, after: str | None = None
    ) -> relay.Connection[OrgUnitNode]:
        scope = await info.context.scope()
        service = info.context.services.get(OrgUnitService)
        page = await service.children(scope, self.uuid, limit=_first(first), after=_after(after))
        return _unit_connection(page)


def _unit_connection(page: Slice[OrgUnit]) -> relay.Connection[OrgUnitNode]:
    nodes = [OrgUnitNode.of(u) for u in page.items]
    cursors = [_cursor(u.id) for u in page.items]
    return connection_from_page(nodes, cursors, cursors[-1] if page.has_more else None)


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
        loader = _point_loader(info)
        out: list[WatchPointNode | None] = []
        for raw in node_ids:
            parsed = _uuid(raw)
            point = await loader.load(parsed) if parsed else None
            if point is None and required:
                raise WatchPointNotFound()
            out.append(WatchPointNode.of(point) if point else None)
        return out

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
            parent_id=_global_uuid(parent_id, "OrgUnit", "parentId"),
            limit=_first(first),
            after=_after(after),
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
            station_id=_global_uuid(station_id, "OrgUnit", "stationId"),
            grid_id=_global_uuid(grid_id, "OrgUnit", "gridId"),
            active=active,
        )
        service = info.context.services.get(WatchPointService)
        page = await service.list_points(scope, where, limit=_first(first), after=_after(after))
        nodes = [WatchPointNode.of(p) for p in page.items]
        cursors = [_cursor(p.id) for p in page.items]
        return connection_from_page(nodes, cursors, cursors[-1] if page.has_more else None)


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
    WatchPointPayload | NotFound | NotAllowed | InvalidInput | Conflict | RateLimited,
    strawberry.union("CreateWatchPointResult"),
]
UpdateWatchPointResult = Annotated[
    WatchPointPayload | NotFound | NotAllowed | InvalidInput | Conflict | RateLimited,
    strawberry.union("UpdateWatchPointResult"),
]
DeactivateWatchPointResult = Annotated[
    WatchPointPayload | NotFound | NotAllowed | InvalidInput | Conflict | RateLimited,
    strawberry.union("DeactivateWatchPointResult"),
]


def _watch_point_id(gid: relay.GlobalID) -> UUID:
    parsed = parse_id(gid.node_id) if gid.type_name == "WatchPoint" else None
    if parsed is None:
        raise WatchPointNotFound()
    return parsed


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
