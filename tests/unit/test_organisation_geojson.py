"""Reading the jurisdiction file: every malformed feature is rejected with its reason."""

from __future__ import annotations

import json
from typing import Any

import pytest
from shapely.geometry import MultiPolygon
from support.org import collection, feature, square

from app.domain.organisation.geojson import (
    InvalidImportFile,
    boundary_to_geojson,
    feature_ref,
    parse_feature_collection,
)
from app.domain.organisation.model import Level
from app.domain.shared.geo import Crs, GeoPoint, from_wgs84

GOOD = square(119.95, 31.70, 119.96, 31.71)


def reasons(*features: dict[str, Any]) -> list[str]:
    parsed = parse_feature_collection(collection(*features))
    assert parsed.total == len(features)
    return [r.reason for r in parsed.rejected]


def one_reason(f: dict[str, Any]) -> str:
    found = reasons(f)
    assert len(found) == 1, found
    return found[0]


def test_a_valid_polygon_becomes_a_multipolygon_draft() -> None:
    parsed = parse_feature_collection(
        collection(feature("station", "HT01", " 湖塘派出所 ", GOOD, "WJ"))
    )
    assert not parsed.rejected
    (draft,) = parsed.drafts
    assert draft.level is Level.STATION
    assert (draft.code, draft.name, draft.parent_code) == ("HT01", "湖塘派出所", "WJ")
    assert isinstance(draft.boundary, MultiPolygon)
    assert draft.boundary.bounds == pytest.approx((119.95, 31.70, 119.96, 31.71))
    assert draft.ref == "features[0] HT01"


def test_multipolygon_with_hole_and_altitude_is_accepted() -> None:
    outer = [
        [120.0, 31.0, 5],
        [120.1, 31.0, 5],
        [120.1, 31.1, 5],
        [120.0, 31.1, 5],
        [120.0, 31.0, 5],
    ]
    hole = [[120.02, 31.02], [120.02, 31.04], [120.04, 31.04], [120.04, 31.02], [120.02, 31.02]]
    other = square(120.2, 31.0, 120.3, 31.1)["coordinates"]
    geometry = {"type": "MultiPolygon", "coordinates": [[outer, hole], other]}
    parsed = parse_feature_collection(collection(feature("district", "WJ", "武进分局", geometry)))
    assert not parsed.rejected
    boundary = parsed.drafts[0].boundary
    assert len(boundary.geoms) == 2
    assert len(boundary.geoms[0].interiors) == 1


def test_unreadable_files_raise() -> None:
    with pytest.raises(InvalidImportFile):
        parse_feature_collection(b"{not json")
    with pytest.raises(InvalidImportFile):
        parse_feature_collection(json.dumps({"type": "Feature"}))
    with pytest.raises(InvalidImportFile):
        parse_feature_collection("[1, 2]")


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        ({"code": "G1", "name": "网格", "parent_code": "C1"}, "missing property: level"),
        ({"level": "grid", "name": "网格", "parent_code": "C1"}, "missing property: code"),
        ({"level": "grid", "code": "G1", "parent_code": "C1"}, "missing property: name"),
        ({"level": "grid", "code": "G1", "name": "网格"}, "missing property: parent_code"),
        ({"level": "county", "code": "G1", "name": "县"}, "unknown level: 'county'"),
        (
            {"level": "grid", "code": "G1", "name": "网格", "parent_code": "C1", "area": 3},
            "unknown property: area",
        ),
        (
            {"level": "district", "code": "D1", "name": "分局", "parent_code": "X"},
            "a district has no parent_code",
        ),
        ({"level": "grid", "code": "G 1", "name": "网格", "parent_code": "C1"}, "code must be"),
        ({"level": "grid", "code": "G1", "name": "  ", "parent_code": "C1"}, "name must be"),
        ({"level": "grid", "code": "G1", "name": "x" * 101, "parent_code": "C1"}, "name must be"),
    ],
)
def test_property_problems(props: dict[str, Any], expected: str) -> None:
    reason = one_reason({"type": "Feature", "properties": props, "geometry": GOOD})
    assert reason.startswith(expected)


@pytest.mark.parametrize(
    ("geometry", "expected"),
    [
        (None, "missing geometry"),
        (
            {"type": "Point", "coordinates": [120.0, 31.0]},
            "geometry must be Polygon or MultiPolygon",
        ),
        (
            {"type": "LineString", "coordinates": [[120, 31], [121, 31]]},
            "geometry must be Polygon or MultiPolygon",
        ),
        ({"type": "Polygon", "coordinates": []}, "a polygon needs at least one ring"),
        (
            {"type": "Polygon", "coordinates": [[[120, 31], [121, 31], [120, 31]]]},
            "a ring needs at least 4 positions",
        ),
        (
            {"type": "Polygon", "coordinates": [[[120, 31], [121, 31], [121, 32], [120, 32]]]},
            "ring is not closed",
        ),
        (
            {"type": "Polygon", "coordinates": [[[120, 31], [121, 31], [121, 32], [120, 31]]][:0]},
            "a polygon needs at least one ring",
        ),
        (square(200.0, 31.0, 201.0, 32.0), "coordinates out of range: [200.0, 31.0]"),
        (square(120.0, 89.5, 121.0, 91.0), "coordinates out of range"),
        (
            {"type": "Polygon", "coordinates": [[["120", 31], [121, 31], [121, 32], ["120", 31]]]},
            "coordinates must be numbers",
        ),
        (
            {"type": "Polygon", "coordinates": [[[120, 31], [121, 31], [121, 32], [120, True]]]},
            "coordinates must be numbers",
        ),
        ({"type": "MultiPolygon", "coordinates": []}, "MultiPolygon needs at least one polygon"),
    ],
)
def test_geometry_problems(geometry: Any, expected: str) -> None:
    reason = one_reason(feature("station", "S1", "派出所", geometry, "D1"))
    assert reason.startswith(expected), reason


def test_non_finite_coordinates_are_rejected() -> None:
    raw = (
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties":'
        ' {"level": "district", "code": "D1", "name": "分局"}, "geometry": {"type": "Polygon",'
        ' "coordinates": [[[NaN, 31], [121, 31], [121, 32], [NaN, 31]]]}}]}'
    )
    (rejection,) = parse_feature_collection(raw).rejected
    assert rejection.reason == "coordinates must be finite numbers"


def test_self_intersection_is_reported_with_the_geos_reason_not_fixed() -> None:
    bow_tie = {
        "type": "Polygon",
        "coordinates": [
            [[120.0, 31.0], [120.1, 31.1], [120.1, 31.0], [120.0, 31.1], [120.0, 31.0]]
        ],
    }
    reason = one_reason(feature("grid", "G1", "网格一", bow_tie, "C1"))
    assert reason.startswith("invalid geometry: Self-intersection[120.05 31.05]")


def test_overlapping_parts_of_a_multipolygon_are_invalid() -> None:
    parts = [
        square(120.0, 31.0, 120.2, 31.2)["coordinates"],
        square(120.1, 31.1, 120.3, 31.3)["coordinates"],
    ]
    reason = one_reason(
        feature("district", "D1", "分局", {"type": "MultiPolygon", "coordinates": parts})
    )
    assert reason.startswith("invalid geometry:")


def test_not_a_feature() -> None:
    parsed = parse_feature_collection(
        {"type": "FeatureCollection", "features": [42, {"type": "X"}]}
    )
    assert [(r.ref, r.reason) for r in parsed.rejected] == [
        ("features[0]", "not a GeoJSON Feature"),
        ("features[1]", "not a GeoJSON Feature"),
    ]
    assert (
        parse_feature_collection(
            {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": GOOD}]}
        )
        .rejected[0]
        .reason
        == "missing properties"
    )


def test_every_feature_with_a_duplicated_code_is_rejected() -> None:
    parsed = parse_feature_collection(
        collection(
            feature("district", "D1", "甲分局", GOOD),
            feature("district", "D2", "乙分局", square(120, 31, 120.1, 31.1)),
            feature("district", "D1", "丙分局", square(121, 31, 121.1, 31.1)),
        )
    )
    assert [d.code for d in parsed.drafts] == ["D2"]
    assert [(r.ref, r.reason) for r in parsed.rejected] == [
        ("features[0] D1", "duplicate code in the file (features 0, 2)"),
        ("features[2] D1", "duplicate code in the file (features 0, 2)"),
    ]


def test_feature_ref_names_index_and_code() -> None:
    assert feature_ref(3, "HT01") == "features[3] HT01"
    assert feature_ref(3, None) == "features[3]"


def test_boundary_output_in_wgs84_and_gcj02() -> None:
    draft = parse_feature_collection(collection(feature("district", "D1", "分局", GOOD))).drafts[0]
    wgs = boundary_to_geojson(draft.boundary)
    assert wgs["type"] == "MultiPolygon"
    assert wgs["coordinates"][0][0][0] == [119.95, 31.70]
    gcj = boundary_to_geojson(draft.boundary, Crs.GCJ02)
    expected = from_wgs84(GeoPoint(119.95, 31.70), Crs.GCJ02)
    assert gcj["coordinates"][0][0][0] == [round(expected[0], 7), round(expected[1], 7)]
    # The GCJ-02 shift near Wujin is a few hundred metres: clearly not the WGS-84 value.
    assert abs(gcj["coordinates"][0][0][0][0] - 119.95) > 0.003
    assert len(gcj["coordinates"][0][0]) == 5
