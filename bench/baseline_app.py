"""Bare baseline for the tip-off benchmark (issue 3 §7): FastAPI + a raw asyncpg pool and
hand-written SQL doing the same core database work as the project's tip endpoints.

  POST /tips      locate (the project's statement, written by hand) + INSERT into the real
                  ``tips`` table + one ``outbox`` row, in one transaction
  GET  /tips      a 20-item keyset page of one station, same columns as the project's queue
  GET  /me/tips   the reporter's tips through the same blind-index equality on
                  ``tip_informants.reporter_bidx``, plus their feedback events (one batch)
  POST /hazards   (issue 4) locate + the duplicate check (the project's nearby statement,
                  by hand: same category, open, 30-day window, ST_DWithin 50 m on
                  geography, the nearest 10 as the project offers: NEARBY_LIMIT) + INSERT
                  into the real ``hazards`` table + one ``outbox`` row, in one
                  transaction; no photo (the project requires and attaches one)

What it does NOT do (the project does): bearer-token check + principal/roles query,
Idempotency-Key storage, the per-account rate-limit log, the sealed informant row, the
tip_events row, the sync change feed, the audit entry, media look-ups, request-id/locale
middleware. The station id and reporter blind index come from the environment
(BENCH_STATION_ID, BENCH_REPORTER_BIDX hex), written by bench/make_tokens.py.

  BENCH_DSN=postgresql://postgres@127.0.0.1:5432/shouwang_bench_tips \\
    uv run uvicorn bench.baseline_app:app --port 8097 --workers 1
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import uuid_utils
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

DSN = os.environ.get("BENCH_DSN", "postgresql://postgres@127.0.0.1:5432/shouwang_bench_tips")
STATION_ID = uuid.UUID(os.environ.get("BENCH_STATION_ID", str(uuid.UUID(int=0))))
REPORTER_BIDX = bytes.fromhex(os.environ.get("BENCH_REPORTER_BIDX", ""))
REPORTER_ID = uuid.UUID(os.environ.get("BENCH_REPORTER_ID", str(uuid.UUID(int=0))))
POOL_SIZE = int(os.environ.get("BENCH_POOL_SIZE", "10"))

LOCATE = """
SELECT deepest.id, deepest.level, c.id AS community_id, s.id AS station_id,
       d.id AS district_id
FROM (SELECT id, level, code, parent_id, station_id, district_id
      FROM org_units
      WHERE ST_Covers(boundary, ST_SetSRID(ST_MakePoint($1::float8, $2::float8), 4326))
      ORDER BY CASE level WHEN 'grid' THEN 3 WHEN 'community' THEN 2
                          WHEN 'station' THEN 1 ELSE 0 END DESC, code
      LIMIT 1) AS deepest
LEFT JOIN org_units c ON c.id = CASE WHEN deepest.level = 'grid' THEN deepest.parent_id
                                     WHEN deepest.level = 'community' THEN deepest.id END
LEFT JOIN org_units s ON s.id = deepest.station_id
LEFT JOIN org_units d ON d.id = coalesce(deepest.district_id,
                                         CASE WHEN deepest.level = 'district' THEN deepest.id END)
"""

INSERT_TIP = """
INSERT INTO tips (id, category, description, location, urgency, anonymous, district_id,
                  station_id, community_id, grid_id, media_ids, status, submitter_digest,
                  submitted_at)
VALUES ($1, $2, $3, ST_SetSRID(ST_MakePoint($4::float8, $5::float8), 4326)::geography, $6,
        $7, $8, $9, $10, $11, '{}', 'submitted', $12, $13)
ON CONFLICT (id) DO NOTHING
RETURNING version, updated_at
"""

INSERT_OUTBOX = """
INSERT INTO outbox (id, event_type, aggregate_type, aggregate_id, payload, occurred_at,
                    request_id)
VALUES ($1, 'tip.submitted', 'tip', $2, $3::jsonb, $4, NULL)
"""

NEARBY = """
SELECT id, category, status, media_ids[1] AS photo,
       ST_Distance(location, ST_SetSRID(ST_MakePoint($2::float8, $3::float8), 4326)::geography)
           AS distance
FROM hazards
WHERE category = $1 AND status <> 'closed' AND reported_at >= now() - interval '30 days'
  AND ST_DWithin(location, ST_SetSRID(ST_MakePoint($2::float8, $3::float8), 4326)::geography,
                 50)
ORDER BY distance, id LIMIT 10
"""

INSERT_HAZARD_OUTBOX = INSERT_OUTBOX.replace(
    "'tip.submitted', 'tip'", "'hazard.reported', 'hazard'"
)

INSERT_HAZARD = """
INSERT INTO hazards (id, category, description, location, district_id, station_id,
                     community_id, grid_id, media_ids, reporter_id, status, reported_at)
VALUES ($1, $2, $3, ST_SetSRID(ST_MakePoint($4::float8, $5::float8), 4326)::geography, $6, $7,
        $8, $9, '{}', $10, 'reported', $11)
RETURNING version
"""

COLUMNS = """id, category, description, urgency, anonymous, district_id, station_id,
community_id, grid_id, media_ids, status, assignee_id, due_at, outcome, duplicate_of,
referred_to, disputes, submitted_at, version, created_at, updated_at,
ST_X(location::geometry) AS lon, ST_Y(location::geometry) AS lat"""

QUEUE = f"""
SELECT {COLUMNS} FROM tips
WHERE station_id = $1 AND ($2::uuid IS NULL OR id < $2)
ORDER BY id DESC LIMIT $3
"""

MINE = f"""
SELECT {COLUMNS} FROM tips
WHERE id IN (SELECT tip_id FROM tip_informants WHERE reporter_bidx = $1)
  AND ($2::uuid IS NULL OR id < $2)
ORDER BY id DESC LIMIT $3
"""

FEEDBACK = """
SELECT tip_id, id, kind, at, to_status, feedback, feedback_zh, feedback_en
FROM tip_events WHERE tip_id = ANY($1::uuid[]) AND feedback IS NOT NULL ORDER BY id
"""

app = FastAPI()
pool: asyncpg.Pool | None = None


@app.on_event("startup")
async def _start() -> None:
    global pool
    pool = await asyncpg.create_pool(DSN, min_size=POOL_SIZE, max_size=POOL_SIZE)


@app.on_event("shutdown")
async def _stop() -> None:
    if pool is not None:
        await pool.close()


class LocationIn(BaseModel):
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)


class TipIn(BaseModel):
    id: uuid.UUID | None = None
    category: str
    description: str = Field(min_length=1, max_length=2000)
    location: LocationIn
    urgency: str = "normal"
    anonymous: bool = False


def _out(row: Any) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "category": row["category"],
        "description": row["description"],
        "location": {"lon": row["lon"], "lat": row["lat"]},
        "urgency": row["urgency"],
        "anonymous": row["anonymous"],
        "district_id": str(row["district_id"]),
        "station_id": str(row["station_id"]) if row["station_id"] else None,
        "community_id": str(row["community_id"]) if row["community_id"] else None,
        "grid_id": str(row["grid_id"]) if row["grid_id"] else None,
        "media_ids": [str(m) for m in row["media_ids"] or ()],
        "status": row["status"],
        "assignee_id": str(row["assignee_id"]) if row["assignee_id"] else None,
        "due_at": row["due_at"].isoformat() if row["due_at"] else None,
        "outcome": row["outcome"],
        "disputes": row["disputes"],
        "submitted_at": row["submitted_at"].isoformat(),
        "version": row["version"],
        "updated_at": row["updated_at"].isoformat(),
    }


def _uuid(raw: str | None) -> uuid.UUID | None:
    if raw is None:
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise HTTPException(422, "bad cursor") from None


@app.post("/tips", status_code=201)
async def submit(body: TipIn, request: Request) -> Any:
    assert pool is not None
    tip_id = body.id or uuid.UUID(bytes=uuid_utils.uuid7().bytes)
    now = datetime.now(UTC)
    account = request.headers.get("authorization", "")  # not verified: see the docstring
    digest = hashlib.sha256(f"{account}:{tip_id}".encode()).digest()
    async with pool.acquire() as conn, conn.transaction():
        place = await conn.fetchrow(LOCATE, body.location.lon, body.location.lat)
        if place is None or place["district_id"] is None:
            raise HTTPException(422, "outside the service area")
        grid_id = place["id"] if place["level"] == "grid" else None
        row = await conn.fetchrow(
            INSERT_TIP,
            tip_id,
            body.category,
            body.description.strip(),
            body.location.lon,
            body.location.lat,
            body.urgency,
            body.anonymous,
            place["district_id"],
            place["station_id"],
            place["community_id"],
            grid_id,
            digest,
            now,
        )
        if row is None:
            raise HTTPException(409, "tip id taken")
        payload = json.dumps(
            {
                "station_id": str(place["station_id"]) if place["station_id"] else None,
                "district_id": str(place["district_id"]),
                "status": "submitted",
                "urgency": body.urgency,
            }
        )
        await conn.execute(
            INSERT_OUTBOX, uuid.UUID(bytes=uuid_utils.uuid7().bytes), tip_id, payload, now
        )
    out = {
        "id": str(tip_id),
        "category": body.category,
        "description": body.description.strip(),
        "location": {"lon": body.location.lon, "lat": body.location.lat},
        "urgency": body.urgency,
        "anonymous": body.anonymous,
        "status": "submitted",
        "station_id": str(place["station_id"]) if place["station_id"] else None,
        "submitted_at": now.isoformat(),
        "version": row["version"],
        "updated_at": row["updated_at"].isoformat(),
        "media_ids": [],
        "feedback": [],
    }
    return JSONResponse(out, status_code=201, headers={"location": f"/tips/{tip_id}"})


class HazardIn(BaseModel):
    category: str
    description: str = Field(min_length=1, max_length=2000)
    location: LocationIn
    media_ids: list[uuid.UUID] = Field(default_factory=list)


@app.post("/hazards", status_code=201)
async def report_hazard(body: HazardIn) -> Any:
    assert pool is not None
    hazard_id = uuid.UUID(bytes=uuid_utils.uuid7().bytes)
    now = datetime.now(UTC)
    lon, lat = body.location.lon, body.location.lat
    async with pool.acquire() as conn, conn.transaction():
        place = await conn.fetchrow(LOCATE, lon, lat)
        if place is None or place["district_id"] is None:
            raise HTTPException(422, "outside the service area")
        nearby = await conn.fetch(NEARBY, body.category, lon, lat)
        grid_id = place["id"] if place["level"] == "grid" else None
        row = await conn.fetchrow(
            INSERT_HAZARD,
            hazard_id,
            body.category,
            body.description.strip(),
            lon,
            lat,
            place["district_id"],
            place["station_id"],
            place["community_id"],
            grid_id,
            REPORTER_ID,
            now,
        )
        payload = json.dumps(
            {
                "hazard_id": str(hazard_id),
                "station_id": str(place["station_id"]) if place["station_id"] else None,
                "district_id": str(place["district_id"]),
                "category": body.category,
                "status": "reported",
            }
        )
        await conn.execute(
            INSERT_HAZARD_OUTBOX,
            uuid.UUID(bytes=uuid_utils.uuid7().bytes),
            hazard_id,
            payload,
            now,
        )
    out = {
        "id": str(hazard_id),
        "category": body.category,
        "description": body.description.strip(),
        "location": {"lon": lon, "lat": lat},
        "status": "reported",
        "station_id": str(place["station_id"]) if place["station_id"] else None,
        "reported_at": now.isoformat(),
        "version": row["version"],
        "possible_duplicates": [
            {"id": str(r["id"]), "status": r["status"], "distance_m": round(r["distance"])}
            for r in nearby
        ],
    }
    return JSONResponse(out, status_code=201, headers={"location": f"/hazards/{hazard_id}"})


def _page(rows: list[Any], limit: int) -> dict[str, Any]:
    more = len(rows) > limit
    items = [_out(r) for r in rows[:limit]]
    return {"items": items, "next_cursor": items[-1]["id"] if more else None}


@app.get("/tips")
async def queue(limit: int = 20, cursor: str | None = None) -> Any:
    assert pool is not None
    rows = await pool.fetch(QUEUE, STATION_ID, _uuid(cursor), limit + 1)
    return _page(rows, limit)


@app.get("/me/tips")
async def mine(limit: int = 20, cursor: str | None = None) -> Any:
    assert pool is not None
    async with pool.acquire() as conn:
        rows = await conn.fetch(MINE, REPORTER_BIDX, _uuid(cursor), limit + 1)
        ids = [r["id"] for r in rows[:limit]]
        events = await conn.fetch(FEEDBACK, ids) if ids else []
    page = _page(rows, limit)
    by_tip: dict[str, list[dict[str, Any]]] = {}
    for e in events:
        by_tip.setdefault(str(e["tip_id"]), []).append(
            {"at": e["at"].isoformat(), "status": e["to_status"], "text": e["feedback"]}
        )
    for item in page["items"]:
        item["feedback"] = by_tip.get(item["id"], [])
    return page
