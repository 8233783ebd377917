"""Reading the jurisdiction import file (a GeoJSON FeatureCollection, RFC 7946) and writing
boundaries back out as GeoJSON.

Each feature is checked on its own and either becomes a ``FeatureDraft`` or a rejection
with a reason the operator can act on. Nothing is repaired silently: an unclosed ring or a
self-intersecting polygon is reported, not fixed.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Polygon

from app.domain.organisation.model import Boundary, Level
from app.domain.shared.errors import InvalidInput
from app.domain.shared.geo import Crs, GeoPoint, from_wgs84
from app.domain.shared.text import storable

REQUIRED = ("level", "code", "name")
ALLOWED = frozenset({"level", "code", "name", "parent_code"})
CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
NAME_MAX = 100


class InvalidImportFile(InvalidInput):
    code = "org_import.invalid_file"
    message_en = "The file is not a GeoJSON FeatureCollection."
    message_zh = "文件不是 GeoJSON FeatureCollection。"


@dataclass(frozen=True, slots=True)
class FeatureDraft:
    """One well-formed feature, before it is checked against the tree."""

    index: int
    level: Level
    code: str
    name: str
    parent_code: str | None
    boundary: Boundary  # a valid shapely MultiPolygon

    @property
    def ref(self) -> str:
        return feature_ref(self.index, self.code)


@dataclass(frozen=True, slots=True)
class FeatureRejection:
    index: int
    code: str | None
    reason: str

    @property
    def ref(self) -> str:
        return feature_ref(self.index, self.code)


@dataclass(slots=True)
class ParsedFile:
    total: int
    drafts: list[FeatureDraft] = field(default_factory=list)
    rejected: list[FeatureRejection] = field(default_factory=list)


def feature_ref(index: int, code: str | None) -> str:
    """How the operator finds the feature in the file: its array index and code."""
    return f"features[{index}] {code}" if code else f"features[{index}]"


class _Reject(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_feature_collection(raw: bytes | str | Mapping[str, Any]) -> ParsedFile:
    """Check every feature of the file; raises ``InvalidImportFile`` only when the file as a
    whole is unreadable (not JSON, not a FeatureCollection)."""
    document = _load(raw)
    features = document.get("features")
    if document.get("type") != "FeatureCollection" or not isinstance(features, list):
        raise InvalidImportFile()
    codes = [_code_of(f) for f in features]
    seen = Counter(c for c in codes if c is not None)
    result = ParsedFile(total=len(features))
    for index, feature in enumerate(features):
        code = codes[index]
        try:
            if code is not None and seen[code] > 1:
                where = ", ".join(str(i) for i, c in enumerate(codes) if c == code)
                raise _Reject(f"duplicate code in the file (features {where})")
            result.drafts.append(_draft(index, feature))
        except _Reject as rejection:
            result.rejected.append(FeatureRejection(index, code, rejection.reason))
    return result


def _load(raw: bytes | str | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(raw, Mapping):
        return raw
    try:
        document = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidImportFile(
            f"The file is not valid JSON: {exc}", f"文件不是有效的 JSON：{exc}"
        ) from None
    if not isinstance(document, dict):
        raise InvalidImportFile()
    return document


def _code_of(feature: object) -> str | None:
    if not isinstance(feature, dict):
        return None
    props = feature.get("properties")
    code = props.get("code") if isinstance(props, dict) else None
    return code.strip() if isinstance(code, str) and code.strip() else None


def _draft(index: int, feature: object) -> FeatureDraft:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise _Reject("not a GeoJSON Feature")
    props = feature.get("properties")
    if not isinstance(props, dict):
        raise _Reject("missing properties")
    level, code, name, parent_code = _properties(props)
    boundary = parse_boundary(feature.get("geometry"))
    return FeatureDraft(index, level, code, name, parent_code, boundary)


def _properties(props: dict[str, Any]) -> tuple[Level, str, str, str | None]:
    missing = [k for k in REQUIRED if props.get(k) in (None, "")]
    if missing:
        raise _Reject("missing property: " + ", ".join(missing))
    unknown = sorted(k for k in props if k not in ALLOWED)
    if unknown:
        raise _Reject("unknown property: " + ", ".join(unknown))
    raw_level, code, name = props["level"], props["code"], props["name"]
    try:
        level = Level(raw_level)
    except ValueError:
        raise _Reject(f"unknown level: {raw_level!r}") from None
    if not isinstance(code, str) or not CODE_PATTERN.match(code.strip()):
        raise _Reject("code must be 1-64 letters, digits, '.', '_' or '-'")
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > NAME_MAX:
        raise _Reject(f"name must be text of 1-{NAME_MAX} characters")
    if not storable(name):
        raise _Reject("name contains characters that cannot be stored (NUL)")
    parent_code = props.get("parent_code")
    if level is Level.DISTRICT:
        if parent_code not in (None, ""):
            raise _Reject("a district has no parent_code")
        return level, code.strip(), name.strip(), None
    if parent_code in (None, ""):
        raise _Reject("missing property: parent_code")
    if not isinstance(parent_code, str) or not CODE_PATTERN.match(parent_code.strip()):
        raise _Reject("parent_code must be 1-64 letters, digits, '.', '_' or '-'")
    return level, code.strip(), name.strip(), parent_code.strip()


# --- Geometry ------------------------------------------------------------------------------


def parse_boundary(geometry: object) -> Boundary:
    """A valid MultiPolygon from a GeoJSON Polygon or MultiPolygon geometry."""
    if not isinstance(geometry, dict):
        raise _Reject("missing geometry")
    kind = geometry.get("type")
    coordinates = geometry.get("coordinates")
    if kind == "Polygon":
        polygons = [_polygon(coordinates)]
    elif kind == "MultiPolygon":
        if not isinstance(coordinates, list) or not coordinates:
            raise _Reject("MultiPolygon needs at least one polygon")
        polygons = [_polygon(p) for p in coordinates]
    else:
        raise _Reject(f"geometry must be Polygon or MultiPolygon, not {kind!r}")
    boundary = MultiPolygon(polygons)
    reason = shapely.is_valid_reason(boundary)
    if not shapely.is_valid(boundary):
        raise _Reject(f"invalid geometry: {reason}")
    return boundary


def _polygon(rings: object) -> Any:
    if not isinstance(rings, list) or not rings:
        raise _Reject("a polygon needs at least one ring")
    shell, *holes = (_ring(r) for r in rings)
    return Polygon(shell, holes)


def _ring(ring: object) -> list[tuple[float, float]]:
    if not isinstance(ring, list) or len(ring) < 4:
        raise _Reject("a ring needs at least 4 positions")
    points = [_position(p) for p in ring]
    if points[0] != points[-1]:
        raise _Reject(
            f"ring is not closed: starts at {list(points[0])}, ends at {list(points[-1])}"
        )
    return points


def _position(position: object) -> tuple[float, float]:
    if not isinstance(position, list) or len(position) not in (2, 3):
        raise _Reject("a position must be [lon, lat] (or [lon, lat, alt])")
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in position):
        raise _Reject("coordinates must be numbers")
    lon, lat = float(position[0]), float(position[1])
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise _Reject("coordinates must be finite numbers")
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        raise _Reject(f"coordinates out of range: [{lon}, {lat}] (expected WGS-84 lon, lat)")
    return lon, lat


# --- Output --------------------------------------------------------------------------------


def boundary_to_geojson(boundary: Boundary, crs: Crs = Crs.WGS84) -> dict[str, Any]:
    """A GeoJSON MultiPolygon; with a shifted ``crs`` every vertex is converted."""
    polygons = list(boundary.geoms) if hasattr(boundary, "geoms") else [boundary]
    return {
        "type": "MultiPolygon",
        "coordinates": [
            [_ring_out(p.exterior.coords, crs), *(_ring_out(i.coords, crs) for i in p.interiors)]
            for p in polygons
        ],
    }


def _ring_out(coords: Sequence[tuple[float, ...]], crs: Crs) -> list[list[float]]:
    out = []
    for x, y, *_ in coords:
        lon, lat = from_wgs84(GeoPoint(x, y), crs) if crs is not Crs.WGS84 else (x, y)
        out.append([round(lon, 7), round(lat, 7)])
    return out
