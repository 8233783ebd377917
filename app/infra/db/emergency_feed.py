"""The realtime alert feed read from ``emergency_incident_events`` (by its global ``seq``)
joined with the incident summary, filtered in SQL by the visibility rules of
``incident_ports``:

- staff: events of incidents routed to their stations (district queue: their districts);
- a volunteer: their own events (``member_id`` = them), and the incident-wide events
  (``member_id`` IS NULL) of incidents they have a response to, from their first
  ``alerted`` event on (``raised`` excluded: the alert carries the incident summary).

Also the unscoped lookups the process-wide cache of ``AlertFeed`` uses (it applies the
same rules in memory), and the one-statement ``mark_delivered``."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.emergency.glossary import IncidentType, Severity
from app.domain.emergency.incident import LIVE, IncidentEventKind, IncidentStatus
from app.domain.emergency.incident_ports import FeedItem, IncidentSummary
from app.domain.shared.geo import GeoPoint
from app.domain.shared.scope import Scope
from app.infra.db.help_repo import SERVING_STATUSES
from app.infra.db.organisation_repo import lon_lat
from app.infra.db.scoping import station_scope
from app.infra.db.tables.emergency_incidents import (
    emergency_incident_events,
    emergency_incidents,
    emergency_responses,
)
from app.infra.db.tables.volunteers import volunteers

e = emergency_incident_events
i = emergency_incidents
r = emergency_responses
ALERTED = IncidentEventKind.ALERTED.value
RAISED = IncidentEventKind.RAISED.value

_COLUMNS = (
    e.c.seq,
    e.c.id.label("event_id"),
    e.c.kind,
    e.c.at,
    e.c.drill,
    e.c.member_id,
    e.c.detail,
    i.c.id.label("incident_id"),
    i.c.type,
    i.c.severity,
    *lon_lat(i.c.location),
    i.c.description,
    i.c.drill.label("incident_drill"),
    i.c.status,
    i.c.raised_at,
    i.c.station_id,
    i.c.district_id,
)


def _item(row: Any) -> FeedItem:
    return FeedItem(
        seq=row.seq,
        event_id=row.event_id,
        kind=IncidentEventKind(row.kind),
        at=row.at,
        drill=row.drill,
        member_id=row.member_id,
        detail=dict(row.detail or {}),
        incident=IncidentSummary(
            id=row.incident_id,
            type=IncidentType(row.type),
            severity=Severity(row.severity),
            location=GeoPoint(row.lon, row.lat),
            description=row.description,
            drill=row.incident_drill,
            status=IncidentStatus(row.status),
            raised_at=row.raised_at,
            station_id=row.station_id,
            district_id=row.district_id,
        ),
    )


def _alerted_from(volunteer_id: uuid.UUID) -> sa.Subquery:
    """Per incident the volunteer has a response to: the seq of their first alert."""
    return (
        sa.select(e.c.incident_id, sa.func.min(e.c.seq).label("from_seq"))
        .where(
            e.c.member_id == volunteer_id,
            e.c.kind == ALERTED,
            e.c.incident_id.in_(sa.select(r.c.incident_id).where(r.c.member_id == volunteer_id)),
        )
        .group_by(e.c.incident_id)
        .subquery("mine")
    )


def visible_seqs(scope: Scope, after_seq: int) -> list[sa.Select[Any]]:
    """Index-friendly parts (unioned) of the events ``scope`` may see above ``after_seq``."""
    parts: list[sa.Select[Any]] = []
    if scope.unrestricted or scope.is_staff:
        parts.append(
            sa.select(e.c.seq).where(
                e.c.seq > after_seq, station_scope(e.c.station_id, e.c.district_id, scope)
            )
        )
    if scope.volunteer_id is not None and not scope.unrestricted:
        me = scope.volunteer_id
        parts.append(sa.select(e.c.seq).where(e.c.member_id == me, e.c.seq > after_seq))
        mine = _alerted_from(me)
        parts.append(
            sa.select(e.c.seq)
            .join(mine, mine.c.incident_id == e.c.incident_id)
            .where(
                e.c.member_id.is_(None),
                e.c.kind != RAISED,
                e.c.seq > sa.func.greatest(mine.c.from_seq, after_seq),
            )
        )
    return parts


class SqlEventFeedReader:
    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self.session_factory = session_factory

    async def _items(self, where: sa.ColumnElement[bool], limit: int | None) -> list[FeedItem]:
        query = sa.select(*_COLUMNS).join(i, i.c.id == e.c.incident_id).where(where)
        query = query.order_by(e.c.seq)
        if limit is not None:
            query = query.limit(limit)
        async with self.session_factory() as session:
            rows = (await session.execute(query)).all()
        return [_item(row) for row in rows]

    async def since(self, scope: Scope, after_seq: int, limit: int) -> list[FeedItem]:
        parts = visible_seqs(scope, after_seq)
        if not parts:
            return []
        # Each part stops at ``limit`` on its own index before the union is sorted.
        limited = [p.order_by(e.c.seq).limit(limit).subquery().select() for p in parts]
        seqs = sa.union(*limited) if len(limited) > 1 else limited[0]
        return await self._items(e.c.seq.in_(seqs.scalar_subquery()), limit)

    async def mark_delivered(
        self, pairs: Sequence[tuple[uuid.UUID, uuid.UUID]], at: datetime
    ) -> None:
        if not pairs:
            return
        statement = (
            sa.update(r)
            .where(
                sa.tuple_(r.c.incident_id, r.c.member_id).in_(list(dict.fromkeys(pairs))),
                r.c.delivered_at.is_(None),
            )
            .values(delivered_at=at)
        )
        async with self.session_factory() as session:
            await session.execute(statement)
            await session.commit()

    # --- unscoped, for the process-wide cache (the caller applies the rules) ---------------

    async def by_seqs(self, seqs: Collection[int]) -> list[FeedItem]:
        if not seqs:
            return []
        return await self._items(e.c.seq.in_(list(seqs)), None)

    async def head(self) -> int:
        async with self.session_factory() as session:
            value = (await session.execute(sa.select(sa.func.max(e.c.seq)))).scalar()
        return int(value or 0)

    async def alerted_to(self, volunteer_id: uuid.UUID) -> dict[uuid.UUID, int]:
        """The live incidents the volunteer was alerted to, each with its first alert's
        seq (incident-wide events after it are theirs to see)."""
        mine = _alerted_from(volunteer_id)
        query = (
            sa.select(mine.c.incident_id, mine.c.from_seq)
            .join(i, i.c.id == mine.c.incident_id)
            .where(i.c.status.in_([s.value for s in LIVE]))
        )
        async with self.session_factory() as session:
            rows = (await session.execute(query)).all()
        return {row.incident_id: int(row.from_seq) for row in rows}

    async def volunteer_of(self, account_id: uuid.UUID) -> uuid.UUID | None:
        """The serving volunteer record of the account (as ``VolunteerRoster.serving``)."""
        v = volunteers
        query = (
            sa.select(v.c.id)
            .where(v.c.account_id == account_id, v.c.status.in_(SERVING_STATUSES))
            .order_by(v.c.id)
            .limit(1)
        )
        async with self.session_factory() as session:
            found: uuid.UUID | None = (await session.execute(query)).scalar()
        return found
