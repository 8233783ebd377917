"""Revision 0004 (volunteers) goes up, down and up again cleanly on its own branch."""

from __future__ import annotations

import asyncio
import os
import uuid

import asyncpg
from sqlalchemy.engine import make_url

from app.bootstrap.database import downgrade, drop_database, ensure_database, run_migrations

BASE_URL = os.environ.get(
    "SHOUWANG_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
TABLES = {
    "volunteers",
    "volunteer_status_history",
    "background_checks",
    "volunteer_number_counters",
    "teams",
    "team_memberships",
    "courses",
    "training_records",
}


async def _tables(url: str) -> set[str]:
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    finally:
        await conn.close()
    return {r["tablename"] for r in rows}


async def test_up_down_up() -> None:
    name = f"shouwang_mig_{uuid.uuid4().hex[:10]}"
    url = make_url(BASE_URL).set(database=name).render_as_string(hide_password=False)
    await ensure_database(url)
    try:
        await asyncio.to_thread(run_migrations, url, "0004")
        assert await _tables(url) >= TABLES
        await asyncio.to_thread(downgrade, url, "0001")
        remaining = await _tables(url)
        assert not TABLES & remaining
        assert {"accounts", "org_units", "audit_log"} <= remaining
        await asyncio.to_thread(run_migrations, url, "0004")
        assert await _tables(url) >= TABLES
    finally:
        await drop_database(url)
