"""The change log behind mobile sync (/me/changes): one row per change of a record in
someone's feed, numbered by a monotonic sequence and tagged with the writing transaction.

``feed`` says whose feed a row belongs to without naming a reporter next to a tip: for
tips it is the reporter's blind index copied from ``tip_informants`` (so the log links
nothing the sealed table does not; hazards likewise, from ``hazard_reporters``), for
notifications, points entries and rewards the owner's account id bytes.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import BYTEA, UUID
from sqlalchemy.dialects.postgresql.base import ischema_names

from app.infra.db.metadata import metadata


class Xid8(sa.types.UserDefinedType[Any]):
    """PostgreSQL's 64-bit transaction id (compared with pg_snapshot_xmin in SQL only)."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "xid8"


# Let reflection (Alembic's model-vs-database comparison) recognise the column type.
ischema_names.setdefault("xid8", Xid8)


change_log = sa.Table(
    "change_log",
    metadata,
    sa.Column("seq", sa.BigInteger, sa.Identity(always=True), primary_key=True),
    sa.Column("xid", Xid8(), nullable=False, server_default=sa.text("pg_current_xact_id()")),
    sa.Column("feed", BYTEA, nullable=False),
    sa.Column("record_type", sa.Text, nullable=False),
    sa.Column("record_id", UUID(as_uuid=True), nullable=False),
    sa.Column("op", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.CheckConstraint(
        "record_type IN ('tip', 'notification', 'hazard', 'points_entry', 'reward')",
        name="record_type",
    ),
    sa.CheckConstraint("op IN ('upsert', 'delete')", name="op"),
    sa.Index(None, "feed", "seq"),
)
