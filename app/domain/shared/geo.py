"""Locations and the coordinate systems Chinese clients send them in.

Everything is stored and compared in WGS-84. Clients may send GCJ-02 (国测局坐标, AMap,
Tencent and WeChat maps) or BD-09 (百度坐标); those are deliberate, published
obfuscations of WGS-84, so they are undone here once, at the edge of the domain.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from app.domain.shared.errors import FieldError, InvalidInput


class Crs(StrEnum):
    """Coordinate reference systems accepted from clients.

    CGCS2000 (China's national datum) and WGS-84 differ by well under a metre, far less
    than phone GPS error, so CGCS2000 coordinates are taken as WGS-84 unchanged.
    """

    WGS84 = "wgs84"
    GCJ02 = "gcj02"
    BD09 = "bd09"
    CGCS2000 = "cgcs2000"


def _invalid_coordinates(code: str) -> InvalidInput:
    message_en = (
        "Coordinates must be finite numbers, with longitude between -180 and 180 "
        "and latitude between -90 and 90."
    )
    return InvalidInput(
        message_en,
        "坐标必须是有效数字，经度在-180到180之间，纬度在-90到90之间。",
        code="geo.invalid_coordinates",
        fields=[FieldError(field="location", code=code, message=message_en)],
    )


def _check_coordinates(lon: float, lat: float) -> None:
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise _invalid_coordinates("not_finite")
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        raise _invalid_coordinates("out_of_range")


@dataclass(frozen=True, slots=True)
class GeoPoint:
    """A WGS-84 longitude/latitude in degrees; never holds GCJ-02 or BD-09 values."""

    lon: float
    lat: float

    def __post_init__(self) -> None:
        _check_coordinates(self.lon, self.lat)

    @classmethod
    def stored(cls, lon: float, lat: float) -> GeoPoint:
        """A point read back from storage, checked when it was written (pages build
        thousands a second; the check is for input)."""
        point = object.__new__(cls)
        object.__setattr__(point, "lon", lon)
        object.__setattr__(point, "lat", lat)
        return point


# --- Where the offset applies -------------------------------------------------------------

# (west, south, east, north) in degrees. The rectangles are the set most Chinese client
# libraries copy: tighter than the single box lon 72.004..137.8347, lat 0.8293..55.8271, which
# also swallows Korea, western Japan, the Philippines and most of Vietnam.
_ZONE = (
    (79.446200, 42.889900, 96.330000, 49.220400),
    (109.687200, 39.374200, 135.000200, 54.141500),
    (73.124600, 29.529700, 124.143255, 42.889900),
    (82.968400, 26.718600, 97.035200, 29.529700),
    (97.025300, 20.414096, 124.367395, 29.529700),
    (107.975793, 17.871542, 111.744104, 20.414096),
)
_OUTSIDE_ZONE = (
    (119.921265, 21.785006, 122.497559, 25.398623),  # Taiwan island
    (119.280000, 23.150000, 119.750000, 23.830000),  # Penghu (added here; not in the usual set)
    (101.865200, 20.098800, 106.665000, 22.284000),  # northern Vietnam and Laos
    (106.452500, 20.487800, 108.051000, 21.542200),  # north-eastern Vietnam
    (109.032300, 50.325700, 119.127000, 55.817500),  # Russia and Mongolia above Hulunbuir
    (127.456800, 49.557400, 137.022700, 55.817500),  # Russia along the Amur
    (131.266200, 42.569200, 137.022700, 44.892200),  # Russia around Vladivostok
)


def _in_any(
    lon: float, lat: float, boxes: tuple[tuple[float, float, float, float], ...], grow: float
) -> bool:
    return any(w - grow <= lon <= e + grow and s - grow <= lat <= n + grow for w, s, e, n in boxes)


def _in_zone(lon: float, lat: float, slack: float) -> bool:
    return _in_any(lon, lat, _ZONE, slack) and not _in_any(lon, lat, _OUTSIDE_ZONE, -slack)


def in_mainland_china(lon: float, lat: float) -> bool:
    """Whether Chinese map providers shift this WGS-84 point into GCJ-02 (and BD-09).

    The shift is a legal requirement for maps of mainland China, and nobody publishes the
    exact area where providers apply it, so this is a coarse approximation from rectangles:

    - Taiwan (main island and Penghu) is outside: Huawei's Map Kit, for one, documents
      WGS-84 there. Kinmen and Matsu hug the Fujian coast and stay inside. Baidu documents
      BD-09 for Taiwan too, so BD-09 input from Taiwan comes out a few hundred metres off.
    - Hong Kong and Macau are deliberately *inside*, despite the name: Huawei documents
      GCJ-02 there (and Baidu BD-09), and no rectangle can cut them off from Shenzhen and
      Zhuhai without misplacing parts of those cities.
    - Border strips are wrong both ways: some neighbouring land (parts of Mongolia, Kashmir,
      Kyrgyzstan, Nepal, Myanmar, Yonaguni) is inside and some Chinese land (Heihe, which
      faces Blagoveshchensk across the Amur; the South China Sea islands) is outside.

    Not a jurisdiction test: use it only to decide whether a coordinate offset applies.
    """
    return _in_zone(lon, lat, 0.0)


# Far more than the largest GCJ-02 plus BD-09 shift (under 0.05 degrees): points farther
# than this from the zone cannot have a preimage inside it.
_ZONE_MARGIN = 0.5


def _near_zone(lon: float, lat: float) -> bool:
    return _in_any(lon, lat, _ZONE, _ZONE_MARGIN)


# --- The published transforms -------------------------------------------------------------

_A = 6378245.0  # Krasovsky 1940 semi-major axis, as GCJ-02 uses
_EE = 0.00669342162296594323  # Krasovsky 1940 first eccentricity squared
_X_PI = math.pi * 3000.0 / 180.0  # Baidu's constant


def _gcj_shift(lon: float, lat: float) -> tuple[float, float]:
    """WGS-84 to GCJ-02 by the published algorithm, applied unconditionally."""
    x, y = lon - 105.0, lat - 35.0
    common = (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2 / 3
    d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    d_lat += common
    d_lat += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2 / 3
    d_lat += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2 / 3
    d_lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    d_lon += common
    d_lon += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2 / 3
    d_lon += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2 / 3
    rad_lat = lat / 180.0 * math.pi
    magic = 1.0 - _EE * math.sin(rad_lat) ** 2
    sqrt_magic = math.sqrt(magic)
    d_lat = d_lat * 180.0 / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * math.pi)
    d_lon = d_lon * 180.0 / (_A / sqrt_magic * math.cos(rad_lat) * math.pi)
    return lon + d_lon, lat + d_lat


def _bd_shift(lon: float, lat: float) -> tuple[float, float]:
    """WGS-84 to BD-09: GCJ-02 first, then Baidu's published GCJ-02 to BD-09 formula."""
    x, y = _gcj_shift(lon, lat)
    z = math.hypot(x, y) + 0.00002 * math.sin(y * _X_PI)
    theta = math.atan2(y, x) + 0.000003 * math.cos(x * _X_PI)
    return z * math.cos(theta) + 0.0065, z * math.sin(theta) + 0.006


_Shift = Callable[[float, float], tuple[float, float]]
_SHIFTS: dict[Crs, _Shift] = {Crs.GCJ02: _gcj_shift, Crs.BD09: _bd_shift}

# 1e-10 degrees is about 0.01 mm. The shifts are close to the identity (their Jacobian
# differs from it by about 1e-2), so each step gains about two digits and 5 or 6 suffice.
_TOLERANCE = 1e-10
_MAX_STEPS = 50
# An inverted point on the zone's edge may land a rounding error outside it.
_EDGE_SLACK = 10 * _TOLERANCE


def _unshift(shift: _Shift, lon: float, lat: float) -> tuple[float, float]:
    """Solve ``shift(x, y) == (lon, lat)`` by fixed-point iteration.

    The one-step inverses that circulate with the forward formulas are off by metres;
    iterating the exact forward transform is cheap and leaves sub-millimetre errors.
    """
    x, y = lon, lat
    for _ in range(_MAX_STEPS):
        fx, fy = shift(x, y)
        dx, dy = fx - lon, fy - lat
        if abs(dx) < _TOLERANCE and abs(dy) < _TOLERANCE:
            break
        x, y = x - dx, y - dy
    return x, y


# --- Public conversions -------------------------------------------------------------------


def to_wgs84(lon: float, lat: float, crs: Crs = Crs.WGS84) -> GeoPoint:
    """Convert a client coordinate in ``crs`` to WGS-84; raises ``InvalidInput`` if invalid.

    The zone test is made on the *recovered* WGS-84 point, as the forward transform makes
    it, so WGS-84 -> GCJ-02/BD-09 -> WGS-84 returns the original point everywhere in the
    zone. Near the zone's edge the shift can leave a coordinate with no preimage (inside the
    zone, preimage outside) or two (outside, preimage inside); the shifted reading wins
    there, since whoever shifted the coordinate placed it in China.
    """
    _check_coordinates(lon, lat)
    shift = _SHIFTS.get(crs)
    if shift is not None and _near_zone(lon, lat):
        x, y = _unshift(shift, lon, lat)
        if _in_zone(x, y, _EDGE_SLACK) or in_mainland_china(lon, lat):
            return GeoPoint(x, y)
    return GeoPoint(lon, lat)


def from_wgs84(point: GeoPoint, crs: Crs) -> tuple[float, float]:
    """``(lon, lat)`` of a WGS-84 point in ``crs``.

    Outside the zone every CRS is WGS-84: GCJ-02 is only defined for China, and Baidu
    documents WGS-84 (not BD-09) for its maps abroad.
    """
    if crs is Crs.WGS84:  # most reads: no look-up (an enum member hashes in Python)
        return point.lon, point.lat
    shift = _SHIFTS.get(crs)
    if shift is None or not in_mainland_china(point.lon, point.lat):
        return point.lon, point.lat
    return shift(point.lon, point.lat)


EARTH_MEAN_RADIUS_M = 6371008.8  # IUGG mean radius; the spherical error is at most ~0.5 %


def distance_m(a: GeoPoint, b: GeoPoint) -> float:
    """Great-circle (haversine) distance in metres: plenty for "how far apart" questions."""
    phi_a, phi_b = math.radians(a.lat), math.radians(b.lat)
    d_phi = phi_b - phi_a
    d_lambda = math.radians(b.lon - a.lon)
    h = math.sin(d_phi / 2) ** 2 + math.cos(phi_a) * math.cos(phi_b) * math.sin(d_lambda / 2) ** 2
    return 2.0 * EARTH_MEAN_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))
