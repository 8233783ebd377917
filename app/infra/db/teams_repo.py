"""Teams and their membership history, filtered by the caller's scope in SQL."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.shared.errors import StaleVersion
from app.domain.shared.scope import Scope
from app.domain.volunteers.glossary import TeamType
from app.domain.volunteers.ports import TeamFilter
from app.domain.volunteers.teams import Membership, Team
from app.infra.db.scoping import station_scope
from app.infra.db.tables.volunteers import team_memberships, teams, volunteers

t = teams
m = team_memberships


def team_visible(scope: Scope) -> sa.ColumnElement[bool]:
    """Staff see their jurisdiction's teams; a volunteer sees the teams they belong to."""
    # Aliases, so the subquery never correlates with memberships in the outer query.
    own_m, own_v = team_memberships.alias("own_m"), volunteers.alias("own_v")
    own_membership = sa.exists().where(
        own_m.c.team_id == t.c.id,
        own_m.c.left_at.is_(None),
        own_m.c.volunteer_id == own_v.c.id,
        own_v.c.account_id == scope.account_id,
    )
    return sa.or_(station_scope(t.c.station_id, t.c.district_id, scope), own_membership)


def _team(row: Any) -> Team:
    return Team(
        id=row.id,
        station_id=row.station_id,
        district_id=row.district_id,
        brand=row.brand,
        name=row.name,
        type=TeamType(row.type),
        created_at=row.created_at,
        leader_id=row.leader_id,
        version=row.version,
    )


def _membership(row: Any) -> Membership:
    return Membership(
        id=row.id,
        team_id=row.team_id,
        volunteer_id=row.volunteer_id,
        joined_at=row.joined_at,
        left_at=row.left_at,
        added_by=row.added_by,
        removed_by=row.removed_by,
    )


class SqlTeamRepository:
    def __init__(self, session: AsyncSession, scope: Scope) -> None:
        self._s = session
        self._scope = scope

    async def add(self, team: Team) -> None:
        await self._s.execute(
            sa.insert(t).values(
                id=team.id,
                station_id=team.station_id,
                district_id=team.district_id,
                brand=team.brand,
                name=team.name,
                type=team.type.value,
                leader_id=team.leader_id,
                created_at=team.created_at,
                updated_at=team.created_at,
            )
        )

    async def get(self, team_id: uuid.UUID, *, for_update: bool = False) -> Team | None:
        query = sa.select(t).where(t.c.id == team_id, team_visible(self._scope))
        if for_update:
            query = query.with_for_update(of=t)
        row = (await self._s.execute(query)).first()
        return _team(row) if row is not None else None

    async def get_many(self, ids: Sequence[uuid.UUID]) -> list[Team]:
        if not ids:
            return []
        query = sa.select(t).where(t.c.id.in_(list(ids)), team_visible(self._scope))
        return [_team(r) for r in (await self._s.execute(query)).all()]

    async def update(self, team: Team, *, expected_version: int | None) -> None:
        version = expected_version if expected_version is not None else team.version
        result = await self._s.execute(
            sa.update(t)
            .where(t.c.id == team.id, t.c.version == version)
            .values(
                brand=team.brand,
                name=team.name,
                type=team.type.value,
                leader_id=team.leader_id,
                version=t.c.version + 1,
                updated_at=sa.func.now(),
            )
            .returning(t.c.version)
        )
        new_version = result.scalar_one_or_none()
        if new_version is None:
            raise StaleVersion()
        team.version = new_version

    async def search(self, flt: TeamFilter, *, limit: int, after: uuid.UUID | None) -> list[Team]:
        query = sa.select(t).where(team_visible(self._scope))
        if after is not None:
            query = query.where(t.c.id < after)
        if flt.station_id is not None:
            query = query.where(t.c.station_id == flt.station_id)
        if flt.type is not None:
            query = query.where(t.c.type == flt.type.value)
        if flt.brand:
            query = query.where(t.c.brand == flt.brand)
        query = query.order_by(t.c.id.desc()).limit(limit)
        return [_team(r) for r in (await self._s.execute(query)).all()]

    async def add_membership(self, membership: Membership) -> None:
        await self._s.execute(
            sa.insert(m).values(
                id=membership.id,
                team_id=membership.team_id,
                volunteer_id=membership.volunteer_id,
                joined_at=membership.joined_at,
                added_by=membership.added_by,
            )
        )

    async def end_membership(
        self, team_id: uuid.UUID, volunteer_id: uuid.UUID, *, at: datetime, by: uuid.UUID
    ) -> bool:
        result = await self._s.execute(
            sa.update(m)
            .where(m.c.team_id == team_id, m.c.volunteer_id == volunteer_id, m.c.left_at.is_(None))
            .values(left_at=at, removed_by=by)
            .returning(m.c.id)
        )
        return result.first() is not None

    async def is_member(self, team_id: uuid.UUID, volunteer_id: uuid.UUID) -> bool:
        query = sa.select(
            sa.exists().where(
                m.c.team_id == team_id, m.c.volunteer_id == volunteer_id, m.c.left_at.is_(None)
            )
        )
        return bool((await self._s.execute(query)).scalar())

    async def current_members(
        self, team_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[Membership]]:
        out: dict[uuid.UUID, list[Membership]] = {i: [] for i in team_ids}
        if not team_ids:
            return out
        # Only teams the caller sees: the roster of a foreign team stays hidden.
        query = (
            sa.select(m)
            .join(t, t.c.id == m.c.team_id)
            .where(m.c.team_id.in_(list(team_ids)), m.c.left_at.is_(None))
            .where(team_visible(self._scope))
            .order_by(m.c.joined_at, m.c.id)
        )
        for row in await self._s.execute(query):
            out[row.team_id].append(_membership(row))
        return out

    async def current_teams(
        self, volunteer_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[Team]]:
        out: dict[uuid.UUID, list[Team]] = {i: [] for i in volunteer_ids}
        if not volunteer_ids:
            return out
        query = (
            sa.select(t, m.c.volunteer_id.label("member_id"))
            .join(m, m.c.team_id == t.c.id)
            .where(m.c.volunteer_id.in_(list(volunteer_ids)), m.c.left_at.is_(None))
            .where(team_visible(self._scope))
            .order_by(t.c.id)
        )
        for row in await self._s.execute(query):
            out[row.member_id].append(_team(row))
        return out

    async def public_teams_of(self, volunteer_id: uuid.UUID) -> list[Team]:
        query = (
            sa.select(t)
            .join(m, m.c.team_id == t.c.id)
            .where(m.c.volunteer_id == volunteer_id, m.c.left_at.is_(None))
            .order_by(t.c.id)
        )
        return [_team(r) for r in (await self._s.execute(query)).all()]

    async def led_by(self, volunteer_id: uuid.UUID) -> list[Team]:
        query = sa.select(t).where(t.c.leader_id == volunteer_id)
        return [_team(r) for r in (await self._s.execute(query)).all()]

    async def end_all_memberships(
        self, volunteer_id: uuid.UUID, *, at: datetime, by: uuid.UUID
    ) -> list[uuid.UUID]:
        result = await self._s.execute(
            sa.update(m)
            .where(m.c.volunteer_id == volunteer_id, m.c.left_at.is_(None))
            .values(left_at=at, removed_by=by)
            .returning(m.c.team_id)
        )
        return [row.team_id for row in result]
