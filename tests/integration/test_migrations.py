"""Every migration runs up, down to base, and up again (the stairway test), and the
models match the migrated schema."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import make_url

from app.bootstrap.database import downgrade, drop_database, ensure_database, run_migrations
from app.infra.db.engine import make_engine
from app.infra.db.health import head_revisions
from app.infra.db.metadata import metadata

BASE = os.environ.get(
    "SHOUWANG_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture
async def scratch_url() -> AsyncIterator[str]:
    name = f"shouwang_mig_{uuid.uuid4().hex[:10]}"
    url = make_url(BASE).set(database=name).render_as_string(hide_password=False)
    await ensure_database(url)
    try:
        yield url
    finally:
        await drop_database(url)


async def _versions(url: str) -> set[str]:
    engine = make_engine(url, pool_size=1)
    try:
        async with engine.connect() as conn:

            def current(sync_conn):  # type: ignore[no-untyped-def]
                return set(MigrationContext.configure(sync_conn).get_current_heads())

            return await conn.run_sync(current)
    finally:
        await engine.dispose()


async def _diff(url: str) -> list[object]:
    engine = make_engine(url, pool_size=1)
    try:
        async with engine.connect() as conn:

            def diff(sync_conn):  # type: ignore[no-untyped-def]
                ctx = MigrationContext.configure(
                    sync_conn,
                    opts={
                        "include_object": lambda o, n, t, r, c: (
                            not (t == "table" and r and c is None)
                        )
                    },
                )
                return compare_metadata(ctx, metadata)

            return await conn.run_sync(diff)
    finally:
        await engine.dispose()


async def test_up_down_up(scratch_url: str) -> None:
    await asyncio.to_thread(run_migrations, scratch_url, "heads")
    assert await _versions(scratch_url) == head_revisions()
    await asyncio.to_thread(downgrade, scratch_url, "base")
    assert await _versions(scratch_url) == set()
    await asyncio.to_thread(run_migrations, scratch_url, "heads")
    assert await _versions(scratch_url) == head_revisions()


async def test_stairway_each_revision_steps_down_and_up(scratch_url: str) -> None:
    """Walk every revision one step down and back up, so each downgrade is exercised on
    the schema its own upgrade produced."""
    from alembic.script import ScriptDirectory

    from app.infra.db.health import alembic_config

    script = ScriptDirectory.from_config(alembic_config())
    revisions = [r.revision for r in script.walk_revisions("base", "heads")]
    revisions.reverse()  # base first
    for rev in revisions:
        await asyncio.to_thread(run_migrations, scratch_url, rev)
        await asyncio.to_thread(downgrade, scratch_url, "-1")
        await asyncio.to_thread(run_migrations, scratch_url, rev)
        assert await _versions(scratch_url) == {rev}


async def test_models_match_migrations(scratch_url: str) -> None:
    await asyncio.to_thread(run_migrations, scratch_url, "heads")
    assert await _diff(scratch_url) == []
