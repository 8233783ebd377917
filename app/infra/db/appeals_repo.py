"""Repository and unit of work of police appeals.

Visibility is decided in SQL: staff see appeals routed into their scope; volunteers
(active or on probation) see live appeals whose target area overlaps the jurisdiction of
their station or of any current team's station. Overlap means shared interior: stations
that merely touch along a border do not see each other's appeals.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from geoalchemy2.shape import from_shape, to_shape
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.appeals.model import Appeal, AppealKind, AppealStatus, Target
from app.domain.appeals.ports import AppealRepository, AppealSlice
from app.domain.media.ports import MediaRepository
from app.domain.shared.clock import Clock
from app.domain.shared.errors import StaleVersion
from app.domain.shared.scope import Scope
from app.infra.db.media_repo import SqlMediaRepository
from app.infra.db.scoping import station_scope
from app.infra.db.tables.appeals import appeals
from app.infra.db.tables.organisation import org_units
from app.infra.db.tables.volunteers import team_memberships, teams, volunteers
from app.infra.db.uow import SqlUnitOfWork

a = appeals
u = org_units
SEEING_STATUSES = ("active", "probation")
TARGET_LEVELS = ("station", "community", "grid")

_COLUMNS = [c for c in a.c if c.name != "target_area"]


def _overlaps(x: Any, y: Any) -> sa.ColumnElement[bool]:
    return sa.and_(sa.func.ST_Intersects(x, y), sa.not_(sa.func.ST_Touches(x, y)))


def _appeal(row: Any) -> Appeal:
    polygon = to_shape(row.target_polygon) if row.target_polygon is not None else None
    return Appeal(
        id=row.id,
        station_id=row.station_id,
        district_id=row.district_id,
        kind=AppealKind(row.kind),
        title=row.title,
        body=row.body,
        target=Target(unit_ids=tuple(row.target_unit_ids or ()), polygon=polygon),
        expires_at=row.expires_at,
        created_by=row.created_by,
        media_ids=tuple(row.media_ids or ()),
        status=AppealStatus(row.status),
        published_at=row.published_at,
        withdrawn_at=row.withdrawn_at,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class SqlAppealRepository(AppealRepository):
    def __init__(self, session: AsyncSession, scope: Scope) -> None:
        self.session = session
        self.scope = scope

    def _volunteer_stations(self) -> sa.CompoundSelect[Any]:
        own = sa.select(volunteers.c.station_id).where(
            volunteers.c.account_id == self.scope.account_id,
            volunteers.c.status.in_(SEEING_STATUSES),
        )
        of_teams = (
            sa.select(teams.c.station_id)
            .select_from(
                team_memberships.join(teams, teams.c.id == team_memberships.c.team_id).join(
                    volunteers, volunteers.c.id == team_memberships.c.volunteer_id
                )
            )
            .where(
                volunteers.c.account_id == self.scope.account_id,
                volunteers.c.status.in_(SEEING_STATUSES),
                team_memberships.c.left_at.is_(None),
            )
        )
        return sa.union(own, of_teams)

    def _visible(self, now: datetime) -> sa.ColumnElement[bool]:
        staff = station_scope(a.c.station_id, a.c.district_id, self.scope)
        if self.scope.unrestricted:
            return staff
        stations = self._volunteer_stations().subquery()
        as_volunteer = sa.and_(
            a.c.status == AppealStatus.PUBLISHED.value,
            a.c.expires_at > now,
            sa.exists().where(
                u.c.id.in_(sa.select(stations.c.station_id)),
                _overlaps(u.c.boundary, a.c.target_area),
            ),
        )
        return sa.or_(staff, as_volunteer)

    async def insert(self, appeal: Appeal) -> None:
        target = appeal.target
        polygon = from_shape(target.polygon, srid=4326) if target.polygon is not None else None
        if polygon is not None:
            area: Any = polygon
        else:
            area = (
                sa.select(sa.func.ST_Multi(sa.func.ST_Union(u.c.boundary)))
                .where(u.c.id.in_(list(target.unit_ids)))
                .scalar_subquery()
            )
        await self.session.execute(
            sa.insert(a).values(
                id=appeal.id,
                station_id=appeal.station_id,
                district_id=appeal.district_id,
                kind=appeal.kind.value,
                title=appeal.title,
                body=appeal.body,
                media_ids=list(appeal.media_ids),
                target_unit_ids=list(target.unit_ids),
                target_polygon=polygon,
                target_area=area,
                status=appeal.status.value,
                published_at=appeal.published_at,
                expires_at=appeal.expires_at,
                created_by=appeal.created_by,
            )
        )

    async def get(self, appeal_id: uuid.UUID, *, now: datetime) -> Appeal | None:
        query = sa.select(*_COLUMNS).where(a.c.id == appeal_id, self._visible(now))
        row = (await self.session.execute(query)).first()
        return _appeal(row) if row else None

    async def page(
        self,
        *,
        now: datetime,
        status: AppealStatus | None,
        limit: int,
        after: uuid.UUID | None,
    ) -> AppealSlice:
        query = sa.select(*_COLUMNS).where(self._visible(now))
        if status is not None:
            query = query.where(a.c.status == status.value)
        if after is not None:
            query = query.where(a.c.id < after)
        rows = (await self.session.execute(query.order_by(a.c.id.desc()).limit(limit + 1))).all()
        return AppealSlice([_appeal(r) for r in rows[:limit]], len(rows) > limit)

    async def save(self, appeal: Appeal, *, expected_version: int | None) -> None:
        version = expected_version if expected_version is not None else appeal.version
        result = await self.session.execute(
            sa.update(a)
            .where(a.c.id == appeal.id, a.c.version == version)
            .values(
                status=appeal.status.value,
                withdrawn_at=appeal.withdrawn_at,
                version=version + 1,
                updated_at=sa.func.now(),
            )
            .returning(a.c.id)
        )
        if result.first() is None:
            raise StaleVersion()

    async def audience(
        self, appeal_id: uuid.UUID, *, now: datetime, after: uuid.UUID | None, limit: int
    ) -> list[uuid.UUID]:
        # The stations whose jurisdiction shares area with the live appeal's target; the
        # same test as ``_visible`` applies to a volunteer's own or team's station.
        v, m = volunteers, team_memberships
        stations = sa.select(u.c.id).where(
            u.c.level == "station",
            sa.exists().where(
                a.c.id == appeal_id,
                a.c.status == AppealStatus.PUBLISHED.value,
                a.c.expires_at > now,
                _overlaps(u.c.boundary, a.c.target_area),
            ),
        )
        in_team = sa.exists().where(
            m.c.volunteer_id == v.c.id,
            m.c.left_at.is_(None),
            m.c.team_id.in_(sa.select(teams.c.id).where(teams.c.station_id.in_(stations))),
        )
        query = (
            sa.select(v.c.account_id)
            .where(
                v.c.account_id.is_not(None),
                v.c.status.in_(SEEING_STATUSES),
                sa.or_(v.c.station_id.in_(stations), in_team),
            )
            .distinct()
            .order_by(v.c.account_id)
            .limit(limit)
        )
        if after is not None:
            query = query.where(v.c.account_id > after)
        return list((await self.session.execute(query)).scalars())

    async def district_of(self, station_id: uuid.UUID) -> uuid.UUID | None:
        query = sa.select(u.c.district_id).where(u.c.id == station_id, u.c.level == "station")
        found: uuid.UUID | None = (await self.session.execute(query)).scalar_one_or_none()
        return found

    async def target_within(
        self, target: Target, station_id: uuid.UUID | None, district_id: uuid.UUID
    ) -> bool:
        if target.polygon is not None:
            unit = station_id if station_id is not None else district_id
            drawn = from_shape(target.polygon, srid=4326)
            query = sa.select(u.c.id).where(u.c.id == unit, _overlaps(u.c.boundary, drawn))
            return (await self.session.execute(query)).first() is not None
        owner = (
            sa.or_(u.c.station_id == station_id, u.c.id == station_id)
            if station_id is not None
            else u.c.district_id == district_id
        )
        query = (
            sa.select(sa.func.count())
            .select_from(u)
            .where(u.c.id.in_(list(target.unit_ids)), u.c.level.in_(TARGET_LEVELS), owner)
        )
        return (await self.session.execute(query)).scalar_one() == len(target.unit_ids)


class SqlAppealsUnitOfWork(SqlUnitOfWork):
    appeals: AppealRepository
    media: MediaRepository

    def __init__(
        self, session_factory: async_sessionmaker[AsyncSession], scope: Scope, clock: Clock
    ) -> None:
        super().__init__(session_factory, scope, clock)

    def _open_repositories(self) -> None:
        self.appeals = SqlAppealRepository(self.session, self.scope)
        # On the same session: photos are attached inside the appeal's own transaction.
        self.media = SqlMediaRepository(self.session)
