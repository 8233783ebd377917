"""Shared REST pieces: locations with CRS, keyset pages, path ids, ETags."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Any, Generic, Self, TypeVar, cast

import orjson
from asyncpg.pgproto.pgproto import UUID as DriverUUID
from fastapi import Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from app.api.pagination import MAX_PAGE, cursor_of, id_cursor
from app.domain.shared.errors import PreconditionRequired, StaleVersion
from app.domain.shared.geo import Crs, GeoPoint, from_wgs84, to_wgs84
from app.domain.shared.ids import parse_id

T = TypeVar("T")


class LocationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lon: float = Field(ge=-180, le=180, examples=[119.95])
    lat: float = Field(ge=-90, le=90, examples=[31.70])
    crs: Crs = Crs.WGS84

    def to_point(self) -> GeoPoint:
        return to_wgs84(self.lon, self.lat, self.crs)


class LocationOut(BaseModel):
    lon: float
    lat: float
    crs: Crs = Crs.WGS84

    @classmethod
    def of(cls, point: GeoPoint, crs: Crs = Crs.WGS84) -> LocationOut:
        lon, lat = from_wgs84(point, crs)
        # From domain values (floats, a Crs): nothing to validate.
        return cls.model_construct(lon=round(lon, 7), lat=round(lat, 7), crs=crs)


# A page's query parameters, also read as model fields (app/api/rest/query.py).
CRS_HELP = "Coordinate system of locations in the response"
LIMIT_HELP = "Page size (max 200)"
CURSOR_HELP = "Opaque cursor from next_cursor"
OutputCrs = Annotated[Crs, Query(alias="crs", description=CRS_HELP)]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None

    @classmethod
    def keyset(
        cls, items: list[T], *, more: bool, cursor: Callable[[T], str] | None = None
    ) -> Self:
        """A keyset page whose ``next_cursor`` resumes after its last item when ``more``
        follow; the cursor names the item's ``id`` unless ``cursor`` says otherwise."""
        by = cursor or cast(Callable[[T], str], cursor_of)
        return cls(items=items, next_cursor=by(items[-1]) if more and items else None)


PageLimit = Annotated[int, Query(ge=1, le=MAX_PAGE, description=LIMIT_HELP)]
PageCursor = Annotated[str | None, Query(description=CURSOR_HELP)]


def parse_path_id(raw: str, not_found: Callable[[], Exception]) -> uuid.UUID:
    """Malformed ids are simply not found (like ids outside the caller's scope)."""
    parsed = parse_id(raw)
    if parsed is None:
        raise not_found()
    return parsed


def etag_for(record_id: object, version: int) -> str:
    return f'W/"{record_id}-{version}"'


def expected_version(request: Request, record_id: object, *, required: bool = True) -> int | None:
    """Read If-Match (an ETag from a previous GET) and return the version it names."""
    header = request.headers.get("if-match")
    if header is None:
        if required:
            raise PreconditionRequired()
        return None
    tag = header.strip()
    prefix = f'W/"{record_id}-'
    if not (tag.startswith(prefix) and tag.endswith('"')):
        raise StaleVersion()
    try:
        return int(tag[len(prefix) : -1])
    except ValueError:
        raise StaleVersion() from None


def required_version(request: Request, record_id: object) -> int:
    """The version named by If-Match; 428 without it."""
    version = expected_version(request, record_id)
    if version is None:
        raise PreconditionRequired()
    return version


class ModelJSONResponse(JSONResponse):
    """A response model serialised once, by pydantic's own JSON serialiser (instead of
    ``model_dump`` to Python values and ``json.dumps`` of those)."""

    def render(self, content: Any) -> bytes:
        if isinstance(content, BaseModel):
            return content.model_dump_json().encode()
        return super().render(content)


class PlainJSONResponse(JSONResponse):
    """Plain values (dicts, lists, str/int/float/bool/None, UUIDs, datetimes, enums) as
    JSON, written by orjson the way pydantic writes the response model (UTC as ``Z``,
    UTF-8 text; tests compare the two) at a fraction of the cost per page."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, default=_uuid_text, option=orjson.OPT_UTC_Z)


# asyncpg hands back its own ``uuid.UUID`` subclass, which orjson leaves to ``default``:
# that class's own ``__str__`` (C) writes it and refuses anything else with a TypeError,
# without a Python call for each of the hundred UUIDs of a queue page.
_uuid_text: Callable[[object], str] = DriverUUID.__str__


def page_json(items: list[dict[str, Any]], *, more: bool) -> dict[str, Any]:
    """A keyset ``Page`` of plain items (see ``PlainJSONResponse``): ``next_cursor``
    resumes after the last item's ``id`` when more follow."""
    return {"items": items, "next_cursor": id_cursor(items[-1]["id"]) if more and items else None}


def json_response(
    model: BaseModel, *, status: int = 200, headers: dict[str, str] | None = None
) -> JSONResponse:
    """Returning a Response from a route also skips FastAPI's re-validation of the
    returned model against ``response_model`` (which stays for the OpenAPI document)."""
    return ModelJSONResponse(model, status_code=status, headers=headers)


def etag_response(
    model: BaseModel | dict[str, Any],
    record_id: object,
    version: int,
    *,
    status: int = 200,
    location: str = "",
) -> JSONResponse:
    """One record as JSON with its ETag (and Location, for a create): a response model, or
    its plain values (``PlainJSONResponse``)."""
    headers = {"ETag": etag_for(record_id, version)}
    if location:
        headers["Location"] = location
    if isinstance(model, dict):
        return PlainJSONResponse(model, status_code=status, headers=headers)
    return json_response(model, status=status, headers=headers)
