"""Locating points with PostGIS: deepest unit, shared borders, outside points, and the
GiST index doing the work."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from support.org import collection, feature, import_collection, make_org_tree, square

from app.domain.shared.geo import GeoPoint
from app.infra.db.org_locator import SqlJurisdictionLocator, locate_sql


async def test_inside_the_grid_community_and_other_station(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    tree = await make_org_tree(session_factory)
    locator = SqlJurisdictionLocator(session_factory)
    placed = await locator.locate(GeoPoint(*tree.inside))
    assert not placed.outside
    assert (placed.district_id, placed.station_id, placed.community_id, placed.grid_id) == (
        tree.district_id,
        tree.station_id,
        tree.community_id,
        tree.grid_id,
    )
    assert placed.station is not None
    assert placed.grid is not None
    assert (placed.station.code, placed.station.name) == (tree.station_code, "湖塘派出所")
    assert (placed.grid.code, placed.grid.name) == (tree.grid_code, "网格一")

    other = await locator.locate(GeoPoint(*tree.inside_other))
    assert (other.station_id, other.community_id, other.grid_id) == (
        tree.other_station_id,
        None,
        None,
    )
    assert other.district_id == tree.district_id
    assert not other.outside


async def test_points_on_shared_borders_resolve_the_same_way_every_time(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    p = "B" + uuid.uuid4().hex[:8].upper()
    x, y = 121.7, 30.5
    report = await import_collection(
        session_factory,
        collection(
            feature("district", f"{p}-D", "分局", square(x, y, x + 0.02, y + 0.02)),
            feature(
                "station",
                f"{p}-S2",
                "新城派出所",
                square(x + 0.01, y, x + 0.02, y + 0.02),
                f"{p}-D",
            ),
            feature("station", f"{p}-S1", "湖塘派出所", square(x, y, x + 0.01, y + 0.02), f"{p}-D"),
            feature("community", f"{p}-C", "花园社区", square(x, y, x + 0.01, y + 0.01), f"{p}-S1"),
            feature(
                "grid", f"{p}-G2", "网格二", square(x + 0.005, y, x + 0.01, y + 0.01), f"{p}-C"
            ),
            feature("grid", f"{p}-G1", "网格一", square(x, y, x + 0.005, y + 0.01), f"{p}-C"),
        ),
    )
    assert report.accepted == 6
    locator = SqlJurisdictionLocator(session_factory)
    between_grids = GeoPoint(x + 0.005, y + 0.005)
    between_stations = GeoPoint(x + 0.01, y + 0.015)  # above the community
    grid_and_other_station = GeoPoint(x + 0.01, y + 0.005)  # deepest wins: the grid
    for _ in range(3):
        placed = await locator.locate(between_grids)
        assert placed.grid is not None
        assert placed.grid.code == f"{p}-G1"
        placed = await locator.locate(between_stations)
        assert placed.station is not None
        assert (placed.station.code, placed.grid_id) == (f"{p}-S1", None)
        placed = await locator.locate(grid_and_other_station)
        assert placed.grid is not None
        assert placed.grid.code == f"{p}-G2"
    corner = await locator.locate(GeoPoint(x, y))  # on the district's outer corner
    assert corner.grid is not None
    assert corner.grid.code == f"{p}-G1"


async def test_outside_points_are_flagged_not_rejected(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    p = "O" + uuid.uuid4().hex[:8].upper()
    x, y = 121.8, 30.5
    report = await import_collection(
        session_factory,
        collection(
            feature("district", f"{p}-D", "滨江分局", square(x, y, x + 0.02, y + 0.02)),
            feature("station", f"{p}-S", "滨江派出所", square(x, y, x + 0.01, y + 0.01), f"{p}-D"),
        ),
    )
    assert report.accepted == 2
    locator = SqlJurisdictionLocator(session_factory)
    in_district_only = await locator.locate(GeoPoint(x + 0.015, y + 0.015))
    assert in_district_only.outside
    assert in_district_only.station_id is None
    assert in_district_only.district is not None
    assert in_district_only.district.code == f"{p}-D"
    # About 550 m east of the district: still its queue.
    nearby = await locator.locate(GeoPoint(x + 0.0258, y + 0.01))
    assert nearby.outside
    assert nearby.district is not None
    assert nearby.district.code == f"{p}-D"
    # About 3 km away: nobody's.
    far = await locator.locate(GeoPoint(x + 0.052, y + 0.01))
    assert (far.outside, far.district_id, far.station_id) == (True, None, None)
    nowhere = await locator.locate(GeoPoint(-70.0, -40.0))
    assert (nowhere.outside, nowhere.district, nowhere.grid) == (True, None, None)


async def test_the_locate_sql_uses_the_gist_index(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    p = "X" + uuid.uuid4().hex[:8].upper()
    x, y, n = 122.0, 30.0, 20  # a 20 × 20 block of grids
    step = 0.001
    features = [
        feature("district", f"{p}-D", "大分局", square(x, y, x + n * step, y + n * step)),
        feature(
            "station", f"{p}-S", "大派出所", square(x, y, x + n * step, y + n * step), f"{p}-D"
        ),
        feature(
            "community", f"{p}-C", "大社区", square(x, y, x + n * step, y + n * step), f"{p}-S"
        ),
    ]
    for i in range(n):
        for j in range(n):
            x0, y0 = x + i * step, y + j * step
            features.append(
                feature(
                    "grid",
                    f"{p}-G{i:02d}{j:02d}",
                    f"网格{i}-{j}",
                    square(x0, y0, x0 + step, y0 + step),
                    f"{p}-C",
                )
            )
    report = await import_collection(session_factory, collection(*features))
    assert report.accepted == n * n + 3
    async with session_factory() as s:
        await s.execute(sa.text("ANALYZE org_units"))
        point = GeoPoint(x + 7.5 * step, y + 3.5 * step)
        sql = locate_sql(point)
        plan = "\n".join(r[0] for r in (await s.execute(sa.text(f"EXPLAIN {sql}"))).all())
        await s.commit()
    assert "ix_org_units_boundary" in plan, plan
    placed = await SqlJurisdictionLocator(session_factory).locate(point)
    assert placed.grid is not None
    assert placed.grid.code == f"{p}-G0703"
