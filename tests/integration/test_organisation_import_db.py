"""Importing jurisdictions into PostgreSQL/PostGIS, through the CLI operation and the
service; the migration of this context up and down."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from support.org import collection, feature, import_collection, square

from app.bootstrap.commands import import_jurisdictions
from app.infra.db.tables.organisation import org_units
from app.infra.db.tables.platform import audit_log
from app.settings import Settings

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "jurisdictions_sample.geojson"


async def units(sf: async_sessionmaker[AsyncSession], *codes: str) -> dict[str, Any]:
    async with sf() as s:
        rows = (
            await s.execute(
                sa.select(
                    org_units,
                    sa.func.ST_AsText(org_units.c.boundary).label("wkt"),
                ).where(org_units.c.code.in_(codes))
            )
        ).all()
    return {r.code: r for r in rows}


async def test_sample_file_through_the_cli_operation(
    settings: Settings, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    ticks: list[tuple[int, int]] = []
    report = await import_jurisdictions(settings, SAMPLE, lambda d, t: ticks.append((d, t)))
    assert (report.total, report.accepted, len(report.rejected)) == (22, 9, 13)
    assert ticks[-1] == (22, 22)
    found = {r.ref: r.reason for r in report.rejected}
    assert found["features[12] SAMPLE-BAD-BOWTIE"].startswith("invalid geometry: Self-intersection")
    assert found["features[15] SAMPLE-BAD-POINT"].startswith("geometry must be Polygon")
    assert found["features[16] SAMPLE-BAD-NONAME"] == "missing property: name"
    assert found["features[17] SAMPLE-BAD-RANGE"].startswith("coordinates out of range")
    assert found["features[18] SAMPLE-DUP"].startswith("duplicate code")
    assert found["features[20] SAMPLE-BAD-COUNTY"] == "unknown level: 'county'"
    assert found["features[21] SAMPLE-BAD-EXTRA"] == "unknown property: population"
    assert found["features[9] SAMPLE-D2-A"].startswith("overlaps station SAMPLE-D2-B")
    assert found["features[11] SAMPLE-D2-A-C"] == "parent rejected"
    assert found["features[13] SAMPLE-BAD-ORPHAN"] == "unknown parent: NOPE-404"

    rows = await units(
        session_factory, "SAMPLE-D", "SAMPLE-HT", "SAMPLE-HT-HY", "SAMPLE-HT-HY-01", "SAMPLE-XC-NY"
    )
    d, ht, hy, g1 = (
        rows["SAMPLE-D"],
        rows["SAMPLE-HT"],
        rows["SAMPLE-HT-HY"],
        rows["SAMPLE-HT-HY-01"],
    )
    assert (d.district_id, d.station_id) == (None, None)
    assert (ht.parent_id, ht.district_id, ht.station_id) == (d.id, d.id, ht.id)
    assert (hy.parent_id, hy.district_id, hy.station_id) == (ht.id, d.id, ht.id)
    assert (g1.parent_id, g1.district_id, g1.station_id) == (hy.id, d.id, ht.id)
    assert g1.name == "花园社区网格一"
    assert rows["SAMPLE-XC-NY"].wkt.startswith("MULTIPOLYGON(((120.55 31.2,")
    assert hy.wkt.startswith("MULTIPOLYGON(")

    # Re-import: nothing new, nothing bumped.
    again = await import_jurisdictions(settings, SAMPLE, lambda d, t: None)
    assert (again.accepted, len(again.rejected)) == (9, 13)
    assert {
        r.version for r in (await units(session_factory, "SAMPLE-D", "SAMPLE-HT")).values()
    } == {1}

    async with session_factory() as s:
        audited = (
            await s.execute(
                sa.select(audit_log.c.actor_role, audit_log.c.detail).where(
                    audit_log.c.action == "org_unit.created", audit_log.c.record_id == g1.id
                )
            )
        ).all()
    assert [(a.actor_role, a.detail["code"]) for a in audited] == [("system", "SAMPLE-HT-HY-01")]


async def test_an_unreadable_file_is_one_rejected_line(settings: Settings, tmp_path: Path) -> None:
    broken = tmp_path / "broken.geojson"
    broken.write_text('{"type": "Feature"}', encoding="utf-8")
    report = await import_jurisdictions(settings, broken, lambda d, t: None)
    assert (report.total, report.accepted) == (0, 0)
    assert [r.ref for r in report.rejected] == ["broken.geojson"]


async def test_reimport_updates_and_checks_overlap_against_stored_stations(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    p = "I" + uuid.uuid4().hex[:8].upper()
    x, y = 121.5, 30.5
    first = collection(
        feature("district", f"{p}-D", "测试分局", square(x, y, x + 0.02, y + 0.02)),
        feature("station", f"{p}-S1", "湖塘派出所", square(x, y, x + 0.01, y + 0.02), f"{p}-D"),
        feature(
            "station", f"{p}-S2", "新城派出所", square(x + 0.01, y, x + 0.02, y + 0.02), f"{p}-D"
        ),
    )
    assert (await import_collection(session_factory, first)).accepted == 3
    second = collection(
        feature(
            "station", f"{p}-S1", "湖塘派出所（新）", square(x, y, x + 0.008, y + 0.02), f"{p}-D"
        ),
        feature(
            "station", f"{p}-S3", "交叉派出所", square(x + 0.015, y, x + 0.025, y + 0.01), f"{p}-D"
        ),
        feature(
            "station", f"{p}-S4", "相邻派出所", square(x, y + 0.02, x + 0.01, y + 0.03), f"{p}-D"
        ),
    )
    report = await import_collection(session_factory, second)
    assert report.accepted == 2
    assert [(r.ref, r.reason.split(" (")[0]) for r in report.rejected] == [
        (f"features[1] {p}-S3", f"overlaps station {p}-S2")
    ]
    rows = await units(session_factory, f"{p}-S1", f"{p}-S3", f"{p}-S4")
    assert (rows[f"{p}-S1"].name, rows[f"{p}-S1"].version) == ("湖塘派出所（新）", 2)
    assert f"{p}-S3" not in rows
    assert rows[f"{p}-S4"].station_id == rows[f"{p}-S4"].id


async def test_level_and_parent_stay_put(session_factory: async_sessionmaker[AsyncSession]) -> None:
    p = "L" + uuid.uuid4().hex[:8].upper()
    x, y = 121.6, 30.5
    base = [
        feature("district", f"{p}-D", "甲分局", square(x, y, x + 0.02, y + 0.02)),
        feature("district", f"{p}-D2", "乙分局", square(x + 0.02, y, x + 0.04, y + 0.02)),
        feature("station", f"{p}-S", "派出所", square(x, y, x + 0.01, y + 0.01), f"{p}-D"),
    ]
    assert (await import_collection(session_factory, collection(*base))).accepted == 3
    report = await import_collection(
        session_factory,
        collection(
            feature("station", f"{p}-S", "派出所", square(x, y, x + 0.01, y + 0.01), f"{p}-D2"),
            feature(
                "station", f"{p}-D", "分局变派出所", square(x, y, x + 0.01, y + 0.01), f"{p}-D2"
            ),
        ),
    )
    assert report.accepted == 0
    reasons = sorted(r.reason for r in report.rejected)
    assert reasons == [
        f"{p}-D exists as a district; its level cannot change to station",
        f"{p}-S belongs to {p}-D; its parent cannot change to {p}-D2",
    ]
