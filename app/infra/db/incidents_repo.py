"""Incidents, responses and their events in SQL; districts' ring policies.

Visibility (``_visible``): staff of the incident's station (or district-queue incidents
of their districts), the account that raised it, and members alerted to it. Storing an
event notifies every API process (trigger of migration 0022).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.emergency.dispatch import Channel, ChannelStep, Ring, RingPolicy
from app.domain.emergency.glossary import Capability, IncidentType, RaisedBy, Severity
from app.domain.emergency.incident import Incident, IncidentRouting, IncidentStatus
from app.domain.emergency.incident_ports import (
    KEEP,
    DueResponse,
    IncidentSlice,
    KeepType,
)
from app.domain.emergency.responses import Response, ResponseStatus, ResponseStep
from app.domain.help.ports import VolunteerRoster
from app.domain.media.ports import MediaRepository
from app.domain.shared.clock import Clock
from app.domain.shared.errors import StaleVersion
from app.domain.shared.geo import GeoPoint
from app.domain.shared.scope import Scope
from app.infra.db.emergency_candidates import SqlCandidateFinder
from app.infra.db.help_repo import SqlVolunteerRoster
from app.infra.db.media_repo import SqlMediaRepository
from app.infra.db.organisation_repo import geography, lon_lat
from app.infra.db.scoping import station_scope
from app.infra.db.tables.emergency import emergency_units
from app.infra.db.tables.emergency_incidents import (
    emergency_dispatch_policies,
    emergency_incident_events,
    emergency_incidents,
    emergency_responses,
)
from app.infra.db.tables.organisation import org_units
from app.infra.db.tables.volunteers import volunteers
from app.infra.db.uow import SqlUnitOfWork

i = emergency_incidents
r = emergency_responses
ev = emergency_incident_events
pol = emergency_dispatch_policies


# --- policies as JSON ----------------------------------------------------------------------


def policy_json(policy: RingPolicy) -> dict[str, Any]:
    return {
        "rings": [
            {"radius_m": g.radius_m, "max_alerts": g.max_alerts, "timeout_s": g.timeout_s}
            for g in policy.rings
        ],
        "needed_accepts": policy.needed_accepts,
        "required": sorted(c.value for c in policy.required),
        "channels": [{"channel": s.channel.value, "delay_s": s.delay_s} for s in policy.channels],
    }


def policy_of_json(data: dict[str, Any]) -> RingPolicy:
    return RingPolicy(
        rings=tuple(Ring(g["radius_m"], g["max_alerts"], g["timeout_s"]) for g in data["rings"]),
        needed_accepts=data["needed_accepts"],
        required=frozenset(Capability(c) for c in data.get("required", [])),
        channels=tuple(ChannelStep(Channel(s["channel"]), s["delay_s"]) for s in data["channels"]),
    )


def _iso(at: datetime) -> str:
    return at.isoformat()


def _steps_json(response: Response) -> list[dict[str, Any]]:
    return [
        {"status": s.status.value, "at": _iso(s.at), "by_officer": s.by_officer}
        for s in response.steps
    ]


def _response(row: Any) -> Response:
    return Response(
        row.member_id,
        row.unit_id,
        row.ring,
        [
            ResponseStep(
                ResponseStatus(s["status"]),
                datetime.fromisoformat(s["at"]),
                bool(s.get("by_officer")),
            )
            for s in row.steps
        ],
    )


_COLUMNS = (
    i.c.id,
    i.c.type,
    i.c.severity,
    i.c.description,
    i.c.raised_by,
    i.c.raised_by_id,
    i.c.station_id,
    i.c.district_id,
    i.c.drill,
    i.c.raised_at,
    i.c.media_ids,
    i.c.status,
    i.c.ring_index,
    i.c.ring_started_at,
    i.c.rings,
    i.c.exhausted_at,
    i.c.stood_down_at,
    i.c.stood_down_by,
    i.c.closed_at,
    i.c.closed_by,
    i.c.close_note,
    i.c.version,
    *lon_lat(i.c.location),
)


def _incident(row: Any, responses: list[Response]) -> Incident:
    return Incident(
        id=row.id,
        type=IncidentType(row.type),
        severity=Severity(row.severity),
        location=GeoPoint(row.lon, row.lat),
        description=row.description,
        raised_by=RaisedBy(row.raised_by),
        raised_by_id=row.raised_by_id,
        routing=IncidentRouting(row.district_id, row.station_id),
        drill=row.drill,
        raised_at=row.raised_at,
        media_ids=tuple(row.media_ids or ()),
        status=IncidentStatus(row.status),
        ring_index=row.ring_index,
        ring_started_at=row.ring_started_at,
        rings=[(g["ring"], datetime.fromisoformat(g["started"])) for g in row.rings],
        exhausted_at=row.exhausted_at,
        responses={x.member_id: x for x in responses},
        stood_down_at=row.stood_down_at,
        stood_down_by=row.stood_down_by,
        closed_at=row.closed_at,
        closed_by=row.closed_by,
        close_note=row.close_note,
        version=row.version,
    )


def _state(incident: Incident) -> dict[str, Any]:
    return {
        "status": incident.status.value,
        "ring_index": incident.ring_index,
        "ring_started_at": incident.ring_started_at,
        "rings": [{"ring": g, "started": _iso(at)} for g, at in incident.rings],
        "exhausted_at": incident.exhausted_at,
        "stood_down_at": incident.stood_down_at,
        "stood_down_by": incident.stood_down_by,
        "closed_at": incident.closed_at,
        "closed_by": incident.closed_by,
        "close_note": incident.close_note,
    }


class SqlIncidentRepository:
    def __init__(self, session: AsyncSession, scope: Scope, *, realtime_grace: timedelta) -> None:
        self._s = session
        self._scope = scope
        self._grace = realtime_grace

    def _visible(self) -> sa.ColumnElement[bool]:
        scope = self._scope
        if scope.unrestricted:
            return sa.true()
        clauses: list[sa.ColumnElement[bool]] = [i.c.raised_by_id == scope.account_id]
        if scope.is_staff:
            clauses.append(station_scope(i.c.station_id, i.c.district_id, scope))
        mine = sa.select(volunteers.c.id).where(volunteers.c.account_id == scope.account_id)
        clauses.append(sa.exists().where(r.c.incident_id == i.c.id, r.c.member_id.in_(mine)))
        return sa.or_(*clauses)

    async def _load(self, query: sa.Select[Any]) -> list[Incident]:
        rows = (await self._s.execute(query)).all()
        if not rows:
            return []
        responses: dict[uuid.UUID, list[Response]] = {row.id: [] for row in rows}
        found = await self._s.execute(
            sa.select(r.c.incident_id, r.c.member_id, r.c.unit_id, r.c.ring, r.c.steps)
            .where(r.c.incident_id.in_(list(responses)))
            .order_by(r.c.incident_id, r.c.alerted_at, r.c.member_id)
        )
        for row in found:
            responses[row.incident_id].append(_response(row))
        return [_incident(row, responses[row.id]) for row in rows]

    async def insert(
        self, incident: Incident, policy: RingPolicy, *, next_check_at: datetime | None
    ) -> None:
        await self._s.execute(
            sa.insert(i).values(
                id=incident.id,
                type=incident.type.value,
                severity=incident.severity.value,
                location=geography(incident.location),
                description=incident.description,
                raised_by=incident.raised_by.value,
                raised_by_id=incident.raised_by_id,
                station_id=incident.routing.station_id,
                district_id=incident.routing.district_id,
                drill=incident.drill,
                raised_at=incident.raised_at,
                media_ids=list(incident.media_ids),
                policy=policy_json(policy),
                next_check_at=next_check_at,
                version=incident.version,
                **_state(incident),
            )
        )
        await self._write_children(incident)

    async def get(self, incident_id: uuid.UUID, *, for_update: bool = False) -> Incident | None:
        query = sa.select(*_COLUMNS).where(i.c.id == incident_id, self._visible())
        if for_update:
            query = query.with_for_update(of=i)
        found = await self._load(query)
        return found[0] if found else None

    async def policy_of(self, incident_id: uuid.UUID) -> RingPolicy:
        data = (
            await self._s.execute(sa.select(i.c.policy).where(i.c.id == incident_id))
        ).scalar_one()
        return policy_of_json(data)

    async def save(
        self, incident: Incident, *, next_check_at: datetime | KeepType | None = KEEP
    ) -> None:
        values: dict[str, Any] = {
            **_state(incident),
            "version": i.c.version + 1,
            "updated_at": sa.func.now(),
        }
        if not isinstance(next_check_at, KeepType):
            values["next_check_at"] = next_check_at
        if not incident.is_live:
            values["next_check_at"] = None
        result = await self._s.execute(
            sa.update(i)
            .where(i.c.id == incident.id, i.c.version == incident.version)
            .values(**values)
            .returning(i.c.version)
        )
        version = result.scalar_one_or_none()
        if version is None:
            raise StaleVersion()
        incident.version = version
        await self._write_children(incident)

    async def _write_children(self, incident: Incident) -> None:
        if incident.responses:
            insert = pg_insert(r).values(
                [
                    {
                        "incident_id": incident.id,
                        "member_id": x.member_id,
                        "unit_id": x.unit_id,
                        "ring": x.ring,
                        "status": x.status.value,
                        "steps": _steps_json(x),
                        "drill": incident.drill,
                        "alerted_at": x.alerted_at,
                        "channels_sent": [Channel.REALTIME.value],
                        "next_channel_at": (
                            x.alerted_at + self._grace
                            if x.status == ResponseStatus.ALERTED and incident.is_live
                            else None
                        ),
                    }
                    for x in incident.responses.values()
                ]
            )
            answered = insert.excluded.status != ResponseStatus.ALERTED.value
            await self._s.execute(
                insert.on_conflict_do_update(
                    index_elements=[r.c.incident_id, r.c.member_id],
                    set_={
                        "status": insert.excluded.status,
                        "steps": insert.excluded.steps,
                        "next_channel_at": sa.case((answered, None), else_=r.c.next_channel_at),
                    },
                    where=r.c.steps.is_distinct_from(insert.excluded.steps),
                )
            )
        if incident.pending:
            await self._s.execute(
                sa.insert(ev).values(
                    [
                        {
                            "id": e.id,
                            "incident_id": incident.id,
                            "kind": e.kind.value,
                            "at": e.at,
                            "drill": e.drill,
                            "by_id": e.by,
                            "member_id": e.member_id,
                            "detail": e.detail,
                            "station_id": incident.routing.station_id,
                            "district_id": incident.routing.district_id,
                        }
                        for e in incident.pending
                    ]
                )
            )
            incident.pending.clear()

    async def page(
        self,
        *,
        station_id: uuid.UUID | None,
        live_only: bool,
        drill: bool | None,
        limit: int,
        after: uuid.UUID | None,
    ) -> IncidentSlice:
        query = sa.select(*_COLUMNS).where(self._visible())
        if station_id is not None:
            query = query.where(i.c.station_id == station_id)
        if live_only:
            query = query.where(i.c.status.in_(["open", "dispatching"]))
        if drill is not None:
            query = query.where(i.c.drill.is_(drill))
        if after is not None:
            query = query.where(i.c.id < after)
        found = await self._load(query.order_by(i.c.id.desc()).limit(limit + 1))
        return IncidentSlice(found[:limit], len(found) > limit)

    async def due_incidents(self, now: datetime, limit: int) -> list[uuid.UUID]:
        rows = await self._s.execute(
            sa.select(i.c.id)
            .where(i.c.next_check_at <= now)
            .order_by(i.c.next_check_at)
            .limit(limit)
        )
        return [row.id for row in rows]

    async def due_responses(self, now: datetime, limit: int) -> list[DueResponse]:
        rows = await self._s.execute(
            sa.select(
                r.c.incident_id,
                r.c.member_id,
                r.c.drill,
                r.c.alerted_at,
                r.c.status,
                r.c.delivered_at,
                r.c.channels_sent,
                i.c.type,
                i.c.severity,
                i.c.status.label("incident_status"),
                i.c.stood_down_at,
            )
            .join(i, i.c.id == r.c.incident_id)
            .where(r.c.next_channel_at <= now)
            .order_by(r.c.next_channel_at)
            .limit(limit)
            .with_for_update(of=r, skip_locked=True)
        )
        return [
            DueResponse(
                incident_id=row.incident_id,
                member_id=row.member_id,
                drill=row.drill,
                type=IncidentType(row.type),
                severity=Severity(row.severity),
                alerted_at=row.alerted_at,
                answered=row.status != ResponseStatus.ALERTED.value
                or row.incident_status != IncidentStatus.DISPATCHING.value
                or row.stood_down_at is not None,
                delivered=row.delivered_at is not None,
                sent=frozenset(Channel(c) for c in row.channels_sent),
            )
            for row in rows
        ]

    async def set_channels(
        self,
        incident_id: uuid.UUID,
        member_id: uuid.UUID,
        sent: frozenset[Channel],
        next_at: datetime | None,
    ) -> None:
        await self._s.execute(
            sa.update(r)
            .where(r.c.incident_id == incident_id, r.c.member_id == member_id)
            .values(channels_sent=sorted(c.value for c in sent), next_channel_at=next_at)
        )

    async def units_of_station(self, station_id: uuid.UUID) -> list[uuid.UUID] | None:
        station = (
            await self._s.execute(
                sa.select(org_units.c.id).where(
                    org_units.c.id == station_id,
                    org_units.c.level == "station",
                    station_scope(org_units.c.id, org_units.c.district_id, self._scope),
                )
            )
        ).first()
        if station is None:
            return None
        u = emergency_units
        rows = await self._s.execute(
            sa.select(u.c.id).where(u.c.station_id == station_id).order_by(u.c.id)
        )
        return [row.id for row in rows]

    async def drills(
        self, *, station_id: uuid.UUID | None, start: datetime, end: datetime
    ) -> list[Incident]:
        query = sa.select(*_COLUMNS).where(
            self._visible(), i.c.drill.is_(True), i.c.raised_at >= start, i.c.raised_at < end
        )
        if station_id is not None:
            query = query.where(i.c.station_id == station_id)
        return await self._load(query.order_by(i.c.raised_at))


class SqlDispatchPolicies:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def of_district(self, district_id: uuid.UUID) -> dict[IncidentType, RingPolicy]:
        rows = await self._s.execute(
            sa.select(pol.c.incident_type, pol.c.policy).where(pol.c.district_id == district_id)
        )
        return {IncidentType(row.incident_type): policy_of_json(row.policy) for row in rows}

    async def put(
        self,
        district_id: uuid.UUID,
        incident_type: IncidentType,
        policy: RingPolicy | None,
        *,
        by: uuid.UUID,
    ) -> None:
        if policy is None:
            await self._s.execute(
                sa.delete(pol).where(
                    pol.c.district_id == district_id, pol.c.incident_type == incident_type.value
                )
            )
            return
        insert = pg_insert(pol).values(
            district_id=district_id,
            incident_type=incident_type.value,
            policy=policy_json(policy),
            updated_by=by,
        )
        await self._s.execute(
            insert.on_conflict_do_update(
                index_elements=[pol.c.district_id, pol.c.incident_type],
                set_={
                    "policy": insert.excluded.policy,
                    "updated_by": insert.excluded.updated_by,
                    "updated_at": sa.func.now(),
                },
            )
        )


class SqlIncidentUnitOfWork(SqlUnitOfWork):
    incidents: SqlIncidentRepository
    policies: SqlDispatchPolicies
    candidates: SqlCandidateFinder
    roster: VolunteerRoster
    media: MediaRepository

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        scope: Scope,
        clock: Clock,
        *,
        realtime_grace_s: float = 5.0,
    ) -> None:
        super().__init__(session_factory, scope, clock)
        self._grace = timedelta(seconds=realtime_grace_s)

    def _open_repositories(self) -> None:
        s = self.session
        self.incidents = SqlIncidentRepository(s, self.scope, realtime_grace=self._grace)
        self.policies = SqlDispatchPolicies(s)
        self.candidates = SqlCandidateFinder.on(s)
        self.roster = SqlVolunteerRoster(s)
        self.media = SqlMediaRepository(s)
