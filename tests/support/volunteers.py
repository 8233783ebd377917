"""Helpers for API tests that need volunteers: request bodies and the officer-side steps
that take an applicant to active."""

from __future__ import annotations

from typing import Any

import httpx
from fakes.volunteers import random_phone, random_resident_id
from support.auth import auth
from support.org import OrgTree

ADDRESS = "常州市武进区湖塘镇花园街18号3幢201室"


def application(tree: OrgTree, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "张伟",
        "phone": random_phone(),
        "resident_id": random_resident_id(),
        "address": ADDRESS,
        "station_id": str(tree.station_id),
        "community_id": str(tree.community_id),
        "source_category": "delivery_rider",
        "skills": ["first_aid", "急救"],
        "preferred_roles": ["security", "informant"],
        "consent": {"notice_version": "2026-11", "accepted": True},
    }
    body.update(overrides)
    return body


async def status(
    client: httpx.AsyncClient, token: str, vid: str, to: str, reason: str | None = None
) -> httpx.Response:
    return await client.post(
        f"/api/v1/volunteers/{vid}/status", json={"to": to, "reason": reason}, headers=auth(token)
    )


async def activate(client: httpx.AsyncClient, officer: str, vid: str) -> dict[str, Any]:
    r = await client.post(
        f"/api/v1/volunteers/{vid}/background-checks",
        json={"result": "passed", "note": "无违法犯罪记录"},
        headers=auth(officer),
    )
    assert r.status_code == 201, r.text
    for to in ("training", "probation", "active"):
        r = await status(client, officer, vid, to)
        assert r.status_code == 200, r.text
    return dict(r.json())


def registration(tree: OrgTree) -> dict[str, Any]:
    body = application(tree, name="王芳", source_category="five_elders")
    body.pop("consent")
    return body
