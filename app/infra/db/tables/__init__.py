"""Importing this package registers every table on the shared MetaData (for Alembic)."""

from app.infra.db.tables import (
    appeals,
    channels,
    delivery,
    hazards,
    help,
    identity,
    media,
    notifications,
    organisation,
    platform,
    points,
    review,
    rewards,
    sync,
    tips,
    volunteers,
)

__all__ = [
    "appeals",
    "channels",
    "delivery",
    "hazards",
    "help",
    "identity",
    "media",
    "notifications",
    "organisation",
    "platform",
    "points",
    "review",
    "rewards",
    "sync",
    "tips",
    "volunteers",
]
