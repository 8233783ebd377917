"""Importing this package registers every table on the shared MetaData (for Alembic)."""

from app.infra.db.tables import identity, organisation, platform, volunteers

__all__ = ["identity", "organisation", "platform", "volunteers"]
