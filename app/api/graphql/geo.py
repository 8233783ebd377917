"""The one GraphQL `Crs` enum: every context that takes or shows a location imports `Crs`
from here, so the schema never grows a second coordinate-system enum."""

from __future__ import annotations

import strawberry

from app.domain.shared.geo import Crs

strawberry.enum(Crs, name="Crs", description="Coordinate reference system of a location")

__all__ = ["Crs"]
