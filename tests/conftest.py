"""Test fixtures. Database tests get one freshly created database per test run, built by
the Alembic migrations and dropped at the end; tests create their own records (unique
codes) and never rely on data they did not create."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.bootstrap.database import drop_database, ensure_database, run_migrations
from app.infra.db.engine import make_engine, make_session_factory
from app.main import create_app
from app.settings import Env, Settings

BASE_URL = os.environ.get(
    "SHOUWANG_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)


def unique(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
async def database_url() -> AsyncIterator[str]:
    name = f"shouwang_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    url = make_url(BASE_URL).set(database=name).render_as_string(hide_password=False)
    await ensure_database(url)
    try:
        await asyncio.to_thread(run_migrations, url, "heads")
        yield url
    finally:
        await drop_database(url)


@pytest.fixture(scope="session")
def sms_outbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sms") / "sms-outbox.jsonl"


@pytest.fixture(scope="session")
def settings(database_url: str, sms_outbox: Path) -> Settings:
    return Settings(
        env=Env.TEST,
        database_url=database_url,
        sms_dev_outbox=sms_outbox,
        db_pool_size=5,
        log_json=False,
    )


@pytest.fixture(scope="session")
async def session_factory(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(database_url, pool_size=3)
    yield make_session_factory(engine)
    await engine.dispose()


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[object]:
    application = create_app(settings)
    yield application
    from app.main import platform_of

    await platform_of(application).aclose()


@pytest.fixture
async def client(app: object) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c
