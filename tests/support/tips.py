"""Helpers for tip tests: request bodies, account ids and the lifecycle steps."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from support.auth import auth
from support.org import OrgTree

DESCRIPTION = "小区东门有人多次拉拽车门，疑似盗窃"


def tip_body(
    tree: OrgTree | None = None,
    *,
    at: tuple[float, float] | None = None,
    anonymous: bool = False,
    tip_id: uuid.UUID | None = None,
    **extra: Any,
) -> dict[str, Any]:
    lon, lat = at or (tree.inside if tree else (119.95, 31.70))
    body: dict[str, Any] = {
        "category": "theft",
        "description": DESCRIPTION,
        "location": {"lon": lon, "lat": lat, "crs": "wgs84"},
        "urgency": "high",
        "anonymous": anonymous,
    }
    if tip_id is not None:
        body["id"] = str(tip_id)
    body.update(extra)
    return body


async def account_id(client: httpx.AsyncClient, token: str) -> str:
    r = await client.get("/api/v1/me", headers=auth(token))
    assert r.status_code == 200, r.text
    return str(r.json()["account"]["id"])


def due_in(hours: float = 48) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()


async def submit(client: httpx.AsyncClient, token: str, body: dict[str, Any]) -> dict[str, Any]:
    r = await client.post("/api/v1/tips", json=body, headers=auth(token))
    assert r.status_code == 201, r.text
    return dict(r.json())


async def step(
    client: httpx.AsyncClient,
    token: str,
    tip_id: str,
    action: str,
    body: dict[str, Any] | None = None,
) -> dict[str, Any]:
    r = await client.post(f"/api/v1/tips/{tip_id}/{action}", json=body or {}, headers=auth(token))
    assert r.status_code == 200, r.text
    return dict(r.json())
