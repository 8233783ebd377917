"""Locating a point (station, community, grid) against a province-sized organisation tree.

Builds a scratch database (dropped afterwards), imports a synthetic tree through the real
import service, then times `SqlJurisdictionLocator.locate` for random points and shows
the query plan; then loads the in-process copy (`CachedJurisdictionLocator`, as if its
NOTIFY listener were connected), times the load, the memory it takes and the same points
through it, and checks that every answer equals the database's.
  Run:  uv run python bench/bench_locate.py [--stations 200] [--n 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import time
import uuid

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from app.bootstrap.database import drop_database, ensure_database, run_migrations
from app.bootstrap.organisation import build_importer
from app.domain.shared.geo import GeoPoint
from app.domain.shared.scope import system_scope
from app.infra.db import raw
from app.infra.db.engine import make_engine, make_session_factory
from app.infra.db.org_locator import SqlJurisdictionLocator, locate_sql
from app.infra.db.org_tree_cache import CachedJurisdictionLocator

BASE = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


class Listening:
    """A TreeWatch that is always connected (no notification comes during the bench)."""

    listening = True

    def ensure_listening(self) -> None:
        pass

    def on_reset(self, callback: object) -> None:
        pass


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


def rect(w: float, s: float, e: float, n: float) -> dict[str, object]:
    return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}


def tree(
    stations: int, communities: int, grids: int
) -> tuple[dict[str, object], tuple[float, ...]]:
    """Stations in a square lattice of 0.05° cells; communities and grids split them."""
    side = int(stations**0.5 + 0.999)
    w0, s0, cell = 118.0, 31.0, 0.05
    bounds = (w0, s0, w0 + side * cell, s0 + side * cell)
    feats: list[dict[str, object]] = [
        {
            "type": "Feature",
            "properties": {"level": "district", "code": "D", "name": "基准分局"},
            "geometry": rect(*bounds),
        }
    ]
    for i in range(stations):
        x, y = w0 + (i % side) * cell, s0 + (i // side) * cell
        sc = f"S{i}"
        feats.append(
            {
                "type": "Feature",
                "geometry": rect(x, y, x + cell, y + cell),
                "properties": {
                    "level": "station",
                    "code": sc,
                    "name": f"派出所{i}",
                    "parent_code": "D",
                },
            }
        )
        cw = cell / communities
        for c in range(communities):
            cc = f"{sc}-C{c}"
            feats.append(
                {
                    "type": "Feature",
                    "geometry": rect(x + c * cw, y, x + (c + 1) * cw, y + cell),
                    "properties": {
                        "level": "community",
                        "code": cc,
                        "name": f"社区{c}",
                        "parent_code": sc,
                    },
                }
            )
            gh = cell / grids
            for g in range(grids):
                feats.append(
                    {
                        "type": "Feature",
                        "geometry": rect(
                            x + c * cw, y + g * gh, x + (c + 1) * cw, y + (g + 1) * gh
                        ),
                        "properties": {
                            "level": "grid",
                            "code": f"{cc}-G{g}",
                            "name": f"网格{g}",
                            "parent_code": cc,
                        },
                    }
                )
    return {"type": "FeatureCollection", "features": feats}, bounds


async def main(stations: int, communities: int, grids: int, n: int) -> None:
    url = (
        make_url(BASE)
        .set(database=f"shouwang_bench_{uuid.uuid4().hex[:8]}")
        .render_as_string(hide_password=False)
    )
    await ensure_database(url)
    try:
        await asyncio.to_thread(run_migrations, url, "heads")
        engine = make_engine(url, pool_size=2)
        sf = make_session_factory(engine)
        fc, (w, s, _e, _nn) = tree(stations, communities, grids)
        t0 = time.perf_counter()
        report = await build_importer(sf).import_file(system_scope(), json.dumps(fc))
        load_s = time.perf_counter() - t0
        assert not report.rejected, report.rejected[:3]
        async with engine.begin() as conn:
            await conn.execute(sa.text("ANALYZE org_units"))
        locator = SqlJurisdictionLocator(sf)
        rng = random.Random(7)
        side = int(stations**0.5 + 0.999)

        def random_point() -> GeoPoint:
            i = rng.randrange(stations)  # inside a random station's cell
            return GeoPoint(
                w + (i % side + rng.random()) * 0.05, s + (i // side + rng.random()) * 0.05
            )

        points = [random_point() for _ in range(n)]
        for p in points[:50]:  # warm-up
            await locator.locate(p)
        times = []
        for p in points:
            t = time.perf_counter()
            placement = await locator.locate(p)
            times.append((time.perf_counter() - t) * 1000)
            assert placement.grid_id is not None
        times.sort()
        cached = CachedJurisdictionLocator(locator, raw.Autocommit.of(sf))
        cached.follow(Listening())
        before = rss_mib()
        t0 = time.perf_counter()
        assert await cached.load_now()
        copy_s = time.perf_counter() - t0
        copy_mib = rss_mib() - before
        copy_times, differ = [], 0
        for p in points:
            t = time.perf_counter()
            placement = await cached.locate(p)
            copy_times.append((time.perf_counter() - t) * 1000)
            differ += placement != await locator.locate(p)
        copy_times.sort()
        async with engine.connect() as conn:
            compiled = locate_sql(points[0])
            plan = (await conn.execute(sa.text(f"EXPLAIN ANALYZE {compiled}"))).scalars().all()
        await engine.dispose()
        print(f"units imported: {report.accepted} in {load_s:.1f} s")
        print(
            f"locate over {n} random points: p50 {statistics.median(times):.2f} ms, "
            f"p95 {times[int(0.95 * n)]:.2f} ms, p99 {times[int(0.99 * n)]:.2f} ms, "
            f"max {times[-1]:.2f} ms"
        )
        tree_units = len(cached.tree) if cached.tree is not None else 0
        print(
            f"in-process copy: {tree_units} units loaded in {copy_s:.2f} s, "
            f"+{copy_mib:.0f} MiB resident; locate p50 {statistics.median(copy_times):.3f} ms, "
            f"p95 {copy_times[int(0.95 * n)]:.3f} ms, p99 {copy_times[int(0.99 * n)]:.3f} ms, "
            f"max {copy_times[-1]:.3f} ms; answers differing from the database: {differ}"
        )
        print("plan:")
        print("\n".join(plan))
    finally:
        await drop_database(url)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--stations", type=int, default=200)
    ap.add_argument("--communities", type=int, default=5)
    ap.add_argument("--grids", type=int, default=10)
    ap.add_argument("--n", type=int, default=2000)
    a = ap.parse_args()
    asyncio.run(main(a.stations, a.communities, a.grids, a.n))
