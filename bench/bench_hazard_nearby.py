"""The duplicate check of hazard reports at 1,000,000 hazards (issue 4 §5: under 5 ms,
on the spatial index).

Builds a scratch database (dropped afterwards) with the migrations and the demo district,
bulk-inserts ``--hazards`` hazards spread over the demo district's area (about 30 × 25 km:
seven categories, statuses mostly closed, reported within the last 90 days), then times
the repository's own statement (``app.infra.db.hazards_repo.NEARBY``: same
category, open, reported inside the window, ST_DWithin on geography, nearest first) at
``--n`` random points, and prints p50/p95/p99 and the EXPLAIN (ANALYZE, BUFFERS) plan.

  uv run python bench/bench_hazard_nearby.py [--hazards 1000000] [--n 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from app.bootstrap.database import drop_database, ensure_database, run_migrations
from app.domain.hazards.model import DuplicateRule, TopCategory
from app.domain.hazards.services import NEARBY_LIMIT
from app.domain.shared.geo import GeoPoint
from app.infra.db import raw
from app.infra.db.engine import make_engine, make_session_factory
from app.infra.db.hazards_repo import nearby_args, nearby_sql

BASE = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
# The demo district's extent (app/bootstrap/demo_data.py), slightly inside.
WEST, SOUTH, EAST, NORTH = 119.80, 31.60, 120.10, 31.82

FILL = """
INSERT INTO hazards (id, category, description, location, district_id, station_id,
                     media_ids, reporter_id, status, reported_at)
SELECT gen_random_uuid(),
       (ARRAY['public_order','traffic','fire','housing_construction','health','dogs','other'])
           [1 + floor(random() * 7)::int],
       '楼道内电动车违规充电，电线私拉乱接',
       ST_SetSRID(ST_MakePoint(CAST(:w AS float8) + random() * CAST(:dx AS float8),
                               CAST(:s AS float8) + random() * CAST(:dy AS float8)),
                  4326)::geography,
       CAST(:district AS uuid), CAST(:station AS uuid), '{}', CAST(:reporter AS uuid),
       CASE WHEN random() < 0.8 THEN 'closed' ELSE 'reported' END,
       now() - random() * interval '90 days'
FROM generate_series(1, CAST(:count AS int))
"""


async def main(count: int, n: int) -> None:
    url = make_url(BASE).set(database=f"shouwang_bench_hz_{uuid.uuid4().hex[:8]}")
    rendered = url.render_as_string(hide_password=False)
    await ensure_database(rendered)
    try:
        await asyncio.to_thread(run_migrations, rendered, "heads")
        engine = make_engine(rendered, pool_size=2)
        sf = make_session_factory(engine)
        async with engine.begin() as conn:
            district = (
                await conn.execute(
                    sa.text(
                        "INSERT INTO org_units (id, level, code, name, boundary) VALUES "
                        "(gen_random_uuid(), 'district', 'B', '基准分局', ST_Multi(ST_MakeEnvelope("
                        ":w, :s, :e, :n, 4326))) RETURNING id"
                    ),
                    {"w": WEST - 0.1, "s": SOUTH - 0.1, "e": EAST + 0.1, "n": NORTH + 0.1},
                )
            ).scalar_one()
            reporter = (
                await conn.execute(
                    sa.text(
                        "INSERT INTO accounts (id, kind, status) VALUES "
                        "(gen_random_uuid(), 'resident', 'active') RETURNING id"
                    )
                )
            ).scalar_one()
        started = time.perf_counter()
        left = count
        while left > 0:
            chunk = min(left, 200_000)
            async with engine.begin() as conn:
                await conn.execute(
                    sa.text(FILL),
                    {
                        "w": WEST,
                        "dx": EAST - WEST,
                        "s": SOUTH,
                        "dy": NORTH - SOUTH,
                        "district": district,
                        "station": None,
                        "reporter": reporter,
                        "count": chunk,
                    },
                )
            left -= chunk
        async with engine.connect() as conn:
            await conn.execute(sa.text("COMMIT"))
            await conn.execute(sa.text("VACUUM ANALYZE hazards"))
        print(f"inserted {count:,} hazards in {time.perf_counter() - started:.1f} s")

        rule = DuplicateRule()  # 50 m, 30 days: the defaults
        since = datetime.now(UTC) - timedelta(days=rule.window_days)
        rng = random.Random(7)
        cats = list(TopCategory)
        timings: list[float] = []
        found = 0
        async with sf() as s:
            for i in range(n + 200):
                point = GeoPoint(rng.uniform(WEST, EAST), rng.uniform(SOUTH, NORTH))
                args = nearby_args(rng.choice(cats), point, rule, since)
                t = time.perf_counter()
                rows = await raw.fetch(s, nearby_sql(NEARBY_LIMIT), *args)
                if i >= 200:  # warm-up excluded
                    timings.append((time.perf_counter() - t) * 1000)
                    found += len(rows)
            timings.sort()
            q = lambda p: timings[int(p * (len(timings) - 1))]  # noqa: E731
            print(
                f"nearby (repository statement, {n} random points): p50 {q(0.5):.2f} ms, "
                f"p95 {q(0.95):.2f} ms, p99 {q(0.99):.2f} ms, mean "
                f"{statistics.mean(timings):.2f} ms; {found} candidates found in total"
            )
            point = GeoPoint((WEST + EAST) / 2, (SOUTH + NORTH) / 2)
            args = nearby_args(TopCategory.FIRE, point, rule, since)
            plan = await raw.fetch(
                s, "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + nearby_sql(NEARBY_LIMIT), *args
            )
            print("plan:")
            for row in plan:
                print("  " + row[0])
        await engine.dispose()
    finally:
        await drop_database(rendered)


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--hazards", type=int, default=1_000_000)
    p.add_argument("--n", type=int, default=2000)
    a = p.parse_args()
    asyncio.run(main(a.hazards, a.n))
