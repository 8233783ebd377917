"""Shared REST pieces: locations with CRS, keyset pages, cursors, ETags."""

from __future__ import annotations

import base64
import json
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query, Request
from pydantic import BaseModel, ConfigDict, Field

from app.domain.shared.errors import InvalidInput, PreconditionRequired, StaleVersion
from app.domain.shared.geo import Crs, GeoPoint, from_wgs84, to_wgs84

T = TypeVar("T")
MAX_PAGE = 200


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
        return cls(lon=round(lon, 7), lat=round(lat, 7), crs=crs)


OutputCrs = Annotated[
    Crs,
    Query(alias="crs", description="Coordinate system of locations in the response"),
]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


PageLimit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page size (max 200)")]
PageCursor = Annotated[str | None, Query(description="Opaque cursor from next_cursor")]


def encode_cursor(values: dict[str, Any]) -> str:
    raw = json.dumps(values, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError):
        value = None
    if not isinstance(value, dict):
        raise InvalidInput(
            "The cursor is not valid.", "分页游标无效。", code="pagination.invalid_cursor"
        )
    return value


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
