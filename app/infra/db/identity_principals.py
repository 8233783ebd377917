"""Loads what the authenticator needs per request in one query: the account's status, the
session's revocation, the roles with their units and, for district-bound roles, every
station of the district."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from app.domain.identity.model import AccountStatus, RoleBinding, UnitLevel
from app.domain.identity.ports import Principal
from app.domain.shared.scope import Role
from app.infra.db import raw
from app.infra.db.identity_repo import district_key, station_key
from app.infra.db.tables.identity import account_roles, accounts, auth_sessions
from app.infra.db.tables.organisation import org_units


def _principal_statement(account_id: Any, session_id: Any) -> sa.Select[Any]:
    stations = org_units.alias("district_station")
    district_stations = (
        sa.select(sa.func.array_agg(stations.c.id))
        .where(
            stations.c.level == UnitLevel.STATION.value, stations.c.district_id == org_units.c.id
        )
        .scalar_subquery()
    )
    return (
        sa.select(
            accounts.c.status,
            auth_sessions.c.revoked_at,
            account_roles.c.role,
            account_roles.c.unit_id,
            org_units.c.level,
            station_key(org_units).label("station_id"),
            district_key(org_units).label("district_id"),
            sa.case(
                (org_units.c.level == UnitLevel.DISTRICT.value, district_stations), else_=None
            ).label("district_stations"),
        )
        .select_from(
            accounts.join(
                auth_sessions,
                sa.and_(
                    auth_sessions.c.account_id == accounts.c.id, auth_sessions.c.id == session_id
                ),
            )
            .outerjoin(account_roles, account_roles.c.account_id == accounts.c.id)
            .outerjoin(org_units, org_units.c.id == account_roles.c.unit_id)
        )
        .where(accounts.c.id == account_id)
    )


# Built once: it runs on every authenticated request, and building the statement cost
# more than PostgreSQL needs to answer it.
_PRINCIPAL = raw.Compiled(
    _principal_statement(
        sa.bindparam("account_id", type_=sa.Uuid), sa.bindparam("session_id", type_=sa.Uuid)
    )
)


class SqlPrincipalReader:
    """One statement, so it runs outside a transaction (autocommit): no BEGIN/ROLLBACK
    round trips on every authenticated request."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._single = raw.Autocommit(engine)

    async def load(self, account_id: uuid.UUID, session_id: uuid.UUID) -> Principal | None:
        args = _PRINCIPAL.args(account_id=account_id, session_id=session_id)
        rows = await self._single.fetch(_PRINCIPAL.sql, *args)
        if not rows:
            return None
        bindings = tuple(
            RoleBinding(
                role=Role(r["role"]),
                unit_id=r["unit_id"],
                unit_level=UnitLevel(r["level"]) if r["level"] else None,
                station_id=r["station_id"],
                district_id=r["district_id"],
                district_station_ids=frozenset(r["district_stations"] or ()),
            )
            for r in rows
            if r["role"] is not None
        )
        first = rows[0]
        return Principal(
            account_id=account_id,
            status=AccountStatus(first["status"]),
            session_revoked=first["revoked_at"] is not None,
            bindings=bindings,
        )
