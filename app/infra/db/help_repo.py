"""Repository and unit of work of help requests (群众求助).

Visibility is decided in SQL: staff see requests routed into their scope; the requester
sees their own; volunteers (active or on probation) see OPEN requests routed to their
station or to a current team's station; the accepted helper sees the request they help
with. The service then decides how much of it each caller gets.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from geoalchemy2 import Geometry
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.help.model import (
    EventKind,
    HelpEvent,
    HelpKind,
    HelpOutcome,
    HelpRequest,
    HelpStatus,
    Offer,
    OfferStatus,
    Routing,
)
from app.domain.help.ports import (
    HelperCard,
    HelpFilter,
    HelpRepository,
    HelpSlice,
    ServingVolunteer,
    VolunteerRoster,
)
from app.domain.media.ports import MediaRepository
from app.domain.shared.clock import Clock
from app.domain.shared.errors import StaleVersion
from app.domain.shared.geo import GeoPoint
from app.domain.shared.personal_data import mask_name
from app.domain.shared.scope import Scope
from app.infra.db.media_repo import SqlMediaRepository
from app.infra.db.organisation_repo import geography
from app.infra.db.scoping import station_scope
from app.infra.db.tables.help import help_events, help_offers, help_requests
from app.infra.db.tables.volunteers import team_memberships, teams, volunteers
from app.infra.db.uow import SqlUnitOfWork

h = help_requests
o = help_offers
e = help_events
SERVING_STATUSES = ("active", "probation")


_COLUMNS = (
    *(c for c in h.c if c.name != "location"),
    sa.func.ST_X(sa.cast(h.c.location, Geometry(srid=4326)), type_=sa.Float).label("lon"),
    sa.func.ST_Y(sa.cast(h.c.location, Geometry(srid=4326)), type_=sa.Float).label("lat"),
)


def _request(row: Any, offers: list[Offer]) -> HelpRequest:
    return HelpRequest(
        id=row.id,
        kind=HelpKind(row.kind),
        description=row.description,
        location=GeoPoint(row.lon, row.lat),
        routing=Routing(row.district_id, row.station_id, row.community_id, row.grid_id),
        requester_id=row.requester_id,
        submitted_at=row.submitted_at,
        media_ids=tuple(row.media_ids or ()),
        status=HelpStatus(row.status),
        outcome=HelpOutcome(row.outcome) if row.outcome else None,
        resolution_note=row.resolution_note,
        accepted_offer_id=row.accepted_offer_id,
        version=row.version,
        updated_at=row.updated_at,
        offers=offers,
    )


def _offer(row: Any) -> Offer:
    return Offer(
        id=row.id,
        request_id=row.request_id,
        volunteer_id=row.volunteer_id,
        account_id=row.account_id,
        note=row.note,
        status=OfferStatus(row.status),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def serving_stations(account_id: uuid.UUID) -> sa.CompoundSelect[Any]:
    """Stations the account serves as a volunteer: their own and current teams'."""
    own = sa.select(volunteers.c.station_id).where(
        volunteers.c.account_id == account_id,
        volunteers.c.status.in_(SERVING_STATUSES),
    )
    of_teams = (
        sa.select(teams.c.station_id)
        .select_from(
            team_memberships.join(teams, teams.c.id == team_memberships.c.team_id).join(
                volunteers, volunteers.c.id == team_memberships.c.volunteer_id
            )
        )
        .where(
            volunteers.c.account_id == account_id,
            volunteers.c.status.in_(SERVING_STATUSES),
            team_memberships.c.left_at.is_(None),
        )
    )
    return sa.union(own, of_teams)


class SqlHelpRepository(HelpRepository):
    def __init__(self, session: AsyncSession, scope: Scope) -> None:
        self.session = session
        self.scope = scope

    def _visible(self) -> sa.ColumnElement[bool]:
        staff = station_scope(h.c.station_id, h.c.district_id, self.scope)
        if self.scope.unrestricted:
            return staff
        me = self.scope.account_id
        stations = serving_stations(me).subquery()
        as_volunteer = sa.and_(
            h.c.status == HelpStatus.OPEN.value,
            h.c.station_id.in_(sa.select(stations.c.station_id)),
        )
        as_helper = sa.exists().where(
            o.c.id == h.c.accepted_offer_id,
            o.c.account_id == me,
            o.c.status == OfferStatus.ACCEPTED.value,
        )
        return sa.or_(staff, h.c.requester_id == me, as_volunteer, as_helper)

    async def _offers_of(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Offer]]:
        found: dict[uuid.UUID, list[Offer]] = {i: [] for i in ids}
        if ids:
            rows = await self.session.execute(
                sa.select(o).where(o.c.request_id.in_(list(ids))).order_by(o.c.id)
            )
            for row in rows:
                found[row.request_id].append(_offer(row))
        return found

    async def _load(self, query: sa.Select[Any]) -> list[HelpRequest]:
        rows = (await self.session.execute(query)).all()
        offers = await self._offers_of([r.id for r in rows])
        return [_request(r, offers[r.id]) for r in rows]

    async def _slice(self, query: sa.Select[Any], limit: int, after: uuid.UUID | None) -> HelpSlice:
        if after is not None:
            query = query.where(h.c.id < after)
        found = await self._load(query.order_by(h.c.id.desc()).limit(limit + 1))
        return HelpSlice(found[:limit], len(found) > limit)

    async def _write_changes(self, request: HelpRequest) -> None:
        if request.changed_offers:
            values = [
                {
                    "id": of.id,
                    "request_id": of.request_id,
                    "volunteer_id": of.volunteer_id,
                    "account_id": of.account_id,
                    "note": of.note,
                    "status": of.status.value,
                    "created_at": of.created_at,
                    "updated_at": of.updated_at,
                }
                for of in request.changed_offers.values()
            ]
            stmt = pg_insert(o).values(values)
            await self.session.execute(
                stmt.on_conflict_do_update(
                    index_elements=[o.c.id],
                    set_={"status": stmt.excluded.status, "updated_at": stmt.excluded.updated_at},
                )
            )
            request.changed_offers.clear()
        if request.pending:
            await self.session.execute(
                sa.insert(e),
                [
                    {
                        "id": ev.id,
                        "request_id": ev.request_id,
                        "kind": ev.kind.value,
                        "at": ev.at,
                        "from_status": ev.from_status.value if ev.from_status else None,
                        "to_status": ev.to_status.value,
                        "by_account": ev.by,
                        "detail": ev.detail,
                    }
                    for ev in request.pending
                ],
            )
            request.pending.clear()

    async def insert(self, request: HelpRequest) -> bool:
        r = request.routing
        stmt = (
            pg_insert(h)
            .values(
                id=request.id,
                kind=request.kind.value,
                description=request.description,
                location=geography(request.location),
                district_id=r.district_id,
                station_id=r.station_id,
                community_id=r.community_id,
                grid_id=r.grid_id,
                media_ids=list(request.media_ids),
                requester_id=request.requester_id,
                status=request.status.value,
                submitted_at=request.submitted_at,
            )
            .on_conflict_do_nothing(index_elements=["id"])
            .returning(h.c.id)
        )
        if (await self.session.execute(stmt)).scalar_one_or_none() is None:
            return False
        await self._write_changes(request)
        return True

    async def own(self, request_id: uuid.UUID, account_id: uuid.UUID) -> HelpRequest | None:
        query = sa.select(*_COLUMNS).where(h.c.id == request_id, h.c.requester_id == account_id)
        found = await self._load(query)
        return found[0] if found else None

    async def get(self, request_id: uuid.UUID, *, for_update: bool = False) -> HelpRequest | None:
        query = sa.select(*_COLUMNS).where(h.c.id == request_id, self._visible())
        if for_update:
            query = query.with_for_update(of=h)
        found = await self._load(query)
        return found[0] if found else None

    async def exists(self, request_id: uuid.UUID) -> bool:
        query = sa.select(h.c.id).where(h.c.id == request_id, self._visible())
        return (await self.session.execute(query)).first() is not None

    async def save(self, request: HelpRequest, *, expected_version: int | None) -> None:
        version = expected_version if expected_version is not None else request.version
        result = await self.session.execute(
            sa.update(h)
            .where(h.c.id == request.id, h.c.version == version)
            .values(
                status=request.status.value,
                outcome=request.outcome.value if request.outcome else None,
                resolution_note=request.resolution_note,
                accepted_offer_id=request.accepted_offer_id,
                version=h.c.version + 1,
                updated_at=sa.func.now(),
            )
            .returning(h.c.version)
        )
        new_version = result.scalar_one_or_none()
        if new_version is None:
            raise StaleVersion()
        request.version = new_version
        await self._write_changes(request)

    async def events(self, request_id: uuid.UUID) -> list[HelpEvent]:
        rows = await self.session.execute(
            sa.select(e).where(e.c.request_id == request_id).order_by(e.c.id)
        )
        return [
            HelpEvent(
                id=r.id,
                request_id=r.request_id,
                kind=EventKind(r.kind),
                at=r.at,
                from_status=HelpStatus(r.from_status) if r.from_status else None,
                to_status=HelpStatus(r.to_status),
                by=r.by_account,
                detail=dict(r.detail or {}),
            )
            for r in rows
        ]

    async def page(self, where: HelpFilter, *, limit: int, after: uuid.UUID | None) -> HelpSlice:
        query = sa.select(*_COLUMNS).where(
            station_scope(h.c.station_id, h.c.district_id, self.scope)
        )
        if where.status is not None:
            query = query.where(h.c.status == where.status.value)
        if where.kind is not None:
            query = query.where(h.c.kind == where.kind.value)
        return await self._slice(query, limit, after)

    async def of_requester(
        self, account_id: uuid.UUID, *, limit: int, after: uuid.UUID | None
    ) -> HelpSlice:
        query = sa.select(*_COLUMNS).where(h.c.requester_id == account_id)
        return await self._slice(query, limit, after)

    async def nearby(
        self,
        point: GeoPoint,
        radius_m: float,
        station_ids: frozenset[uuid.UUID],
        *,
        limit: int,
        after: uuid.UUID | None,
    ) -> HelpSlice:
        if not station_ids:
            return HelpSlice([], False)
        query = sa.select(*_COLUMNS).where(
            h.c.status == HelpStatus.OPEN.value,
            h.c.station_id.in_(list(station_ids)),
            sa.func.ST_DWithin(h.c.location, geography(point), radius_m),
        )
        return await self._slice(query, limit, after)


class SqlVolunteerRoster(VolunteerRoster):
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def serving(self, account_id: uuid.UUID) -> ServingVolunteer | None:
        v = volunteers
        row = (
            await self.session.execute(
                sa.select(v.c.id)
                .where(v.c.account_id == account_id, v.c.status.in_(SERVING_STATUSES))
                .order_by(v.c.id)
                .limit(1)
            )
        ).first()
        if row is None:
            return None
        stations = serving_stations(account_id).subquery()
        found = await self.session.execute(
            sa.select(stations.c.station_id).where(stations.c.station_id.is_not(None))
        )
        return ServingVolunteer(row.id, frozenset(found.scalars()))

    async def cards(self, volunteer_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, HelperCard]:
        v = volunteers
        rows = await self.session.execute(
            sa.select(v.c.id, v.c.name, v.c.volunteer_number).where(v.c.id.in_(list(volunteer_ids)))
        )
        return {r.id: HelperCard(r.id, mask_name(r.name), r.volunteer_number) for r in rows}


class SqlHelpUnitOfWork(SqlUnitOfWork):
    requests: HelpRepository
    roster: VolunteerRoster
    media: MediaRepository

    def __init__(
        self, session_factory: async_sessionmaker[AsyncSession], scope: Scope, clock: Clock
    ) -> None:
        super().__init__(session_factory, scope, clock)

    def _open_repositories(self) -> None:
        self.requests = SqlHelpRepository(self.session, self.scope)
        self.roster = SqlVolunteerRoster(self.session)
        # On the same session: photos are attached inside the request's own transaction.
        self.media = SqlMediaRepository(self.session)
