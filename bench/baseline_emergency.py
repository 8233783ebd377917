"""Bare baseline for the nearest-responders benchmark (issue 5 §5): FastAPI + a raw asyncpg
pool running the project's two statements by hand, for comparison with
GET /api/v1/emergency/nearby in the same run (bench/bench_emergency_nearby.sh).

  GET /nearby?lon=&lat=&radius_m=&limit=&capability=...
      NEAREST_UNITS then NEAREST_MEMBERS (the SQL text of
      app/infra/db/emergency_candidates.py, one walk of limit × 4 rows) for one district
      (BENCH_DISTRICT_ID, else the demo district 320412), answered as the project
      answers: {units: [...], members: [{volunteer_id, unit_id, distance_m, located}]}

What it does NOT do (the project does): bearer-token check + principal/roles query, the
look-up of the caller's districts, the domain's validation and scope checks, walking
farther when the filters left too few, request-id/locale middleware, RFC 9457 errors.

  BENCH_DSN=postgresql://postgres@127.0.0.1:5432/shouwang_bench_emergency \\
    uv run uvicorn bench.baseline_emergency:app --port 8095 --workers 1
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any

import asyncpg
from fastapi import FastAPI, Query
from fastapi.responses import ORJSONResponse

from app.infra.db.emergency_candidates import NEAREST_MEMBERS, NEAREST_UNITS

DSN = os.environ.get("BENCH_DSN", "postgresql://postgres@127.0.0.1:5432/shouwang_bench_emergency")
POOL_SIZE = int(os.environ.get("BENCH_POOL_SIZE", "10"))
state: dict[str, Any] = {}


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    # JIT off, as the project's connections: the same query, the same settings.
    pool = await asyncpg.create_pool(
        DSN, min_size=1, max_size=POOL_SIZE, server_settings={"jit": "off"}
    )
    assert pool is not None
    district = os.environ.get("BENCH_DISTRICT_ID") or await pool.fetchval(
        "SELECT id FROM org_units WHERE code = '320412'"
    )
    state["pool"], state["district"] = pool, uuid.UUID(str(district))
    yield
    await pool.close()


app = FastAPI(lifespan=lifespan, default_response_class=ORJSONResponse)


@app.get("/nearby")
async def nearby(
    lon: float,
    lat: float,
    radius_m: int = 3000,
    limit: int = 20,
    capability: Annotated[list[str] | None, Query()] = None,
) -> dict[str, Any]:
    required = sorted(set(capability or []))
    now = datetime.now(UTC)
    walk = max(limit * 4, 32)
    async with state["pool"].acquire() as conn:
        units = await conn.fetch(
            NEAREST_UNITS, lon, lat, state["district"], float(radius_m), limit, required, now, walk
        )
        units = units[:-1]  # the last row reports the walk
        rows = await conn.fetch(
            NEAREST_MEMBERS,
            lon,
            lat,
            state["district"],
            float(radius_m),
            limit,
            required,
            now,
            [],
            walk,
            walk,
        )
    members = sorted(
        (r for r in rows if r["volunteer_id"] is not None), key=lambda r: r["distance_m"]
    )[:limit]
    return {
        "units": [
            {
                "unit_id": str(r["id"]),
                "station_id": str(r["station_id"]),
                "distance_m": round(r["distance_m"], 1),
                "offers": sorted(r["offers"]),
                "on_duty": r["on_duty"],
            }
            for r in units
        ],
        "members": [
            {
                "volunteer_id": str(r["volunteer_id"]),
                "unit_id": str(r["unit_id"]),
                "distance_m": round(r["distance_m"], 1),
                "located": r["located"],
            }
            for r in members
        ],
    }
