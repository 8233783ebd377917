from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

from app.domain.shared.health import Readiness

ROOT = Path(__file__).resolve().parents[3]


def alembic_config(url: str | None = None) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    if url:
        config.set_main_option("sqlalchemy.url", url)
    return config


def head_revisions() -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


class DatabaseHealthProbe:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._heads = head_revisions()

    async def readiness(self) -> Readiness:
        try:
            async with self._engine.connect() as conn:
                rows = (
                    await conn.execute(sa.text("SELECT version_num FROM alembic_version"))
                ).all()
        except Exception as exc:
            return Readiness(database=False, migrations_current=False, detail=type(exc).__name__)
        current = {r[0] for r in rows}
        if current != self._heads:
            return Readiness(True, False, "database schema is not at the migration head")
        return Readiness(True, True)
