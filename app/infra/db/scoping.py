"""SQL twin of ``Scope.sees_station``: every scoped query adds this clause."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from app.domain.shared.scope import Scope


def station_scope(
    station_col: sa.ColumnElement[Any], district_col: sa.ColumnElement[Any], scope: Scope
) -> sa.ColumnElement[bool]:
    """Rows routed to a station the caller covers, or district-queue rows (no station) of a
    district the caller covers. An empty scope matches nothing."""
    if scope.unrestricted:
        return sa.true()
    clauses: list[sa.ColumnElement[bool]] = []
    if scope.station_ids:
        clauses.append(station_col.in_(list(scope.station_ids)))
    if scope.district_ids:
        clauses.append(sa.and_(station_col.is_(None), district_col.in_(list(scope.district_ids))))
    if not clauses:
        return sa.false()
    return sa.or_(*clauses)
