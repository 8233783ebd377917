"""The jurisdiction import use case with in-memory fakes: ordering, tree rules, overlaps,
idempotent re-import."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from support.org import collection, feature, square
from support.org_fakes import OrgFakes

from app.domain.organisation.importing import interiors_overlap, overlap_m2
from app.domain.organisation.model import Level
from app.domain.organisation.services import ImportNotAllowed
from app.domain.shared.imports import ImportReport
from app.domain.shared.scope import Role, Scope, system_scope

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "jurisdictions_sample.geojson"


def tree(prefix: str = "WJ", x: float = 119.9, y: float = 31.6) -> list[dict[str, Any]]:
    return [
        feature("district", f"{prefix}", "武进分局", square(x, y, x + 0.2, y + 0.2)),
        feature("station", f"{prefix}-HT", "湖塘派出所", square(x, y, x + 0.1, y + 0.2), prefix),
        feature(
            "station", f"{prefix}-XC", "新城派出所", square(x + 0.1, y, x + 0.2, y + 0.2), prefix
        ),
        feature(
            "community", f"{prefix}-HY", "花园社区", square(x, y, x + 0.05, y + 0.1), f"{prefix}-HT"
        ),
        feature("grid", f"{prefix}-G1", "网格一", square(x, y, x + 0.025, y + 0.1), f"{prefix}-HY"),
    ]


async def run(fakes: OrgFakes, *features: dict[str, Any]) -> ImportReport:
    return await fakes.importer.import_file(system_scope(), json.dumps(collection(*features)))


def reasons(report: ImportReport) -> dict[str, str]:
    return {r.ref: r.reason for r in report.rejected}


async def test_children_before_parents_in_the_file_are_imported_parents_first() -> None:
    fakes = OrgFakes()
    report = await run(fakes, *reversed(tree()))
    assert (report.total, report.accepted, report.rejected) == (5, 5, [])
    s = fakes.store
    district, station, other = s.unit("WJ"), s.unit("WJ-HT"), s.unit("WJ-XC")
    community, grid = s.unit("WJ-HY"), s.unit("WJ-G1")
    assert (district.parent_id, district.district_id, district.station_id) == (None, None, None)
    # A station's station_id is its own id; below it the station is inherited.
    assert (station.parent_id, station.district_id, station.station_id) == (
        district.id,
        district.id,
        station.id,
    )
    assert other.station_id == other.id
    assert (community.parent_id, community.district_id, community.station_id) == (
        station.id,
        district.id,
        station.id,
    )
    assert (grid.parent_id, grid.district_id, grid.station_id) == (
        community.id,
        district.id,
        station.id,
    )
    assert all(u.version == 1 for u in s.units.values())


async def test_written_once_audited_and_announced() -> None:
    fakes = OrgFakes()
    await run(fakes, *tree())
    assert fakes.store.commits == 1
    created = [a for a in fakes.store.audits if a[0] == "org_unit.created"]
    assert len(created) == 5
    summary = [a for a in fakes.store.audits if a[0] == "org_unit.import"]
    assert summary[0][3]["created"] == 5
    assert {e.event_type for e in fakes.store.events} == {"org_unit.created"}
    assert all(set(e.payload) == {"code", "level", "version"} for e in fakes.store.events)


async def test_only_the_operator_may_import() -> None:
    fakes = OrgFakes()
    admin = Scope(account_id=uuid.uuid4(), roles=frozenset({Role.DISTRICT_ADMIN}))
    with pytest.raises(ImportNotAllowed):
        await fakes.importer.import_file(admin, json.dumps(collection(*tree())))


async def test_unknown_parent_and_parent_in_the_database() -> None:
    fakes = OrgFakes()
    await run(fakes, *tree()[:2])  # district and one station
    report = await run(
        fakes,
        feature("community", "NEW-C", "新社区", square(119.91, 31.61, 119.92, 31.62), "WJ-HT"),
        feature("community", "LOST-C", "孤儿社区", square(119.93, 31.61, 119.94, 31.62), "NOPE"),
    )
    assert report.accepted == 1
    assert reasons(report) == {"features[1] LOST-C": "unknown parent: NOPE"}
    assert fakes.store.unit("NEW-C").station_id == fakes.store.unit("WJ-HT").id


async def test_parent_of_the_wrong_level() -> None:
    fakes = OrgFakes()
    features = tree()
    features.append(
        feature("grid", "WJ-G2", "网格二", square(119.95, 31.7, 119.96, 31.71), "WJ-HT")
    )
    features.append(
        feature("station", "WJ-S3", "派出所", square(120.2, 31.6, 120.3, 31.7), "WJ-HT")
    )
    report = await run(fakes, *features)
    assert reasons(report) == {
        "features[5] WJ-G2": "parent WJ-HT is a station; the parent of a grid must be a community",
        "features[6] WJ-S3": (
            "parent WJ-HT is a station; the parent of a station must be a district"
        ),
    }


async def test_a_rejected_parent_rejects_its_whole_subtree() -> None:
    fakes = OrgFakes()
    features = tree()
    bow_tie = {
        "type": "Polygon",
        "coordinates": [
            [[119.9, 31.6], [120.0, 31.8], [120.0, 31.6], [119.9, 31.8], [119.9, 31.6]]
        ],
    }
    features[1] = feature("station", "WJ-HT", "湖塘派出所", bow_tie, "WJ")
    report = await run(fakes, *features)
    assert report.accepted == 2  # district and the other station
    found = reasons(report)
    assert found["features[1] WJ-HT"].startswith("invalid geometry: Self-intersection")
    assert found["features[3] WJ-HY"] == "parent rejected"
    assert found["features[4] WJ-G1"] == "parent rejected"


async def test_duplicate_codes_reject_both_and_their_children() -> None:
    fakes = OrgFakes()
    features = tree()
    features.append(
        feature("station", "WJ-HT", "湖塘派出所二", square(120.3, 31.6, 120.4, 31.7), "WJ")
    )
    report = await run(fakes, *features)
    found = reasons(report)
    assert found["features[1] WJ-HT"].startswith("duplicate code in the file")
    assert found["features[5] WJ-HT"].startswith("duplicate code in the file")
    assert found["features[3] WJ-HY"] == "parent rejected"
    assert report.accepted == 2


async def test_touching_stations_are_fine_overlapping_ones_are_both_rejected() -> None:
    fakes = OrgFakes()
    features = tree()
    # Overlaps WJ-XC (which starts at x + 0.1) by 0.01° × 0.2°.
    features[1] = feature("station", "WJ-HT", "湖塘派出所", square(119.9, 31.6, 120.01, 31.8), "WJ")
    report = await run(fakes, *features)
    found = reasons(report)
    assert found["features[1] WJ-HT"].startswith("overlaps station WJ-XC (about ")
    assert found["features[2] WJ-XC"].startswith("overlaps station WJ-HT")
    assert found["features[3] WJ-HY"] == "parent rejected"
    assert report.accepted == 1


async def test_overlap_with_a_stored_station_of_the_district() -> None:
    fakes = OrgFakes()
    await run(fakes, *tree())
    report = await run(
        fakes,
        feature("station", "WJ-NEW", "新派出所", square(120.05, 31.6, 120.15, 31.7), "WJ"),
        feature("station", "WJ-EDGE", "边界派出所", square(120.1, 31.8, 120.2, 31.9), "WJ"),
    )
    found = reasons(report)
    assert found["features[0] WJ-NEW"].startswith("overlaps station WJ-")
    assert "features[1] WJ-EDGE" not in found  # shares only the border y = 31.8 with WJ-XC


async def test_stations_of_different_districts_may_overlap() -> None:
    fakes = OrgFakes()
    report = await run(fakes, *tree("WJ"), *tree("XB"))
    assert report.accepted == 10


async def test_a_reshaped_station_is_checked_against_the_others_not_its_old_self() -> None:
    fakes = OrgFakes()
    await run(fakes, *tree())
    grown = feature("station", "WJ-HT", "湖塘派出所", square(119.85, 31.6, 120.0, 31.8), "WJ")
    report = await run(fakes, grown)
    assert report.rejected == []
    assert fakes.store.unit("WJ-HT").version == 2
    too_big = feature("station", "WJ-HT", "湖塘派出所", square(119.85, 31.6, 120.05, 31.8), "WJ")
    report = await run(fakes, too_big)
    assert reasons(report)["features[0] WJ-HT"].startswith("overlaps station WJ-XC")
    assert fakes.store.unit("WJ-HT").version == 2


async def test_moving_two_stored_stations_apart_in_one_file_is_fine() -> None:
    fakes = OrgFakes()
    await run(fakes, *tree())
    # Both borders move together: against the stored shapes they would overlap.
    report = await run(
        fakes,
        feature("station", "WJ-HT", "湖塘派出所", square(119.9, 31.6, 120.05, 31.8), "WJ"),
        feature("station", "WJ-XC", "新城派出所", square(120.05, 31.6, 120.1, 31.8), "WJ"),
    )
    assert report.rejected == []
    assert report.accepted == 2


async def test_reimport_is_idempotent_and_updates_change_name_and_boundary() -> None:
    fakes = OrgFakes()
    await run(fakes, *tree())
    report = await run(fakes, *tree())
    assert (report.accepted, report.rejected) == (5, [])
    assert all(u.version == 1 for u in fakes.store.units.values())
    assert len(fakes.store.units) == 5
    features = tree()
    features[4] = feature("grid", "WJ-G1", "第一网格", square(119.9, 31.6, 119.92, 31.7), "WJ-HY")
    report = await run(fakes, *features)
    grid = fakes.store.unit("WJ-G1")
    assert (grid.name, grid.version) == ("第一网格", 2)
    assert grid.boundary.bounds == pytest.approx((119.9, 31.6, 119.92, 31.7))
    assert [a[3]["code"] for a in fakes.store.audits if a[0] == "org_unit.updated"] == ["WJ-G1"]


async def test_reimport_may_not_change_level_or_parent() -> None:
    fakes = OrgFakes()
    await run(fakes, *tree())
    report = await run(
        fakes,
        feature("grid", "WJ-G1", "网格一", square(119.9, 31.6, 119.925, 31.7), "WJ-C2"),
        feature("community", "WJ-C2", "新社区", square(119.9, 31.7, 119.95, 31.8), "WJ-HT"),
        feature("station", "WJ-HY", "花园社区", square(119.9, 31.6, 119.95, 31.7), "WJ"),
    )
    found = reasons(report)
    assert found["features[0] WJ-G1"] == "WJ-G1 belongs to WJ-HY; its parent cannot change to WJ-C2"
    assert (
        found["features[2] WJ-HY"]
        == "WJ-HY exists as a community; its level cannot change to station"
    )
    assert report.accepted == 1
    assert fakes.store.unit("WJ-HY").level is Level.COMMUNITY


async def test_progress_is_reported_for_every_feature() -> None:
    fakes = OrgFakes()
    calls: list[tuple[int, int]] = []
    features = [*tree(), {"type": "Feature"}]
    await fakes.importer.import_file(
        system_scope(), json.dumps(collection(*features)), lambda d, t: calls.append((d, t))
    )
    assert calls[-1] == (6, 6)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert len(calls) >= 6


async def test_the_sample_file() -> None:
    fakes = OrgFakes()
    report = await fakes.importer.import_file(system_scope(), SAMPLE.read_bytes())
    assert (report.total, report.accepted, len(report.rejected)) == (22, 9, 13)
    found = reasons(report)
    assert found["features[9] SAMPLE-D2-A"].startswith("overlaps station SAMPLE-D2-B")
    assert found["features[10] SAMPLE-D2-B"].startswith("overlaps station SAMPLE-D2-A")
    assert found["features[11] SAMPLE-D2-A-C"] == "parent rejected"
    assert found["features[13] SAMPLE-BAD-ORPHAN"] == "unknown parent: NOPE-404"
    assert found["features[14] SAMPLE-BAD-LEVEL"].startswith("parent SAMPLE-HT is a station")


def test_overlap_measure() -> None:
    from shapely.geometry import box

    a = box(120.0, 31.0, 120.01, 31.01)
    assert overlap_m2(a, box(120.01, 31.0, 120.02, 31.01)) == 0.0  # shared edge
    assert overlap_m2(a, box(120.01, 31.01, 120.02, 31.02)) == 0.0  # shared corner
    assert overlap_m2(a, box(120.02, 31.0, 120.03, 31.01)) == 0.0  # apart
    half = overlap_m2(a, box(120.005, 31.0, 120.015, 31.01))
    # 0.005° × 0.01° at 31° N is about 477 m × 1113 m.
    assert half == pytest.approx(531_000, rel=0.01)
    assert interiors_overlap(a, box(120.005, 31.0, 120.015, 31.01))
    assert not interiors_overlap(a, box(120.009999999, 31.0, 120.02, 31.01))  # 0.1 m²
