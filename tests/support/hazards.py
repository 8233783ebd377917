"""Helpers for hazard tests: photos, department accounts, active volunteers, steps."""

from __future__ import annotations

import io
import uuid
from datetime import timedelta
from typing import Any

import httpx
from PIL import Image
from support.auth import DEFAULT_PASSWORD, auth, resident_token
from support.org import OrgTree
from support.volunteers import activate, application

from app.bootstrap.demo_hazards import create_department_account
from app.domain.delivery.services import DeliveryService
from app.domain.shared.clock import SystemClock, local_date
from app.domain.shared.scope import system_scope
from app.settings import Settings

BASE = "/api/v1/hazards"
EBIKE = "楼道内有电动车违规充电，电线从窗户私拉下来"


def jpeg() -> bytes:
    image = Image.new("RGB", (64, 48), (200, 80, 40))
    out = io.BytesIO()
    image.save(out, "JPEG")
    return out.getvalue()


async def upload(client: httpx.AsyncClient, token: str) -> str:
    files = {"file": ("隐患.jpg", jpeg(), "image/jpeg")}
    r = await client.post("/api/v1/media", files=files, headers=auth(token))
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def hazard_body(
    at: tuple[float, float], photos: list[str], *, hazard_id: uuid.UUID | None = None, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "category": "fire",
        "description": EBIKE,
        "location": {"lon": at[0], "lat": at[1], "crs": "wgs84"},
        "place": "花园小区3幢1单元",
        "media_ids": photos,
    }
    if hazard_id is not None:
        body["id"] = str(hazard_id)
    body.update(extra)
    return body


def in_days(days: int) -> str:
    return (local_date(SystemClock().now()) + timedelta(days=days)).isoformat()


async def department_token(
    client: httpx.AsyncClient, app: Any, admin: str, department_id: str
) -> tuple[str, str]:
    """A department account (made like the demo's), added as member by the district admin
    through REST; returns (access token, account id)."""
    username = f"dept-{uuid.uuid4().hex[:10]}"
    account = await create_department_account(
        app.state.services, system_scope(), username, DEFAULT_PASSWORD, "责任部门 值班员"
    )
    assert account is not None
    r = await client.post(
        f"/api/v1/hazard-departments/{department_id}/members",
        json={"account_id": str(account)},
        headers=auth(admin),
    )
    assert r.status_code == 200, r.text
    assert r.json()["added"] is True
    login = await client.post(
        "/api/v1/auth/login", json={"username": username, "password": DEFAULT_PASSWORD}
    )
    assert login.status_code == 200, login.text
    return str(login.json()["access_token"]), str(account)


async def department(
    client: httpx.AsyncClient, admin: str, tree: OrgTree, name: str, kind: str
) -> str:
    r = await client.post(
        "/api/v1/hazard-departments",
        json={"district_id": str(tree.district_id), "name": name, "kind": kind},
        headers=auth(admin),
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def volunteer_of(
    client: httpx.AsyncClient, settings: Settings, officer: str, tree: OrgTree
) -> str:
    """An active volunteer of the tree's first station; returns their token."""
    token, _ = await resident_token(client, settings)
    r = await client.post(
        "/api/v1/volunteer-applications", json=application(tree), headers=auth(token)
    )
    assert r.status_code == 201, r.text
    await activate(client, officer, r.json()["id"])
    return token


async def act(
    client: httpx.AsyncClient, token: str, hazard_id: str, step: str, body: dict[str, Any]
) -> dict[str, Any]:
    r = await client.post(f"{BASE}/{hazard_id}/{step}", json=body, headers=auth(token))
    assert r.status_code == 200, r.text
    return dict(r.json())


async def drain(app: Any) -> None:
    await app.state.services.get(DeliveryService).drain()


async def inbox(client: httpx.AsyncClient, token: str) -> list[dict[str, Any]]:
    r = await client.get("/api/v1/me/notifications", headers=auth(token))
    assert r.status_code == 200, r.text
    return list(r.json()["items"])
