"""Create the database when absent and run migrations (used by the CLI and tests)."""

from __future__ import annotations

import re

import asyncpg
from alembic import command
from sqlalchemy.engine import make_url

from app.infra.db.health import alembic_config

_SAFE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def _plain_dsn(url: str, database: str | None = None) -> tuple[str, str]:
    parsed = make_url(url)
    name = parsed.database or "shouwang"
    if not _SAFE_NAME.match(name):
        raise ValueError(f"database name must match {_SAFE_NAME.pattern}")
    target = parsed.set(drivername="postgresql", database=database or name)
    return target.render_as_string(hide_password=False), name


async def ensure_database(url: str) -> bool:
    admin_dsn, name = _plain_dsn(url, "postgres")
    conn = await asyncpg.connect(admin_dsn)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists:
            return False
        await conn.execute(f'CREATE DATABASE "{name}"')
        return True
    finally:
        await conn.close()


async def drop_database(url: str) -> None:
    admin_dsn, name = _plain_dsn(url, "postgres")
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def run_migrations(url: str, revision: str = "heads") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)
