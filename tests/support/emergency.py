"""Emergency units for API tests: active volunteers of a tree's station, an
emergency-unit team with a leader, the unit made of it, certificates and location samples."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import httpx
from support.auth import auth, resident_token
from support.org import OrgTree
from support.volunteers import activate, application

from app.settings import Settings

BASE = "/api/v1/emergency-units"


def point(at: tuple[float, float], crs: str = "wgs84") -> dict[str, Any]:
    return {"lon": at[0], "lat": at[1], "crs": crs}


def east(at: tuple[float, float], degrees: float) -> tuple[float, float]:
    return (round(at[0] + degrees, 7), at[1])


def sample(at: datetime, where: tuple[float, float]) -> dict[str, Any]:
    return {"at": at.isoformat(), "location": point(where), "accuracy_m": 8.5}


async def volunteer(
    c: httpx.AsyncClient, settings: Settings, officer: str, tree: OrgTree, name: str
) -> tuple[str, str]:
    """An active volunteer of the tree's station: (token, volunteer id)."""
    token, _ = await resident_token(c, settings)
    r = await c.post(
        "/api/v1/volunteer-applications", json=application(tree, name=name), headers=auth(token)
    )
    assert r.status_code == 201, r.text
    vid = str(r.json()["id"])
    await activate(c, officer, vid)
    return token, vid


async def team(
    c: httpx.AsyncClient, officer: str, tree: OrgTree, members: list[str], kind: str
) -> str:
    r = await c.post(
        "/api/v1/teams",
        json={
            "brand": "阳湖N警",
            "name": "花园社区最小应急单元",
            "type": kind,
            "station_id": str(tree.station_id),
        },
        headers=auth(officer),
    )
    assert r.status_code == 201, r.text
    tid = str(r.json()["id"])
    for vid in members:
        added = await c.post(
            f"/api/v1/teams/{tid}/members", json={"volunteer_id": vid}, headers=auth(officer)
        )
        assert added.status_code == 201, added.text
    if members:
        led = await c.put(
            f"/api/v1/teams/{tid}/leader", json={"volunteer_id": members[0]}, headers=auth(officer)
        )
        assert led.status_code == 200, led.text
    return tid


async def first_aid_certificate(
    c: httpx.AsyncClient, officer: str, tree: OrgTree, vid: str
) -> None:
    r = await c.post(
        "/api/v1/courses",
        json={
            "code": f"JWLM-FA-{uuid.uuid4().hex[:6]}",
            "title": "警物联盟大学堂·急救培训",
            "capability": "first_aid",
            "validity_months": 24,
            "station_id": str(tree.station_id),
        },
        headers=auth(officer),
    )
    assert r.status_code == 201, r.text
    done = await c.post(
        f"/api/v1/volunteers/{vid}/trainings",
        json={"course_id": r.json()["id"], "completed_on": "2026-10-08"},
        headers=auth(officer),
    )
    assert done.status_code == 201, done.text


async def new_unit(c: httpx.AsyncClient, officer: str, tree: OrgTree, tid: str) -> dict[str, Any]:
    r = await c.post(
        BASE,
        json={
            "team_id": tid,
            "base": point(tree.inside),
            "offers": ["first_aid", "water_rescue"],
        },
        headers=auth(officer),
    )
    assert r.status_code == 201, r.text
    return dict(r.json())
