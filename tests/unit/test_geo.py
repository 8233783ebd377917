from __future__ import annotations

import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from app.domain.shared.errors import InvalidInput
from app.domain.shared.geo import (
    Crs,
    GeoPoint,
    distance_m,
    from_wgs84,
    in_mainland_china,
    to_wgs84,
)

# A box around mainland China; points outside the offset zone are filtered out.
china_lon = st.floats(min_value=73.6, max_value=134.7)
china_lat = st.floats(min_value=18.2, max_value=53.5)
world_lon = st.floats(min_value=-180.0, max_value=180.0)
world_lat = st.floats(min_value=-90.0, max_value=90.0)

MANY = settings(max_examples=2000, deadline=None)

SHIFTED = [Crs.GCJ02, Crs.BD09]


def china_point(lon: float, lat: float) -> GeoPoint:
    assume(in_mainland_china(lon, lat))
    return GeoPoint(lon, lat)


@MANY
@given(china_lon, china_lat)
def test_wgs_to_gcj_and_back_is_within_a_metre(lon: float, lat: float) -> None:
    wgs = china_point(lon, lat)
    back = to_wgs84(*from_wgs84(wgs, Crs.GCJ02), Crs.GCJ02)
    assert distance_m(wgs, back) < 1.0


@MANY
@given(china_lon, china_lat)
def test_wgs_to_bd09_and_back_is_within_a_metre(lon: float, lat: float) -> None:
    wgs = china_point(lon, lat)
    back = to_wgs84(*from_wgs84(wgs, Crs.BD09), Crs.BD09)
    assert distance_m(wgs, back) < 1.0


@MANY
@given(china_lon, china_lat, st.sampled_from(SHIFTED))
def test_shifted_to_wgs_and_back_is_within_a_metre(lon: float, lat: float, crs: Crs) -> None:
    wgs = to_wgs84(lon, lat, crs)
    # A shifted coordinate within a few hundred metres of the zone's edge can have no
    # preimage inside the zone; such input is not something a provider produces.
    assume(in_mainland_china(lon, lat) and in_mainland_china(wgs.lon, wgs.lat))
    again = from_wgs84(wgs, crs)
    assert distance_m(GeoPoint(lon, lat), GeoPoint(*again)) < 1.0


@MANY
@given(china_lon, china_lat)
def test_gcj_offset_is_a_few_hundred_metres_inside_china(lon: float, lat: float) -> None:
    wgs = china_point(lon, lat)
    offset = distance_m(wgs, GeoPoint(*from_wgs84(wgs, Crs.GCJ02)))
    assert 0.0 < offset < 1000.0


def test_round_trips_are_far_better_than_a_millimetre_on_a_grid() -> None:
    worst = 0.0
    for i in range(121):
        for j in range(71):
            lon, lat = 73.6 + i * 0.505, 18.2 + j * 0.5
            if not in_mainland_china(lon, lat):
                continue
            wgs = GeoPoint(lon, lat)
            for crs in SHIFTED:
                worst = max(worst, distance_m(wgs, to_wgs84(*from_wgs84(wgs, crs), crs)))
    assert worst < 1e-3


@pytest.mark.parametrize(
    ("place", "lon", "lat"),
    [
        ("Paris", 2.3522, 48.8566),
        ("New York", -74.0060, 40.7128),
        ("Seoul", 126.9780, 37.5665),
        ("Taipei", 121.5654, 25.0330),
        ("Magong, Penghu", 119.5793, 23.5711),
        ("Sydney", 151.2093, -33.8688),
        ("Null Island", 0.0, 0.0),
        ("North Pole", 0.0, 90.0),
        ("Antimeridian", 180.0, -16.5),
    ],
)
@pytest.mark.parametrize("crs", list(Crs))
def test_conversions_are_the_identity_outside_china(
    place: str, lon: float, lat: float, crs: Crs
) -> None:
    assert not in_mainland_china(lon, lat), place
    assert to_wgs84(lon, lat, crs) == GeoPoint(lon, lat)
    assert from_wgs84(GeoPoint(lon, lat), crs) == (lon, lat)


@given(world_lon, world_lat)
def test_cgcs2000_is_wgs84(lon: float, lat: float) -> None:
    point = GeoPoint(lon, lat)
    assert to_wgs84(lon, lat, Crs.CGCS2000) == point == to_wgs84(lon, lat)
    assert from_wgs84(point, Crs.CGCS2000) == (lon, lat) == from_wgs84(point, Crs.WGS84)


@pytest.mark.parametrize(
    ("place", "lon", "lat", "expected"),
    [
        ("Tiananmen", 116.397428, 39.90923, True),
        ("Changzhou", 119.95, 31.70, True),
        ("Urumqi", 87.6168, 43.8256, True),
        ("Lhasa", 91.1409, 29.6456, True),
        ("Harbin", 126.6424, 45.7567, True),
        ("Sanya", 109.5119, 18.2528, True),
        ("Xiamen", 118.0894, 24.4798, True),
        ("Shenzhen", 114.0579, 22.5431, True),
        ("Hong Kong, inside on purpose", 114.1694, 22.3193, True),
        ("Macau, inside on purpose", 113.5439, 22.1987, True),
        ("Taipei", 121.5654, 25.0330, False),
        ("Tokyo", 139.6917, 35.6895, False),
        ("Pyongyang", 125.7625, 39.0392, False),
        ("Hanoi", 105.8342, 21.0278, False),
        ("Manila", 120.9842, 14.5995, False),
    ],
)
def test_offset_zone(place: str, lon: float, lat: float, expected: bool) -> None:
    assert in_mainland_china(lon, lat) is expected, place


@pytest.mark.parametrize(
    ("wgs", "crs", "expected"),
    [
        # The widely quoted Tiananmen vector.
        ((116.397428, 39.90923), Crs.GCJ02, (116.403674, 39.910636)),
        # Published in the README of the independent lnglat-converter npm package.
        ((106.0, 32.0), Crs.GCJ02, (106.0038603381513, 31.997775713491148)),
        ((106.0, 32.0), Crs.BD09, (106.01040868983318, 32.00356002052303)),
    ],
)
def test_reference_vectors(
    wgs: tuple[float, float], crs: Crs, expected: tuple[float, float]
) -> None:
    lon, lat = from_wgs84(GeoPoint(*wgs), crs)
    assert lon == pytest.approx(expected[0], abs=1e-5)
    assert lat == pytest.approx(expected[1], abs=1e-5)
    back = to_wgs84(*expected, crs)
    assert back.lon == pytest.approx(wgs[0], abs=1e-5)
    assert back.lat == pytest.approx(wgs[1], abs=1e-5)


def test_changzhou_offset_points_east_south_east_by_about_500_m() -> None:
    wgs = GeoPoint(119.95, 31.70)
    lon, lat = from_wgs84(wgs, Crs.GCJ02)
    assert lon - wgs.lon == pytest.approx(0.004693, abs=1e-5)  # about 445 m east
    assert lat - wgs.lat == pytest.approx(-0.002085, abs=1e-5)  # about 232 m south
    assert distance_m(wgs, GeoPoint(lon, lat)) == pytest.approx(502, abs=5)


def test_bd09_inverse_is_exact_not_the_one_step_formula() -> None:
    # gocoord's one-step BD09ToGCJ02 of (113.739873, 34.356696); ours agrees to ~1e-6 degrees
    # and, unlike the one-step formula, maps back onto the input.
    gcj = (113.73337197243862, 34.350630274732744)
    wgs = to_wgs84(113.739873, 34.356696, Crs.BD09)
    gcj_ours = from_wgs84(wgs, Crs.GCJ02)
    assert gcj_ours[0] == pytest.approx(gcj[0], abs=1e-5)
    assert gcj_ours[1] == pytest.approx(gcj[1], abs=1e-5)
    bd = from_wgs84(wgs, Crs.BD09)
    assert distance_m(GeoPoint(*bd), GeoPoint(113.739873, 34.356696)) < 1e-3


def test_distance() -> None:
    one_degree_of_latitude = math.pi / 180 * 6371008.8
    assert distance_m(GeoPoint(119.95, 31.0), GeoPoint(119.95, 32.0)) == pytest.approx(
        one_degree_of_latitude
    )
    assert distance_m(GeoPoint(0, 0), GeoPoint(180, 0)) == pytest.approx(math.pi * 6371008.8)
    beijing, shanghai = GeoPoint(116.4074, 39.9042), GeoPoint(121.4737, 31.2304)
    assert distance_m(beijing, shanghai) == pytest.approx(1_067_000, rel=0.01)
    assert distance_m(beijing, beijing) == 0.0


@pytest.mark.parametrize(
    ("lon", "lat", "field_code"),
    [
        (math.nan, 31.7, "not_finite"),
        (119.95, math.nan, "not_finite"),
        (math.inf, 31.7, "not_finite"),
        (119.95, 91.0, "out_of_range"),
        (119.95, -90.5, "out_of_range"),
        (200.0, 31.7, "out_of_range"),
        (-180.1, 31.7, "out_of_range"),
    ],
)
@pytest.mark.parametrize("crs", list(Crs))
def test_invalid_coordinates_are_rejected(
    lon: float, lat: float, field_code: str, crs: Crs
) -> None:
    with pytest.raises(InvalidInput) as from_point:
        GeoPoint(lon, lat)
    with pytest.raises(InvalidInput) as from_client:
        to_wgs84(lon, lat, crs)
    for caught in (from_point, from_client):
        assert caught.value.code == "geo.invalid_coordinates"
        assert [(f.field, f.code) for f in caught.value.fields] == [("location", field_code)]
