"""Importing this package registers every table on the shared MetaData (for Alembic)."""

from app.infra.db.tables import (
    delivery,
    identity,
    media,
    notifications,
    organisation,
    platform,
    tips,
    volunteers,
)

__all__ = [
    "delivery",
    "identity",
    "media",
    "notifications",
    "organisation",
    "platform",
    "tips",
    "volunteers",
]
