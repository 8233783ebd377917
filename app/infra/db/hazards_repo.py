"""Repositories and unit of work of hazards (隐患).

Visibility is decided in SQL: staff see hazards routed into their scope; reporters (the
first and those of merged duplicates) see theirs; department accounts see hazards
assigned to their department or account; volunteers serving the station see hazards
awaiting re-inspection. The service then decides how much of it each caller gets.

Every change of a hazard adds a change-log row for each reporter, keyed by the reporter's
blind index (``REPORTER_PURPOSE``), like tips: the log names no account.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from geoalchemy2 import Geometry
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.hazards.model import (
    DISTRICT_ESCALATION_AFTER_DAYS,
    Category,
    Department,
    DepartmentKind,
    DuplicateRule,
    EventKind,
    Hazard,
    HazardEvent,
    HazardStatus,
    Outcome,
    Routing,
    TopCategory,
)
from app.domain.hazards.ports import (
    HazardFilter,
    HazardSlice,
    NearbyHazard,
    StatsLevel,
    StatsRow,
)
from app.domain.help.ports import VolunteerRoster
from app.domain.media.ports import MediaRepository
from app.domain.organisation.model import Placement
from app.domain.shared.clock import Clock
from app.domain.shared.errors import StaleVersion
from app.domain.shared.geo import GeoPoint
from app.domain.shared.ids import new_id
from app.domain.shared.protection import BlindIndexer
from app.domain.shared.scope import Role, Scope
from app.infra.db import raw
from app.infra.db.help_repo import SqlVolunteerRoster, serving_stations
from app.infra.db.media_repo import SqlMediaRepository
from app.infra.db.org_locator import locate_text, placement_of
from app.infra.db.organisation_repo import geography
from app.infra.db.scoping import station_scope
from app.infra.db.tables.hazards import (
    hazard_categories,
    hazard_department_members,
    hazard_departments,
    hazard_events,
    hazard_links,
    hazard_reporters,
    hazards,
)
from app.infra.db.tables.identity import account_roles, accounts
from app.infra.db.tables.organisation import org_units
from app.infra.db.tables.sync import change_log
from app.infra.db.uow import SqlUnitOfWork

h = hazards
r = hazard_reporters
e = hazard_events
m = hazard_department_members
d = hazard_departments
c = hazard_categories
REPORTER_PURPOSE = "hazard.reporter"
ACTIVE = (HazardStatus.ASSIGNED.value, HazardStatus.RECTIFYING.value)


_COLUMNS = (
    *(col for col in h.c if col.name != "location"),
    sa.func.ST_X(sa.cast(h.c.location, Geometry(srid=4326)), type_=sa.Float).label("lon"),
    sa.func.ST_Y(sa.cast(h.c.location, Geometry(srid=4326)), type_=sa.Float).label("lat"),
)


def _hazard(row: Any, reporters: list[uuid.UUID]) -> Hazard:
    return Hazard(
        id=row.id,
        category=TopCategory(row.category),
        description=row.description,
        location=GeoPoint(row.lon, row.lat),
        routing=Routing(row.district_id, row.station_id, row.community_id, row.grid_id),
        reporter_id=row.reporter_id,
        reported_at=row.reported_at,
        media_ids=tuple(row.media_ids or ()),
        subcategory_id=row.subcategory_id,
        place=row.place,
        status=HazardStatus(row.status),
        outcome=Outcome(row.outcome) if row.outcome else None,
        duplicate_of=row.duplicate_of,
        department_id=row.department_id,
        assignee_account_id=row.assignee_account_id,
        deadline=row.deadline,
        rectification_note=row.rectification_note,
        after_media_ids=tuple(row.after_media_ids or ()),
        rectified_by=row.rectified_by,
        escalation=row.escalation,
        verified_at=row.verified_at,
        assigned_at=row.assigned_at,
        rectified_at=row.rectified_at,
        closed_at=row.closed_at,
        version=row.version,
        updated_at=row.updated_at,
        reporters=reporters,
    )


def _state(hazard: Hazard) -> dict[str, Any]:
    """The columns a change may touch."""
    return {
        "status": hazard.status.value,
        "outcome": hazard.outcome.value if hazard.outcome else None,
        "duplicate_of": hazard.duplicate_of,
        "department_id": hazard.department_id,
        "assignee_account_id": hazard.assignee_account_id,
        "deadline": hazard.deadline,
        "rectification_note": hazard.rectification_note,
        "after_media_ids": list(hazard.after_media_ids),
        "media_ids": list(hazard.media_ids),
        "rectified_by": hazard.rectified_by,
        "escalation": hazard.escalation,
        "verified_at": hazard.verified_at,
        "assigned_at": hazard.assigned_at,
        "rectified_at": hazard.rectified_at,
        "closed_at": hazard.closed_at,
    }


# Open hazards of the category reported since $5 within $4 metres of ($2, $3), nearest
# first, not $6 (NULL: none left out), at most {limit} rows: a literal, so PostgreSQL can
# cost the prepared statement's generic plan and stop planning it on every execution (with
# ``LIMIT $n`` it cannot). ST_DWithin on geography is answered from
# the GiST index on location. SQL text: it runs on the driver connection (raw.py), on the
# native pool when outside a transaction.
_HERE = "ST_SetSRID(ST_MakePoint($2::float8, $3::float8), 4326)::geography"
_OPEN_NEAR = f"""
    SELECT h.id, h.category, h.status, h.media_ids[1] AS photo,
           ST_Distance(h.location, {_HERE}) AS distance
    FROM hazards h
    WHERE h.category = $1::text AND h.status <> 'closed' AND h.reported_at >= $5::timestamptz
      AND ST_DWithin(h.location, {_HERE}, $4::float8)"""  # noqa: S608
NEARBY = f"""{_OPEN_NEAR}
      AND ($6::uuid IS NULL OR h.id <> $6::uuid)
    ORDER BY distance, h.id
    LIMIT {{limit}}
"""
# Where the point belongs (org_locator's statement) and the open hazards near it, read
# together for a report: one row per nearby hazard (its columns prefixed near_), or one
# row without them; the unit columns are NULL when no unit covers the point. $1–$5 as in
# NEARBY (nothing left out).
_PLACED_NEARBY = f"""
    WITH here AS ({locate_text("$2::float8", "$3::float8")}),
    near AS ({_OPEN_NEAR}
        ORDER BY distance, h.id
        LIMIT {{limit}})
    SELECT here.*, near.id AS near_id, near.category AS near_category,
           near.status AS near_status, near.photo AS near_photo,
           near.distance AS near_distance
    FROM (SELECT) AS one LEFT JOIN here ON true LEFT JOIN near ON true
    ORDER BY near.distance, near.id
"""  # noqa: S608


@functools.lru_cache(maxsize=32)
def nearby_sql(limit: int) -> str:
    return NEARBY.format(limit=int(limit))


def nearby_args(
    category: TopCategory,
    point: GeoPoint,
    rule: DuplicateRule,
    since: datetime,
    *,
    exclude: uuid.UUID | None = None,
) -> tuple[Any, ...]:
    """The parameters of ``nearby_sql(limit)``."""
    return (category.value, point.lon, point.lat, float(rule.radius_m), since, exclude)


def nearby_of(rows: Sequence[Any], prefix: str = "") -> list[NearbyHazard]:
    return [
        NearbyHazard(
            id=row[f"{prefix}id"],
            category=TopCategory(row[f"{prefix}category"]),
            status=HazardStatus(row[f"{prefix}status"]),
            distance_m=round(float(row[f"{prefix}distance"]) / 10.0) * 10,
            photo_id=row[f"{prefix}photo"],
        )
        for row in rows
        if row[f"{prefix}id"] is not None
    ]


@functools.lru_cache(maxsize=32)
def placed_nearby_sql(limit: int) -> str:
    return _PLACED_NEARBY.format(limit=int(limit))


class SqlNearbyHazards:
    """``NearbyReader``: a report's placement and duplicate check as one statement on the
    native pool."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._single = raw.Autocommit.of(session_factory)

    async def placed_nearby(
        self,
        category: TopCategory,
        point: GeoPoint,
        rule: DuplicateRule,
        since: datetime,
        *,
        limit: int,
    ) -> tuple[Placement | None, list[NearbyHazard]]:
        args = nearby_args(category, point, rule, since)[:5]  # $1–$5 (nothing left out)
        rows = await self._single.fetch(placed_nearby_sql(limit), *args)
        placement = placement_of(rows[0]) if rows and rows[0]["id"] is not None else None
        return placement, nearby_of(rows, "near_")


def event_row(ev: HazardEvent) -> dict[str, Any]:
    """A history entry as a ``hazard_events`` row."""
    return {
        "id": ev.id,
        "hazard_id": ev.hazard_id,
        "kind": ev.kind.value,
        "at": ev.at,
        "from_status": ev.from_status.value if ev.from_status else None,
        "to_status": ev.to_status.value,
        "by_account": ev.by,
        "detail": ev.detail,
    }


def my_departments(account_id: uuid.UUID) -> sa.Select[Any]:
    return sa.select(m.c.department_id).where(m.c.account_id == account_id)


class SqlHazardRepository:
    def __init__(self, session: AsyncSession, scope: Scope, indexer: BlindIndexer) -> None:
        self.session = session
        self.scope = scope
        self.indexer = indexer

    def _bidx(self, account_id: uuid.UUID) -> bytes:
        return self.indexer.index(str(account_id), purpose=REPORTER_PURPOSE)

    def _as_reporter(self) -> sa.ColumnElement[bool]:
        return sa.exists().where(r.c.hazard_id == h.c.id, r.c.account_id == self.scope.account_id)

    def _at_work(self) -> sa.ColumnElement[bool]:
        """Staff of the routing, the assigned department or account, and volunteers of
        the station while it awaits re-inspection."""
        staff = station_scope(h.c.station_id, h.c.district_id, self.scope)
        if self.scope.unrestricted:
            return staff
        me = self.scope.account_id
        department = sa.or_(
            h.c.department_id.in_(my_departments(me)), h.c.assignee_account_id == me
        )
        stations = serving_stations(me).subquery()
        reinspector = sa.and_(
            h.c.status == HazardStatus.RECTIFIED.value,
            h.c.station_id.in_(sa.select(stations.c.station_id)),
        )
        return sa.or_(staff, department, reinspector)

    def _visible(self) -> sa.ColumnElement[bool]:
        if self.scope.unrestricted:
            return sa.true()
        return sa.or_(self._at_work(), self._as_reporter())

    async def _reporters_of(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[uuid.UUID]]:
        found: dict[uuid.UUID, list[uuid.UUID]] = {i: [] for i in ids}
        if ids:
            rows = await self.session.execute(
                sa.select(r.c.hazard_id, r.c.account_id)
                .where(r.c.hazard_id.in_(list(ids)))
                .order_by(r.c.joined_at, r.c.account_id)
            )
            for row in rows:
                found[row.hazard_id].append(row.account_id)
        return found

    async def _load(self, query: sa.Select[Any]) -> list[Hazard]:
        rows = (await self.session.execute(query)).all()
        reporters = await self._reporters_of([row.id for row in rows])
        return [_hazard(row, reporters[row.id]) for row in rows]

    async def _slice(
        self, query: sa.Select[Any], limit: int, after: uuid.UUID | None
    ) -> HazardSlice:
        if after is not None:
            query = query.where(h.c.id < after)
        found = await self._load(query.order_by(h.c.id.desc()).limit(limit + 1))
        return HazardSlice(found[:limit], len(found) > limit)

    async def _write_changes(self, hazard: Hazard) -> None:
        if hazard.new_reporters:
            at = hazard.updated_at or hazard.reported_at
            await self.session.execute(
                pg_insert(r)
                .values(
                    [
                        {
                            "hazard_id": hazard.id,
                            "account_id": account,
                            "reporter_bidx": self._bidx(account),
                            "via_hazard_id": via,
                            "joined_at": at,
                        }
                        for account, via in hazard.new_reporters
                    ]
                )
                .on_conflict_do_nothing()
            )
            hazard.new_reporters.clear()
        if hazard.pending:
            await self.session.execute(
                sa.insert(e),
                [event_row(ev) for ev in hazard.pending],
            )
            hazard.pending.clear()
        # Every reporter's sync feed learns that the hazard changed.
        feed = sa.select(
            r.c.reporter_bidx, sa.literal("hazard"), r.c.hazard_id, sa.literal("upsert")
        ).where(r.c.hazard_id == hazard.id)
        await self.session.execute(
            sa.insert(change_log).from_select(["feed", "record_type", "record_id", "op"], feed)
        )

    async def insert(self, hazard: Hazard) -> bool:
        route = hazard.routing
        stmt = (
            pg_insert(h)
            .values(
                id=hazard.id,
                category=hazard.category.value,
                subcategory_id=hazard.subcategory_id,
                description=hazard.description,
                place=hazard.place,
                location=geography(hazard.location),
                district_id=route.district_id,
                station_id=route.station_id,
                community_id=route.community_id,
                grid_id=route.grid_id,
                reporter_id=hazard.reporter_id,
                reported_at=hazard.reported_at,
                **_state(hazard),
            )
            .on_conflict_do_nothing(index_elements=["id"])
            .returning(h.c.id)
        )
        if (await self.session.execute(stmt)).scalar_one_or_none() is None:
            return False
        await self._write_changes(hazard)
        return True

    async def own(self, hazard_id: uuid.UUID, account_id: uuid.UUID) -> Hazard | None:
        query = sa.select(*_COLUMNS).where(h.c.id == hazard_id, h.c.reporter_id == account_id)
        found = await self._load(query)
        return found[0] if found else None

    async def get(self, hazard_id: uuid.UUID, *, for_update: bool = False) -> Hazard | None:
        query = sa.select(*_COLUMNS).where(h.c.id == hazard_id, self._visible())
        if for_update:
            query = query.with_for_update(of=h)
        found = await self._load(query)
        return found[0] if found else None

    async def exists(self, hazard_id: uuid.UUID) -> bool:
        query = sa.select(h.c.id).where(h.c.id == hazard_id, self._visible())
        return (await self.session.execute(query)).first() is not None

    async def save(self, hazard: Hazard, *, expected_version: int | None) -> None:
        version = expected_version if expected_version is not None else hazard.version
        result = await self.session.execute(
            sa.update(h)
            .where(h.c.id == hazard.id, h.c.version == version)
            .values(**_state(hazard), version=h.c.version + 1, updated_at=sa.func.now())
            .returning(h.c.version)
        )
        new_version = result.scalar_one_or_none()
        if new_version is None:
            raise StaleVersion()
        hazard.version = new_version
        await self._write_changes(hazard)

    async def link(self, merged_id: uuid.UUID, survivor_id: uuid.UUID) -> None:
        await self.session.execute(
            pg_insert(hazard_links)
            .values(
                [
                    {"hazard_id": merged_id, "linked_id": survivor_id},
                    {"hazard_id": survivor_id, "linked_id": merged_id},
                ]
            )
            .on_conflict_do_nothing()
        )

    async def linked(self, hazard_id: uuid.UUID) -> list[uuid.UUID]:
        rows = await self.session.execute(
            sa.select(hazard_links.c.linked_id)
            .where(hazard_links.c.hazard_id == hazard_id)
            .order_by(hazard_links.c.linked_id)
        )
        return list(rows.scalars())

    async def events(self, hazard_id: uuid.UUID) -> list[HazardEvent]:
        rows = await self.session.execute(
            sa.select(e).where(e.c.hazard_id == hazard_id).order_by(e.c.id)
        )
        return [
            HazardEvent(
                id=row.id,
                hazard_id=row.hazard_id,
                kind=EventKind(row.kind),
                at=row.at,
                from_status=HazardStatus(row.from_status) if row.from_status else None,
                to_status=HazardStatus(row.to_status),
                by=row.by_account,
                detail=dict(row.detail or {}),
            )
            for row in rows
        ]

    async def page(
        self, where: HazardFilter, *, limit: int, after: uuid.UUID | None
    ) -> HazardSlice:
        query = sa.select(*_COLUMNS).where(self._at_work())
        if where.status is not None:
            query = query.where(h.c.status == where.status.value)
        if where.category is not None:
            query = query.where(h.c.category == where.category.value)
        if where.overdue_on is not None:
            query = query.where(h.c.status.in_(ACTIVE), h.c.deadline < where.overdue_on)
        return await self._slice(query, limit, after)

    async def of_reporter(
        self, account_id: uuid.UUID, *, limit: int, after: uuid.UUID | None
    ) -> HazardSlice:
        mine = sa.select(r.c.hazard_id).where(r.c.account_id == account_id)
        query = sa.select(*_COLUMNS).where(h.c.id.in_(mine))
        return await self._slice(query, limit, after)

    async def nearby(
        self,
        category: TopCategory,
        point: GeoPoint,
        rule: DuplicateRule,
        since: datetime,
        *,
        limit: int,
        exclude: uuid.UUID | None = None,
    ) -> list[NearbyHazard]:
        args = nearby_args(category, point, rule, since, exclude=exclude)
        return nearby_of(await raw.fetch(self.session, nearby_sql(limit), *args))

    async def overdue(self, today: date, *, limit: int) -> list[Hazard]:
        due = sa.case(
            (h.c.deadline <= today - timedelta(days=DISTRICT_ESCALATION_AFTER_DAYS), 2),
            else_=1,
        )
        query = (
            sa.select(*_COLUMNS)
            .where(h.c.status.in_(ACTIVE), h.c.deadline < today, h.c.escalation < due)
            .order_by(h.c.deadline, h.c.id)
            .limit(limit)
            .with_for_update(of=h, skip_locked=True)
        )
        return await self._load(query)

    async def stats(
        self, level: StatsLevel, start: datetime, end: datetime, today: date
    ) -> list[StatsRow]:
        unit = {
            StatsLevel.GRID: h.c.grid_id,
            StatsLevel.COMMUNITY: h.c.community_id,
            StatsLevel.STATION: h.c.station_id,
            StatsLevel.DISTRICT: h.c.district_id,
        }[level]
        real = sa.and_(
            h.c.outcome == Outcome.REAL.value, h.c.verified_at >= start, h.c.verified_at < end
        )
        done = sa.and_(real, h.c.status == HazardStatus.CLOSED.value)
        overdue = sa.and_(h.c.status.in_(ACTIVE), h.c.deadline < today)
        hours = sa.func.extract("epoch", h.c.rectified_at - h.c.assigned_at) / 3600.0
        verified_real = sa.func.count().filter(real).label("verified_real")
        rectified = sa.func.count().filter(done).label("rectified_closed")
        late = sa.func.count().filter(overdue).label("overdue")
        escalated = sa.func.count().filter(sa.and_(overdue, h.c.escalation >= 2))
        median = (
            sa.func.percentile_cont(0.5)
            .within_group(hours)
            .filter(sa.and_(done, h.c.rectified_at.is_not(None)))
        )
        query = (
            sa.select(
                unit.label("unit_id"),
                org_units.c.name.label("unit_name"),
                verified_real,
                rectified,
                median.label("median_hours"),
                late,
                escalated.label("escalated"),
            )
            .select_from(h.outerjoin(org_units, org_units.c.id == unit))
            .where(station_scope(h.c.station_id, h.c.district_id, self.scope))
            .group_by(unit, org_units.c.name)
            .having(sa.or_(verified_real > 0, late > 0))
            .order_by(org_units.c.name.nulls_last(), unit)
        )
        rows = await self.session.execute(query)
        return [
            StatsRow(
                unit_id=row.unit_id,
                unit_name=row.unit_name,
                verified_real=int(row.verified_real),
                rectified_closed=int(row.rectified_closed),
                median_hours_to_rectify=(
                    round(float(row.median_hours), 2) if row.median_hours is not None else None
                ),
                overdue=int(row.overdue),
                escalated_to_district=int(row.escalated),
            )
            for row in rows
        ]


def _category(row: Any) -> Category:
    return Category(
        id=row.id,
        district_id=row.district_id,
        top=TopCategory(row.top),
        code=row.code,
        name_zh=row.name_zh,
        name_en=row.name_en,
        department_id=row.department_id,
        rectification_days=row.rectification_days,
        duplicate_radius_m=row.duplicate_radius_m,
        duplicate_window_days=row.duplicate_window_days,
    )


class SqlCategoryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, category: Category) -> bool:
        stmt = (
            pg_insert(c)
            .values(
                id=category.id,
                district_id=category.district_id,
                top=category.top.value,
                code=category.code,
                name_zh=category.name_zh,
                name_en=category.name_en,
                department_id=category.department_id,
                rectification_days=category.rectification_days,
                duplicate_radius_m=category.duplicate_radius_m,
                duplicate_window_days=category.duplicate_window_days,
            )
            .on_conflict_do_nothing(index_elements=["district_id", "code"])
            .returning(c.c.id)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None

    async def get(self, category_id: uuid.UUID) -> Category | None:
        row = (await self.session.execute(sa.select(c).where(c.c.id == category_id))).first()
        return _category(row) if row else None

    async def list(self, district_id: uuid.UUID | None) -> list[Category]:
        query = sa.select(c).order_by(c.c.top, c.c.code)
        if district_id is not None:
            query = query.where(c.c.district_id == district_id)
        return [_category(row) for row in await self.session.execute(query)]


def _department(row: Any) -> Department:
    return Department(row.id, row.district_id, row.name, DepartmentKind(row.kind))


class SqlDepartmentRepository:
    def __init__(self, session: AsyncSession, scope: Scope) -> None:
        self.session = session
        self.scope = scope

    async def add(self, department: Department) -> None:
        await self.session.execute(
            sa.insert(d).values(
                id=department.id,
                district_id=department.district_id,
                name=department.name,
                kind=department.kind.value,
            )
        )

    async def get(self, department_id: uuid.UUID) -> Department | None:
        row = (await self.session.execute(sa.select(d).where(d.c.id == department_id))).first()
        return _department(row) if row else None

    async def visible(self) -> list[Department]:
        query = sa.select(d).order_by(d.c.name, d.c.id)
        if not self.scope.unrestricted:
            of_stations = sa.select(org_units.c.district_id).where(
                org_units.c.id.in_(list(self.scope.station_ids))
            )
            clauses = [d.c.id.in_(my_departments(self.scope.account_id))]
            if self.scope.is_staff:
                clauses += [
                    d.c.district_id.in_(list(self.scope.district_ids)),
                    d.c.district_id.in_(of_stations),
                ]
            query = query.where(sa.or_(*clauses))
        return [_department(row) for row in await self.session.execute(query)]

    async def add_member(self, department_id: uuid.UUID, account_id: uuid.UUID) -> bool:
        added = await self.session.execute(
            pg_insert(m)
            .values(department_id=department_id, account_id=account_id)
            .on_conflict_do_nothing()
            .returning(m.c.account_id)
        )
        if added.scalar_one_or_none() is None:
            return False
        await self.session.execute(
            pg_insert(account_roles)
            .values(
                id=new_id(),
                account_id=account_id,
                role=Role.DEPARTMENT.value,
                unit_id=None,
                granted_by=self.scope.account_id,
            )
            .on_conflict_do_nothing()
        )
        return True

    async def account_exists(self, account_id: uuid.UUID) -> bool:
        query = sa.select(accounts.c.id).where(accounts.c.id == account_id)
        return (await self.session.execute(query)).first() is not None

    async def of_account(self, account_id: uuid.UUID) -> frozenset[uuid.UUID]:
        rows = await self.session.execute(my_departments(account_id))
        return frozenset(rows.scalars())

    async def members(self, department_id: uuid.UUID) -> list[uuid.UUID]:
        rows = await self.session.execute(
            sa.select(m.c.account_id)
            .where(m.c.department_id == department_id)
            .order_by(m.c.created_at, m.c.account_id)
        )
        return list(rows.scalars())

    async def staff(self, station_id: uuid.UUID | None, district_id: uuid.UUID) -> list[uuid.UUID]:
        ar = account_roles
        if station_id is not None:
            where = sa.and_(
                ar.c.role.in_((Role.OFFICER.value, Role.STATION_ADMIN.value)),
                ar.c.unit_id == station_id,
            )
        else:
            where = sa.and_(ar.c.role == Role.DISTRICT_ADMIN.value, ar.c.unit_id == district_id)
        rows = await self.session.execute(
            sa.select(ar.c.account_id)
            .join(accounts, accounts.c.id == ar.c.account_id)
            .where(where, accounts.c.status == "active")
            .distinct()
        )
        return sorted(rows.scalars())


class SqlHazardUnitOfWork(SqlUnitOfWork):
    hazards: SqlHazardRepository
    categories: SqlCategoryRepository
    departments: SqlDepartmentRepository
    roster: VolunteerRoster
    media: MediaRepository

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        scope: Scope,
        clock: Clock,
        indexer: BlindIndexer,
    ) -> None:
        super().__init__(session_factory, scope, clock)
        self._indexer = indexer

    def _open_repositories(self) -> None:
        self.hazards = SqlHazardRepository(self.session, self.scope, self._indexer)
        self.categories = SqlCategoryRepository(self.session)
        self.departments = SqlDepartmentRepository(self.session, self.scope)
        self.roster = SqlVolunteerRoster(self.session)
        # On the same session: photos are attached inside the hazard's own transaction.
        self.media = SqlMediaRepository(self.session)
