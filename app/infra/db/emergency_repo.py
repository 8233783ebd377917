"""Emergency units, members' claims and duty, last known locations and history in SQL.

Units are visible as their teams are (``team_visible``: staff of the station or
district, and the team's current members); name and leader are read from the team.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.emergency.duty import MemberDuty, RosterSlot, Shift
from app.domain.emergency.glossary import Capability, EquipmentKind
from app.domain.emergency.locations import LocationSample
from app.domain.emergency.model import EmergencyUnit, EquipmentItem, UnitMember
from app.domain.emergency.ports import LastLocation, MemberRecord, UnitSlice
from app.domain.help.ports import VolunteerRoster
from app.domain.shared.clock import Clock
from app.domain.shared.errors import StaleVersion
from app.domain.shared.geo import GeoPoint
from app.domain.shared.scope import Scope
from app.domain.volunteers.ports import TeamRepository
from app.infra.db.help_repo import SqlVolunteerRoster
from app.infra.db.organisation_repo import geography, lon_lat
from app.infra.db.tables.emergency import (
    emergency_equipment,
    emergency_last_locations,
    emergency_location_samples,
    emergency_unit_members,
    emergency_units,
)
from app.infra.db.tables.volunteers import team_memberships, teams
from app.infra.db.teams_repo import SqlTeamRepository, team_visible
from app.infra.db.uow import SqlUnitOfWork

u = emergency_units
q = emergency_equipment
mb = emergency_unit_members
ll = emergency_last_locations
ls = emergency_location_samples
# A team whose leader left keeps its unit; nobody leads it until a new leader is set.


_UNIT_COLUMNS = (
    u.c.id,
    u.c.station_id,
    u.c.district_id,
    u.c.offers,
    u.c.version,
    teams.c.name,
    teams.c.leader_id,
    *lon_lat(u.c.base, "base_"),
)


def _units_query() -> sa.Select[Any]:
    return sa.select(*_UNIT_COLUMNS).join(teams, teams.c.id == u.c.id)


class SqlUnitRepository:
    def __init__(self, session: AsyncSession, scope: Scope) -> None:
        self._s = session
        self._scope = scope

    async def _load(self, query: sa.Select[Any]) -> list[EmergencyUnit]:
        rows = (await self._s.execute(query)).all()
        if not rows:
            return []
        equipment: dict[uuid.UUID, list[EquipmentItem]] = {r.id: [] for r in rows}
        items = await self._s.execute(
            sa.select(q.c.id, q.c.unit_id, q.c.kind, q.c.label, q.c.service_due)
            .add_columns(*lon_lat(q.c.location))
            .where(q.c.unit_id.in_(list(equipment)))
            .order_by(q.c.unit_id, q.c.id)
        )
        for i in items:
            equipment[i.unit_id].append(
                EquipmentItem(
                    i.id, EquipmentKind(i.kind), GeoPoint(i.lon, i.lat), i.label, i.service_due
                )
            )
        return [
            EmergencyUnit(
                id=r.id,
                station_id=r.station_id,
                district_id=r.district_id,
                name=r.name,
                leader_id=r.leader_id,
                base=GeoPoint(r.base_lon, r.base_lat),
                equipment=equipment[r.id],
                version=r.version,
                offers=frozenset(Capability(c) for c in r.offers),
            )
            for r in rows
        ]

    async def insert(self, unit: EmergencyUnit) -> bool:
        result = await self._s.execute(
            pg_insert(u)
            .values(
                id=unit.id,
                station_id=unit.station_id,
                district_id=unit.district_id,
                base=geography(unit.base),
                offers=sorted(c.value for c in unit.offers),
                version=unit.version,
            )
            .on_conflict_do_nothing(index_elements=[u.c.id])
            .returning(u.c.id)
        )
        if result.first() is None:
            return False
        await self._write_equipment(unit)
        return True

    async def get(self, unit_id: uuid.UUID, *, for_update: bool = False) -> EmergencyUnit | None:
        query = _units_query().where(u.c.id == unit_id, team_visible(self._scope))
        if for_update:
            query = query.with_for_update(of=u)
        found = await self._load(query)
        return found[0] if found else None

    async def get_many(self, ids: Sequence[uuid.UUID]) -> list[EmergencyUnit]:
        if not ids:
            return []
        return await self._load(
            _units_query().where(u.c.id.in_(list(ids)), team_visible(self._scope))
        )

    async def save(self, unit: EmergencyUnit, *, expected_version: int | None) -> None:
        version = expected_version if expected_version is not None else unit.version
        result = await self._s.execute(
            sa.update(u)
            .where(u.c.id == unit.id, u.c.version == version)
            .values(
                base=geography(unit.base),
                offers=sorted(c.value for c in unit.offers),
                version=u.c.version + 1,
                updated_at=sa.func.now(),
            )
            .returning(u.c.version)
        )
        new_version = result.scalar_one_or_none()
        if new_version is None:
            raise StaleVersion()
        unit.version = new_version
        await self._write_equipment(unit)

    async def _write_equipment(self, unit: EmergencyUnit) -> None:
        keep = [item.id for item in unit.equipment]
        await self._s.execute(sa.delete(q).where(q.c.unit_id == unit.id, q.c.id.not_in(keep)))
        if not unit.equipment:
            return
        insert = pg_insert(q).values(
            [
                {
                    "id": item.id,
                    "unit_id": unit.id,
                    "kind": item.kind.value,
                    "location": geography(item.location),
                    "label": item.label,
                    "service_due": item.service_due,
                }
                for item in unit.equipment
            ]
        )
        await self._s.execute(
            insert.on_conflict_do_update(
                index_elements=[q.c.id],
                set_={
                    "location": insert.excluded.location,
                    "label": insert.excluded.label,
                    "service_due": insert.excluded.service_due,
                },
            )
        )

    async def page(
        self, *, station_id: uuid.UUID | None, limit: int, after: uuid.UUID | None
    ) -> UnitSlice:
        query = _units_query().where(team_visible(self._scope))
        if station_id is not None:
            query = query.where(u.c.station_id == station_id)
        if after is not None:
            query = query.where(u.c.id < after)
        found = await self._load(query.order_by(u.c.id.desc()).limit(limit + 1))
        return UnitSlice(found[:limit], len(found) > limit)

    async def of_member(self, volunteer_id: uuid.UUID) -> list[EmergencyUnit]:
        m = team_memberships
        current = sa.select(m.c.team_id).where(
            m.c.volunteer_id == volunteer_id, m.c.left_at.is_(None)
        )
        return await self._load(_units_query().where(u.c.id.in_(current)).order_by(u.c.id))


# --- members -----------------------------------------------------------------------------


def _roster_json(slots: Sequence[RosterSlot]) -> list[dict[str, Any]]:
    return [
        {"weekday": s.weekday, "start": s.start.isoformat(), "end": s.end.isoformat()}
        for s in slots
    ]


def _record(row: Any) -> MemberRecord:
    claimed = frozenset(Capability(c) for c in row.capabilities)
    roster = tuple(
        RosterSlot(s["weekday"], time.fromisoformat(s["start"]), time.fromisoformat(s["end"]))
        for s in row.roster
    )
    shifts = tuple(
        Shift(datetime.fromisoformat(s["start"]), datetime.fromisoformat(s["end"]))
        for s in row.shifts
    )
    return MemberRecord(
        UnitMember(row.volunteer_id, row.unit_id, claimed),
        MemberDuty(
            row.volunteer_id,
            row.unit_id,
            roster=roster,
            shifts=shifts,
            available_from=row.available_from,
            available_until=row.available_until,
            off_until=row.off_until,
        ),
    )


class SqlMemberRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def get(
        self, unit_id: uuid.UUID, volunteer_id: uuid.UUID, *, for_update: bool = False
    ) -> MemberRecord | None:
        query = sa.select(mb).where(mb.c.unit_id == unit_id, mb.c.volunteer_id == volunteer_id)
        if for_update:
            query = query.with_for_update()
        row = (await self._s.execute(query)).first()
        return _record(row) if row is not None else None

    async def of_unit(self, unit_id: uuid.UUID) -> dict[uuid.UUID, MemberRecord]:
        rows = await self._s.execute(sa.select(mb).where(mb.c.unit_id == unit_id))
        return {r.volunteer_id: _record(r) for r in rows}

    async def of_volunteer(
        self, volunteer_id: uuid.UUID, unit_ids: Sequence[uuid.UUID], *, for_update: bool = False
    ) -> dict[uuid.UUID, MemberRecord]:
        if not unit_ids:
            return {}
        query = (
            sa.select(mb)
            .where(mb.c.volunteer_id == volunteer_id, mb.c.unit_id.in_(list(unit_ids)))
            .order_by(mb.c.unit_id)
        )
        if for_update:
            query = query.with_for_update()
        return {r.unit_id: _record(r) for r in await self._s.execute(query)}

    async def save(self, record: MemberRecord) -> None:
        duty = record.duty
        values = {
            "capabilities": sorted(c.value for c in record.member.claimed),
            "roster": _roster_json(duty.roster),
            "shifts": [
                {"start": s.start.isoformat(), "end": s.end.isoformat()} for s in duty.shifts
            ],
            "available_from": duty.available_from,
            "available_until": duty.available_until,
            "off_until": duty.off_until,
            "updated_at": sa.func.now(),
        }
        insert = pg_insert(mb).values(
            unit_id=record.member.unit_id, volunteer_id=record.member.volunteer_id, **values
        )
        await self._s.execute(
            insert.on_conflict_do_update(
                index_elements=[mb.c.unit_id, mb.c.volunteer_id], set_=values
            )
        )


# --- locations ---------------------------------------------------------------------------


class SqlLocationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def last(self, volunteer_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, LastLocation]:
        if not volunteer_ids:
            return {}
        rows = await self._s.execute(
            sa.select(ll.c.volunteer_id, ll.c.at, ll.c.accuracy_m, ll.c.on_duty_until)
            .add_columns(*lon_lat(ll.c.location))
            .where(ll.c.volunteer_id.in_(list(volunteer_ids)))
        )
        return {
            r.volunteer_id: LastLocation(
                r.volunteer_id,
                LocationSample(r.at, GeoPoint(r.lon, r.lat), r.accuracy_m),
                r.on_duty_until,
            )
            for r in rows
        }

    async def record(
        self,
        volunteer_id: uuid.UUID,
        samples: Sequence[LocationSample],
        *,
        on_duty_until: datetime | None,
        received_at: datetime,
    ) -> None:
        if not samples:
            return
        await self._s.execute(
            pg_insert(ls)
            .values(
                [
                    {
                        "volunteer_id": volunteer_id,
                        "at": s.at,
                        "location": geography(s.point),
                        "accuracy_m": s.accuracy_m,
                        "received_at": received_at,
                    }
                    for s in samples
                ]
            )
            .on_conflict_do_nothing(index_elements=[ls.c.volunteer_id, ls.c.at])
        )
        newest = max(samples, key=lambda s: s.at)
        values = {
            "location": geography(newest.point),
            "at": newest.at,
            "accuracy_m": newest.accuracy_m,
            "on_duty_until": on_duty_until,
            "updated_at": sa.func.now(),
        }
        insert = pg_insert(ll).values(volunteer_id=volunteer_id, **values)
        await self._s.execute(
            insert.on_conflict_do_update(index_elements=[ll.c.volunteer_id], set_=values)
        )

    async def set_on_duty_until(self, volunteer_id: uuid.UUID, until: datetime | None) -> None:
        await self._s.execute(
            sa.update(ll)
            .where(ll.c.volunteer_id == volunteer_id)
            .values(on_duty_until=until, updated_at=sa.func.now())
        )

    async def history(
        self, volunteer_id: uuid.UUID, *, limit: int, before: datetime | None
    ) -> list[LocationSample]:
        query = (
            sa.select(ls.c.at, ls.c.accuracy_m)
            .add_columns(*lon_lat(ls.c.location))
            .where(ls.c.volunteer_id == volunteer_id)
        )
        if before is not None:
            query = query.where(ls.c.at < before)
        rows = await self._s.execute(query.order_by(ls.c.at.desc()).limit(limit))
        return [LocationSample(r.at, GeoPoint(r.lon, r.lat), r.accuracy_m) for r in rows]

    async def purge(self, cutoff: datetime) -> int:
        removed = 0
        for table in (ls, ll):
            result = await self._s.execute(sa.delete(table).where(table.c.at < cutoff))
            removed += int(result.rowcount or 0)  # type: ignore[attr-defined]
        return removed


class SqlEmergencyUnitOfWork(SqlUnitOfWork):
    units: SqlUnitRepository
    members: SqlMemberRepository
    locations: SqlLocationRepository
    # Typed as the other contexts' ports: their adapters on this transaction.
    teams: TeamRepository
    roster: VolunteerRoster

    def __init__(
        self, session_factory: async_sessionmaker[AsyncSession], scope: Scope, clock: Clock
    ) -> None:
        super().__init__(session_factory, scope, clock)

    def _open_repositories(self) -> None:
        s = self.session
        self.units = SqlUnitRepository(s, self.scope)
        self.members = SqlMemberRepository(s)
        self.locations = SqlLocationRepository(s)
        self.teams = SqlTeamRepository(s, self.scope)
        self.roster = SqlVolunteerRoster(s)
