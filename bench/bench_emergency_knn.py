"""Nearest responders at 1,000,000 volunteers with last known locations (issue 5 §5:
p95 under 10 ms in the database, on the partial GiST index).

Builds its own database (``--db``, dropped at the end unless ``--keep``): the migrations
and the demo district (``shouwang migrate`` and ``shouwang seed-demo``, so the HTTP bench
can sign in as ``ht.officer``), then bulk-loads in SQL (generate_series):

- ``--units`` emergency units (teams of type emergency_unit) of the demo district 武进,
  round-robin over its four stations, bases uniform over the district (about 28 × 22 km
  around 31.7°N 119.95°E), offering first_aid (all), fire (half), water_rescue (a fifth);
- ``--volunteers`` active volunteers, each a current member of one unit (claims:
  first_aid 70 %, fire 30 %, water_rescue 10 %), with a last known location within about
  2 km of their unit's base, ``--on-duty`` of them (60 %) on duty for 8 more hours, the
  rest off duty (no duty end: outside the partial index); 2 % of the off-duty ones are
  "available now" (so the by-base part of the statement has work too).

Then ANALYZE, and the finder's own code (``find_members`` from
app/infra/db/emergency_candidates.py: the ``NEAREST_MEMBERS`` statement, walked farther
when its filters left too few) at ``--n`` random points of the district, 5 km radius,
20 nearest, requiring first_aid: timed client-side on a local asyncpg connection
(prepared statements, as the finder runs them) and in the database (the sum of the
``EXPLAIN (ANALYZE, FORMAT JSON)`` execution times of the statements of each call), with
p50/p95/p99. The same for ``NEAREST_UNITS`` (20 nearest units with their on-duty
counts), and one ``EXPLAIN (ANALYZE, BUFFERS)`` plan of each.

  uv run --frozen python bench/bench_emergency_knn.py [--volunteers 1000000] [--n 1000] [--keep]
  uv run --frozen python bench/bench_emergency_knn.py --reuse   # time an existing --keep DB
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import asyncpg

from app.domain.emergency.glossary import Capability
from app.domain.shared.geo import GeoPoint
from app.infra.db.emergency_candidates import (
    NEAREST_MEMBERS,
    NEAREST_UNITS,
    find_members,
    member_args,
)
from app.infra.db.engine import SERVER_SETTINGS

ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
# The demo district's extent (app/bootstrap/demo_data.py).
WEST, SOUTH, EAST, NORTH = 119.80, 31.60, 120.10, 31.80

LOAD = [
    "CREATE UNLOGGED TABLE bench_units AS SELECT g, gen_random_uuid() AS id, "
    "  (SELECT array_agg(id ORDER BY code) FROM org_units WHERE level = 'station' "
    "   AND district_id = $1)[1 + g % 4] AS station_id, "
    "  $2::float8 + random() * $3::float8 AS lon, $4::float8 + random() * $5::float8 AS lat "
    "FROM generate_series(0, $6::int - 1) AS g",
    "INSERT INTO teams (id, station_id, district_id, brand, name, type) "
    "SELECT id, station_id, $1, '阳湖N警', '武进最小应急单元' || g, 'emergency_unit' "
    "FROM bench_units",
    "INSERT INTO emergency_units (id, station_id, district_id, base, offers) "
    "SELECT id, station_id, $1, ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography, "
    "  ARRAY['first_aid'] || CASE WHEN g % 2 = 0 THEN ARRAY['fire'] ELSE '{}' END "
    "  || CASE WHEN g % 5 = 0 THEN ARRAY['water_rescue'] ELSE '{}' END FROM bench_units",
    "CREATE UNLOGGED TABLE bench_volunteers AS SELECT g, gen_random_uuid() AS id, "
    "  g % $1::int AS unit_g, random() < $2::float8 AS on_duty, random() AS r, "
    "  random() AS skill "
    "FROM generate_series(0, $3::int - 1) AS g",
    "CREATE INDEX ON bench_units (g)",
    "INSERT INTO volunteers (id, station_id, district_id, name, resident_id_key_id, "
    "  resident_id_sealed, resident_id_bidx, phone_key_id, phone_sealed, phone_bidx, "
    "  address_key_id, address_sealed, source_category, status, origin) "
    "SELECT v.id, u.station_id, $1, '志愿者' || v.g, 'k1', '\\x00', uuid_send(v.id), 'k1', "
    "  '\\x00', uuid_send(v.id), 'k1', '\\x00', 'resident', 'active', 'import' "
    "FROM bench_volunteers v JOIN bench_units u ON u.g = v.unit_g",
    "INSERT INTO team_memberships (id, team_id, volunteer_id, joined_at) "
    "SELECT gen_random_uuid(), u.id, v.id, now() - interval '90 days' "
    "FROM bench_volunteers v JOIN bench_units u ON u.g = v.unit_g",
    "INSERT INTO emergency_unit_members (unit_id, volunteer_id, capabilities, "
    "  available_from, available_until) "
    "SELECT u.id, v.id, "
    "  CASE WHEN v.skill < 0.7 THEN ARRAY['first_aid'] ELSE '{}' END "
    "  || CASE WHEN (v.g % 10) < 3 THEN ARRAY['fire'] ELSE '{}' END "
    "  || CASE WHEN (v.g % 10) = 9 THEN ARRAY['water_rescue'] ELSE '{}' END, "
    "  CASE WHEN NOT v.on_duty AND v.r > 0.98 THEN now() END, "
    "  CASE WHEN NOT v.on_duty AND v.r > 0.98 THEN now() + interval '8 hours' END "
    "FROM bench_volunteers v JOIN bench_units u ON u.g = v.unit_g",
    "INSERT INTO emergency_last_locations (volunteer_id, location, at, on_duty_until) "
    "SELECT v.id, ST_SetSRID(ST_MakePoint(u.lon + (random() - 0.5) * 0.04, "
    "  u.lat + (random() - 0.5) * 0.036), 4326)::geography, now() - interval '1 minute', "
    "  CASE WHEN v.on_duty THEN now() + interval '8 hours' END "
    "FROM bench_volunteers v JOIN bench_units u ON u.g = v.unit_g "
    "WHERE v.on_duty OR v.r <= 0.98",
    "DROP TABLE bench_volunteers",
    "DROP TABLE bench_units",
]

# Dropped for the load and built again after it, exactly as migration 0021 makes it.
INDEX = (
    "CREATE INDEX ix_emergency_last_locations_on_duty ON emergency_last_locations "
    "USING gist (location) WHERE on_duty_until IS NOT NULL"
)


def dsn(db: str) -> str:
    return f"postgresql://postgres@127.0.0.1:5432/{db}"


def shouwang(db: str, *args: str) -> None:
    env = {
        **os.environ,
        "SHOUWANG_DATABASE_URL": f"postgresql+asyncpg://postgres@127.0.0.1:5432/{db}",
    }
    subprocess.run(
        ["uv", "run", "--frozen", "shouwang", *args], check=True, env=env, stdout=subprocess.DEVNULL
    )


async def build(db: str, volunteers: int, units: int, on_duty: float) -> None:
    admin = await asyncpg.connect(ADMIN_DSN)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{db}"')
    finally:
        await admin.close()
    started = time.perf_counter()
    await asyncio.to_thread(shouwang, db, "migrate")
    await asyncio.to_thread(shouwang, db, "seed-demo")
    print(f"migrate + seed-demo: {time.perf_counter() - started:.1f} s")
    conn = await asyncpg.connect(dsn(db))
    try:
        district = await conn.fetchval("SELECT id FROM org_units WHERE code = '320412'")
        await conn.execute("SET synchronous_commit = off; SET maintenance_work_mem = '256MB'")
        await conn.execute("DROP INDEX ix_emergency_last_locations_on_duty")
        started = time.perf_counter()
        args: list[list[Any]] = [
            [district, WEST, EAST - WEST, SOUTH, NORTH - SOUTH, units],
            [district],
            [district],
            [units, on_duty, volunteers],
            [],
            [district],
            [],
            [],
            [],
            [],
            [],
        ]
        for sql, a in zip(LOAD, args, strict=True):
            t = time.perf_counter()
            status = await conn.execute(sql, *a)
            print(f"  {status:<24} {time.perf_counter() - t:6.1f} s  {sql[:60]}...")
        t = time.perf_counter()
        await conn.execute(INDEX)
        print(f"  partial GiST index built in {time.perf_counter() - t:.1f} s")
        await conn.execute("VACUUM ANALYZE")
        print(f"loaded in {time.perf_counter() - started:.1f} s")
    finally:
        await conn.close()


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]


def summary(label: str, values: list[float]) -> str:
    return (
        f"{label}: p50 {pct(values, 0.5):.2f} ms, p95 {pct(values, 0.95):.2f} ms, "
        f"p99 {pct(values, 0.99):.2f} ms, mean {statistics.mean(values):.2f} ms, "
        f"max {max(values):.2f} ms"
    )


async def measure(db: str, n: int, radius_m: int, limit: int, seed: int) -> None:
    # The settings of the project's connections (JIT off: these are short statements).
    conn = await asyncpg.connect(dsn(db), server_settings=dict(SERVER_SETTINGS))
    try:
        district = await conn.fetchval("SELECT id FROM org_units WHERE code = '320412'")
        counts = await conn.fetchrow(
            "SELECT (SELECT count(*) FROM volunteers) AS volunteers, "
            "(SELECT count(*) FROM emergency_units) AS units, "
            "(SELECT count(*) FROM emergency_last_locations) AS located, "
            "(SELECT count(*) FROM emergency_last_locations WHERE on_duty_until > now()) "
            "AS on_duty, (SELECT count(*) FROM emergency_unit_members "
            "WHERE available_until > now()) AS available"
        )
        print("rows: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
        required = frozenset({Capability.FIRST_AID})
        rng = random.Random(seed)
        points = [GeoPoint(rng.uniform(WEST, EAST), rng.uniform(SOUTH, NORTH)) for _ in range(n)]
        now = datetime.now(UTC)

        def m_args(p: GeoPoint) -> list[Any]:
            return member_args(
                p,
                district_id=district,
                radius_m=radius_m,
                limit=limit,
                required=required,
                now=now,
            )

        def u_args(p: GeoPoint) -> list[Any]:
            return [*m_args(p)[:7], max(limit * 4, 32)]

        async def finder_call(p: GeoPoint, fetch: Any) -> tuple[int, int]:
            found, rounds = await find_members(
                fetch,
                p,
                district_id=district,
                radius_m=radius_m,
                limit=limit,
                required=required,
                now=now,
            )
            return len(found), rounds

        # nearest_members: the finder's own loop (find_members) over conn.fetch, which
        # prepares and caches the statement as the project's native pool does.
        for p in points[:50]:  # warm-up (cache, plan)
            await finder_call(p, conn.fetch)
        client: list[float] = []
        server: list[float] = []
        found = 0
        rounds: Counter[int] = Counter()
        for p in points:
            t = time.perf_counter()
            n_found, n_rounds = await finder_call(p, conn.fetch)
            client.append((time.perf_counter() - t) * 1000)
            found += n_found
            rounds[n_rounds] += 1
        explain = await conn.prepare("EXPLAIN (ANALYZE, FORMAT JSON) " + NEAREST_MEMBERS)
        for p in points:
            recorded: list[tuple[Any, ...]] = []

            async def recording(
                sql: str, *args: Any, recorded: list[tuple[Any, ...]] = recorded
            ) -> Any:
                recorded.append(args)
                return await conn.fetch(sql, *args)

            await finder_call(p, recording)
            total = 0.0
            for args in recorded:
                plan = json.loads(await explain.fetchval(*args))
                total += float(plan[0]["Execution Time"])
            server.append(total)
        print(
            f"== nearest_members: {n} random points, radius {radius_m} m, limit {limit}, "
            f"required first_aid; {found / n:.1f} members per query on average; statements "
            f"per call {dict(sorted(rounds.items()))}"
        )
        print("   " + summary("client (find_members on asyncpg, local TCP)", client))
        print("   " + summary("database (sum of EXPLAIN ANALYZE execution times)", server))

        statement = await conn.prepare(NEAREST_UNITS)
        explain = await conn.prepare("EXPLAIN (ANALYZE, FORMAT JSON) " + NEAREST_UNITS)
        for p in points[:50]:
            await statement.fetch(*u_args(p))
        client, server, found = [], [], 0
        for p in points:
            t = time.perf_counter()
            rows = await statement.fetch(*u_args(p))
            client.append((time.perf_counter() - t) * 1000)
            found += len(rows) - 1  # the last row reports the walk
        for p in points:
            plan = json.loads(await explain.fetchval(*u_args(p)))
            server.append(float(plan[0]["Execution Time"]))
        print(
            f"== nearest_units: same points, radius {radius_m} m, limit {limit}, required "
            f"first_aid; {found / n:.1f} units per query on average"
        )
        print("   " + summary("client (asyncpg, prepared, local TCP)", client))
        print("   " + summary("database (EXPLAIN ANALYZE execution time)", server))
        centre = GeoPoint((WEST + EAST) / 2, (SOUTH + NORTH) / 2)
        for label, sql, a in (
            ("nearest_members", NEAREST_MEMBERS, m_args(centre)),
            ("nearest_units", NEAREST_UNITS, u_args(centre)),
        ):
            rows = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + sql, *a)
            print(f"plan of {label} at the district's centre:")
            for r in rows:
                print("  " + r[0])
    finally:
        await conn.close()


async def main(a: argparse.Namespace) -> None:
    if not a.reuse:
        await build(a.db, a.volunteers, a.units, a.on_duty)
    try:
        await measure(a.db, a.n, a.radius_m, a.limit, a.seed)
    finally:
        if not (a.keep or a.reuse):
            admin = await asyncpg.connect(ADMIN_DSN)
            try:
                await admin.execute(f'DROP DATABASE IF EXISTS "{a.db}" WITH (FORCE)')
            finally:
                await admin.close()


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--db", default="shouwang_bench_emergency")
    p.add_argument("--volunteers", type=int, default=1_000_000)
    p.add_argument("--units", type=int, default=5_000)
    p.add_argument("--on-duty", type=float, default=0.6)
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--radius-m", type=int, default=5000)
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--keep", action="store_true", help="keep the database (for the HTTP bench)")
    p.add_argument("--reuse", action="store_true", help="time an existing database only")
    asyncio.run(main(p.parse_args()))
