"""Media objects: photos, videos and voice notes, their storage keys and attachment."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID

from app.infra.db.metadata import (
    created_at_column,
    id_column,
    metadata,
    updated_at_column,
    version_column,
)

media_objects = sa.Table(
    "media_objects",
    metadata,
    id_column(),
    sa.Column("owner_account_id", UUID(as_uuid=True), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("content_type", sa.Text, nullable=False),
    sa.Column("size_bytes", sa.BigInteger, nullable=False),
    sa.Column("width", sa.Integer, nullable=True),
    sa.Column("height", sa.Integer, nullable=True),
    sa.Column("sha256", sa.Text, nullable=True),
    # 64-bit perceptual hash of photos (signed, as bigint holds it); NULL for other media
    # and for photos without detail (a flat colour would match every other one).
    sa.Column("phash", sa.BigInteger, nullable=True),
    sa.Column("storage_key", sa.Text, nullable=False),
    sa.Column("thumbnail_key", sa.Text, nullable=True),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("rejection_reason", sa.Text, nullable=True),
    sa.Column("attached_record_type", sa.Text, nullable=True),
    sa.Column("attached_record_id", UUID(as_uuid=True), nullable=True),
    version_column(),
    created_at_column(),
    updated_at_column(),
    sa.CheckConstraint("kind IN ('photo', 'video', 'audio')", name="kind"),
    sa.CheckConstraint("status IN ('pending', 'ready', 'rejected')", name="status"),
    sa.CheckConstraint(
        "(attached_record_type IS NULL) = (attached_record_id IS NULL)", name="attachment_pair"
    ),
    sa.CheckConstraint("attached_record_id IS NULL OR status = 'ready'", name="attached_ready"),
    sa.Index("ix_media_objects_owner_account_id", "owner_account_id"),
    sa.Index("ix_media_objects_phash", "phash"),
    sa.Index(
        "ix_media_objects_attached_record_type_attached_record_id",
        "attached_record_type",
        "attached_record_id",
    ),
)
