"""Organisation units, watch points (守望点) and where a location belongs (Placement).

Boundaries are shapely geometries in WGS-84 (lon, lat degrees); the domain never holds
GCJ-02 or BD-09 coordinates.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from app.domain.shared.errors import Conflict, FieldError, InvalidInput, InvalidTransition
from app.domain.shared.geo import GeoPoint, distance_m
from app.domain.shared.text import storable

T = TypeVar("T")

# A boundary is a shapely (Multi)Polygon; shapely ships no type hints.
Boundary = Any


class Level(StrEnum):
    DISTRICT = "district"  # 分局
    STATION = "station"  # 派出所
    COMMUNITY = "community"  # 社区 / 村 / 警务室
    GRID = "grid"  # 网格

    @property
    def depth(self) -> int:
        return _ORDER.index(self)

    @property
    def parent_level(self) -> Level | None:
        """The level a unit's parent must have: exactly one level up."""
        return None if self is Level.DISTRICT else _ORDER[self.depth - 1]


_ORDER = (Level.DISTRICT, Level.STATION, Level.COMMUNITY, Level.GRID)


@dataclass(frozen=True, slots=True)
class UnitRef:
    """Enough of a unit to display it: id, code and name."""

    id: uuid.UUID
    code: str
    name: str


@dataclass(slots=True)
class OrgUnit:
    id: uuid.UUID
    level: Level
    code: str
    name: str
    parent_id: uuid.UUID | None
    # Denormalised ancestors: district for every unit below a district; station for a
    # station (its own id), its communities and grids.
    district_id: uuid.UUID | None
    station_id: uuid.UUID | None
    version: int = 1
    boundary: Boundary | None = None  # loaded only when asked for
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @classmethod
    def create(
        cls,
        *,
        level: Level,
        code: str,
        name: str,
        boundary: Boundary,
        parent: OrgUnit | None,
        unit_id: uuid.UUID,
    ) -> OrgUnit:
        """A new unit under ``parent``, which must be exactly one level up."""
        expected = level.parent_level
        if expected is None:
            if parent is not None:
                raise InvalidOrgUnit("a district has no parent", "分局没有上级单位")
            return cls(unit_id, level, code, name, None, None, None, boundary=boundary)
        if parent is None or parent.level is not expected:
            raise InvalidOrgUnit(
                f"the parent of a {level.value} must be a {expected.value}",
                f"{level.value} 的上级必须是 {expected.value}",
            )
        district_id = parent.id if parent.level is Level.DISTRICT else parent.district_id
        station_id = unit_id if level is Level.STATION else parent.station_id
        return cls(
            unit_id, level, code, name, parent.id, district_id, station_id, boundary=boundary
        )

    @property
    def ref(self) -> UnitRef:
        return UnitRef(self.id, self.code, self.name)

    def reshape(self, name: str, boundary: Boundary) -> bool:
        """Take a re-imported name and boundary; True when anything changed."""
        same_boundary = self.boundary is not None and bool(self.boundary.equals(boundary))
        if self.name == name and same_boundary:
            return False
        self.name = name
        self.boundary = boundary
        self.version += 1
        return True


class InvalidOrgUnit(InvalidInput):
    code = "org_unit.invalid"


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a location belongs. ``outside`` means no station's jurisdiction covers it;
    the record then goes to the queue of ``district_id`` (containing or nearby district),
    or to nobody when that is None. Locations are never rejected for being outside."""

    district_id: uuid.UUID | None
    station_id: uuid.UUID | None
    community_id: uuid.UUID | None
    grid_id: uuid.UUID | None
    outside: bool
    district: UnitRef | None = None
    station: UnitRef | None = None
    community: UnitRef | None = None
    grid: UnitRef | None = None

    @classmethod
    def covering(
        cls,
        district: UnitRef | None,
        station: UnitRef | None,
        community: UnitRef | None,
        grid: UnitRef | None,
    ) -> Placement:
        """Where a point covered by these units belongs (``outside`` without a station)."""
        return cls(
            district_id=district.id if district else None,
            station_id=station.id if station else None,
            community_id=community.id if community else None,
            grid_id=grid.id if grid else None,
            outside=station is None,
            district=district,
            station=station,
            community=community,
            grid=grid,
        )

    @classmethod
    def nowhere(cls, district: UnitRef | None = None) -> Placement:
        return cls(
            district.id if district else None, None, None, None, outside=True, district=district
        )


@dataclass(frozen=True, slots=True)
class Routing:
    """Where a report (tip, hazard, help request) was routed: its district always, and the
    station (None: the district queue), community and grid covering its location."""

    district_id: uuid.UUID
    station_id: uuid.UUID | None  # None: the district queue
    community_id: uuid.UUID | None
    grid_id: uuid.UUID | None

    @classmethod
    def of(cls, placement: Placement) -> Routing | None:
        """The routing of a record found at ``placement``; None outside every district."""
        if placement.district_id is None:
            return None
        return cls(
            placement.district_id,
            placement.station_id,
            placement.community_id,
            placement.grid_id,
        )


@dataclass(frozen=True, slots=True)
class Slice(Generic[T]):
    """One keyset page: ``has_more`` says whether items follow the last one."""

    items: list[T]
    has_more: bool


# --- Watch points (守望点) ---------------------------------------------------------------

RADIUS_MIN_M = 10
RADIUS_MAX_M = 2000
NAME_MAX = 100
CODE_MAX = 64


def new_qr_token() -> str:
    """128 random bits, URL-safe: the content of the printed QR code."""
    return secrets.token_urlsafe(16)


class WatchPointInvalid(InvalidInput):
    code = "watch_point.invalid"
    message_en = "The watch point is not valid."
    message_zh = "守望点信息无效。"


class OutsideJurisdiction(InvalidInput):
    code = "watch_point.outside_jurisdiction"
    message_en = "The location is outside the jurisdiction of your station."
    message_zh = "该位置不在您所在派出所的辖区内。"


class WatchPointCodeTaken(Conflict):
    code = "watch_point.code_taken"
    message_en = "Another watch point already has this code."
    message_zh = "该编码已被其他守望点使用。"


class WatchPointTransition(InvalidTransition):
    code = "watch_point.invalid_transition"
    message_en = "The watch point is already inactive."
    message_zh = "该守望点已停用。"


def _field_error(field_name: str, code: str, en: str, zh: str) -> WatchPointInvalid:
    return WatchPointInvalid(en, zh, fields=[FieldError(field_name, code, en)])


def check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > NAME_MAX or not storable(name):
        raise _field_error(
            "name",
            "length",
            f"The name must have 1 to {NAME_MAX} characters.",
            f"名称长度须为1到{NAME_MAX}个字符。",
        )
    return name


def check_radius(radius_m: int) -> int:
    if not RADIUS_MIN_M <= radius_m <= RADIUS_MAX_M:
        raise _field_error(
            "radius_m",
            "out_of_range",
            f"The radius must be between {RADIUS_MIN_M} and {RADIUS_MAX_M} metres.",
            f"半径须在{RADIUS_MIN_M}到{RADIUS_MAX_M}米之间。",
        )
    return radius_m


def check_code(code: str) -> str:
    code = code.strip()
    if not code or len(code) > CODE_MAX or not code.isprintable() or " " in code:
        raise _field_error(
            "code",
            "format",
            f"The code must have 1 to {CODE_MAX} characters without spaces.",
            f"编码须为1到{CODE_MAX}个不含空格的字符。",
        )
    return code


@dataclass(slots=True)
class WatchPoint:
    """A 守望点: a place volunteers watch and patrol, with a geofence and a QR code."""

    id: uuid.UUID
    code: str
    name: str
    location: GeoPoint
    radius_m: int
    district_id: uuid.UUID
    station_id: uuid.UUID
    community_id: uuid.UUID | None
    grid_id: uuid.UUID | None
    qr_token: str
    active: bool = True
    version: int = 1
    created_by: uuid.UUID | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    changes: dict[str, object] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def create(
        cls,
        *,
        watch_point_id: uuid.UUID,
        code: str,
        name: str,
        location: GeoPoint,
        radius_m: int,
        placement: Placement,
        created_by: uuid.UUID,
        qr_token: str,
        at: datetime,
    ) -> WatchPoint:
        if placement.station_id is None or placement.district_id is None:
            raise OutsideJurisdiction()
        return cls(
            id=watch_point_id,
            code=check_code(code),
            name=check_name(name),
            location=location,
            radius_m=check_radius(radius_m),
            district_id=placement.district_id,
            station_id=placement.station_id,
            community_id=placement.community_id,
            grid_id=placement.grid_id,
            qr_token=qr_token,
            created_by=created_by,
            created_at=at,
            updated_at=at,
        )

    def rename(self, name: str) -> None:
        name = check_name(name)
        if name != self.name:
            self.name = name
            self.changes["name"] = name

    def resize(self, radius_m: int) -> None:
        radius_m = check_radius(radius_m)
        if radius_m != self.radius_m:
            self.radius_m = radius_m
            self.changes["radius_m"] = radius_m

    def move(self, location: GeoPoint, placement: Placement) -> None:
        """Move the point; it is routed again to the units covering the new location."""
        if placement.station_id is None or placement.district_id is None:
            raise OutsideJurisdiction()
        self.location = location
        self.district_id = placement.district_id
        self.station_id = placement.station_id
        self.community_id = placement.community_id
        self.grid_id = placement.grid_id
        self.changes["location"] = True
        self.changes["station_id"] = placement.station_id

    def deactivate(self) -> None:
        if not self.active:
            raise WatchPointTransition()
        self.active = False
        self.changes["active"] = False

    def contains(self, point: GeoPoint) -> bool:
        """Whether ``point`` is inside the geofence (patrol check-ins use this)."""
        return distance_m(self.location, point) <= self.radius_m
