"""The submission log behind the tip rate limit: digests only, forgotten after the window."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.bootstrap.tips import purge_tip_submissions
from app.bootstrap.worker import TASKS
from app.domain.shared.ids import new_id
from app.infra.db.tables.tips import tip_submissions


async def test_housekeeping_forgets_submissions_past_the_window(
    app: Any, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    assert TASKS["tip_submissions"] is purge_tip_submissions
    key = uuid.uuid4().bytes
    now = datetime.now(UTC)
    old, recent = new_id(), new_id()
    async with session_factory() as s:
        await s.execute(
            sa.insert(tip_submissions),
            [
                {"id": old, "submitter_bidx": key, "at": now - timedelta(hours=2)},
                {"id": recent, "submitter_bidx": key, "at": now - timedelta(minutes=5)},
            ],
        )
        await s.commit()
    assert await purge_tip_submissions(app.state.services) >= 1
    async with session_factory() as s:
        left = (
            (
                await s.execute(
                    sa.select(tip_submissions.c.id).where(tip_submissions.c.submitter_bidx == key)
                )
            )
            .scalars()
            .all()
        )
    assert left == [recent]
