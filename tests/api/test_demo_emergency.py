"""seed-demo's emergency story data (issue 5): the 湖塘 unit with its base, equipment and
two responders who sign in with the development WeChat codes it prints; a second run
creates nothing.

The demo district is loaded into a database of its own (its fixed codes and rectangles
would otherwise route other tests' points to demo stations)."""

from __future__ import annotations

import asyncio
import io
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from rich.console import Console
from sqlalchemy.engine import make_url
from support.auth import auth

from app.bootstrap.database import drop_database, ensure_database, run_migrations
from app.bootstrap.demo import seed_demo
from app.bootstrap.demo_emergency import BASE, RESPONDERS, UNIT_TEAM
from app.main import create_app, platform_of
from app.settings import Env, Settings

BASE_URL = os.environ.get(
    "SHOUWANG_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
# Rows a second seed run must not add to (sign-ins start sessions; audit entries of the
# look-ups are expected and not counted).
TABLES = (
    "accounts",
    "auth_sessions",
    "volunteers",
    "team_memberships",
    "training_records",
    "emergency_units",
    "emergency_equipment",
    "emergency_unit_members",
    "wechat_identities",
)


@pytest.fixture(scope="module")
async def demo_url() -> AsyncIterator[str]:
    name = f"shouwang_test_demo_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    url = make_url(BASE_URL).set(database=name).render_as_string(hide_password=False)
    await ensure_database(url)
    try:
        await asyncio.to_thread(run_migrations, url, "heads")
        yield url
    finally:
        await drop_database(url)


async def _counts(url: str) -> dict[str, int]:
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    try:
        return {t: int(await conn.fetchval(f"SELECT count(*) FROM {t}")) for t in TABLES}
    finally:
        await conn.close()


async def test_seed_demo_makes_the_unit_and_responders_once(demo_url: str, tmp_path: Any) -> None:
    settings = Settings(
        env=Env.TEST,
        database_url=demo_url,
        sms_dev_outbox=tmp_path / "sms.jsonl",
        db_pool_size=5,
        log_json=False,
    )
    out = io.StringIO()
    first = await seed_demo(settings, Console(file=out, width=200))
    assert first.created["emergency units"] == 1
    assert first.created["emergency equipment"] == 2
    assert first.created["demo responders (WeChat sign-in)"] == 2
    assert first.created["emergency unit members"] == 2
    assert first.created["emergency capability claims"] == 2
    printed = out.getvalue()
    for person in RESPONDERS:
        assert f'{{"code": "{person.wechat_code}"}}' in printed
        assert person.name in printed
    after_first = await _counts(demo_url)

    again = await seed_demo(settings, Console(file=io.StringIO(), width=200))
    assert {k: v for k, v in again.created.items() if v} == {}
    assert again.kept["emergency units"] == 1
    assert again.kept["demo responders (WeChat sign-in)"] == 2
    assert await _counts(demo_url) == after_first

    app = create_app(settings)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            await _check_through_the_api(c)
    finally:
        await platform_of(app).aclose()


async def _check_through_the_api(c: httpx.AsyncClient) -> None:
    r = await c.post(
        "/api/v1/auth/login", json={"username": "ht.officer", "password": "Shouwang-Demo-2026"}
    )
    assert r.status_code == 200, r.text
    officer = r.json()["access_token"]
    r = await c.get("/api/v1/emergency-units", headers=auth(officer))
    assert r.status_code == 200, r.text
    units = [u for u in r.json()["items"] if u["name"] == UNIT_TEAM]
    assert len(units) == 1, r.json()
    unit = units[0]
    assert abs(unit["base"]["lon"] - BASE[0]) < 1e-6
    assert abs(unit["base"]["lat"] - BASE[1]) < 1e-6
    assert {"first_aid", "fire"} <= set(unit["offers"])
    assert {"aed", "extinguisher"} <= {e["kind"] for e in unit["equipment"]}

    r = await c.get(f"/api/v1/emergency-units/{unit['id']}/members", headers=auth(officer))
    assert r.status_code == 200, r.text
    by_name = {m["name"]: m for m in r.json()["items"]}

    for person in RESPONDERS:
        r = await c.post("/api/v1/auth/wechat", json={"code": person.wechat_code})
        assert r.status_code == 200, r.text
        token = r.json()["access_token"]
        r = await c.get("/api/v1/me", headers=auth(token))
        assert r.status_code == 200, r.text
        me = r.json()
        assert me["volunteer"]["name"] == person.name
        assert me["volunteer"]["status"] == "active"
        # A member of the unit with a certified first-aid claim, able to go on duty.
        assert "first_aid" in by_name[person.name]["capabilities"]
        r = await c.get("/api/v1/me/duty", headers=auth(token))
        assert r.status_code == 200, r.text
        assert [u["unit_id"] for u in r.json()["units"]] == [unit["id"]]
