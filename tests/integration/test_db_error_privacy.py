"""Database errors reach the logs through the unhandled-error handler: their text names
the statement but not the values bound to it (a whole row of personal data, blind indexes
and tokens would otherwise be dumped with any failing INSERT)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.infra.db.engine import make_engine


async def test_statement_errors_do_not_carry_bound_values(database_url: str) -> None:
    engine = make_engine(database_url, pool_size=1)
    row = {"u": 1, "name": "张三", "phone": "13800138000"}
    insert = sa.text("INSERT INTO pg_temp.people VALUES (:u, :name, :phone)")
    try:
        async with engine.connect() as conn:
            await conn.execute(
                sa.text("CREATE TEMP TABLE people (u int PRIMARY KEY, name text, phone text)")
            )
            await conn.execute(insert, row)
            with pytest.raises(IntegrityError) as caught:
                await conn.execute(insert, row)
    finally:
        await engine.dispose()
    text = str(caught.value)
    assert "people_pkey" in text  # still says what failed
    assert "13800138000" not in text
    assert "张三" not in text
