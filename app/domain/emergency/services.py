"""Use cases of emergency units and availability (最小应急单元: 单元、能力、装备、在岗、位置).

Who may do what:
- station staff (officers, station and district admins writing at the team's station)
  make a unit of a team of type emergency unit, set its base and what it offers;
- staff or the unit's leader (队长) manage equipment and members' roster slots;
- a member claims capabilities (each backed by a certificate valid today, read through
  the training records), goes on duty ("available now" until a time) or off duty, and
  reports locations while on duty;
- staff of the unit's station read members with duty status and last known location;
  members read the list with duty status only (their own location included).
A unit outside the caller's scope is not found (404).

Every write opens one unit of work, audits (ids and counts, never coordinates), puts its
events in the outbox and commits once. Events: ``emergency.unit_created`` (unit_id,
station_id, district_id); ``emergency.member_available`` (unit_id, until) and
``emergency.member_off_duty`` (unit_id), one per unit of the member.

Locations (PIPL: location tracks are sensitive): refused off duty, points taken while off
duty dropped, at most one point per 30 s kept (``locations.thin_batch``); the newest kept
point becomes the last known location, stored with the time the member's duty ends so the
dispatch query finds on-duty members by KNN alone. History and last known locations older
than the retention setting are purged by housekeeping.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from app.domain.emergency.capabilities import HeldCertificate
from app.domain.emergency.duty import DutyBasis, MemberDuty, RosterSlot
from app.domain.emergency.errors import (
    MemberNotFound,
    NotServing,
    NotUnitManager,
    OffDuty,
    UnitExists,
    UnitNotFound,
    invalid,
)
from app.domain.emergency.glossary import Capability, EquipmentKind
from app.domain.emergency.locations import (
    MAX_BATCH,
    BatchResult,
    LocationSample,
    checked_retention_days,
    retention_cutoff,
    thin_batch,
)
from app.domain.emergency.model import EmergencyUnit, EquipmentItem
from app.domain.emergency.ports import (
    CertificateSource,
    EmergencyUnitOfWork,
    LastLocation,
    MemberRecord,
    TeamRosterSource,
)
from app.domain.shared.clock import Clock, local_date
from app.domain.shared.errors import NotAllowed
from app.domain.shared.events import DomainEvent
from app.domain.shared.geo import GeoPoint
from app.domain.shared.scope import Scope
from app.domain.volunteers.errors import TeamNotFound
from app.domain.volunteers.training import Certificate
from app.domain.volunteers.views import MemberView

UowFactory = Callable[[Scope], EmergencyUnitOfWork]
DEFAULT_RETENTION_DAYS = 7


@dataclass(frozen=True, slots=True)
class NewUnit:
    team_id: uuid.UUID
    base: GeoPoint
    offers: tuple[Capability, ...] = ()


@dataclass(frozen=True, slots=True)
class NewEquipment:
    kind: EquipmentKind
    location: GeoPoint
    label: str | None = None
    service_due: date | None = None


@dataclass(frozen=True, slots=True)
class MemberStatus:
    """One member of a unit as the caller may see them."""

    unit_id: uuid.UUID
    volunteer_id: uuid.UUID
    name: str | None  # full for the station's staff, masked for others, None if unseen
    volunteer_number: str | None
    is_leader: bool
    claimed: frozenset[Capability]
    # Claims backed by a certificate valid today; None when the caller may not see the
    # member's certificates (other members).
    capabilities: frozenset[Capability] | None
    on_duty: bool
    basis: DutyBasis | None
    until: datetime | None
    roster: tuple[RosterSlot, ...]
    last_location: LocationSample | None  # staff of the station and the member only

    @property
    def id(self) -> uuid.UUID:
        return self.volunteer_id


@dataclass(frozen=True, slots=True)
class UnitDuty:
    unit_id: uuid.UUID
    unit_name: str
    on_duty: bool
    basis: DutyBasis | None
    until: datetime | None
    roster: tuple[RosterSlot, ...]
    claimed: frozenset[Capability]


@dataclass(frozen=True, slots=True)
class MyDuty:
    """The caller's duty across their units and their last known location."""

    volunteer_id: uuid.UUID
    on_duty: bool
    until: datetime | None
    units: tuple[UnitDuty, ...]
    last_location: LocationSample | None


@dataclass(frozen=True, slots=True)
class LocationReport:
    result: BatchResult
    last_location: LocationSample | None
    on_duty_until: datetime | None


def held(certificate: Certificate) -> HeldCertificate:
    """A training record as the capability rules read it."""
    return HeldCertificate(
        course_code=certificate.course.code,
        expires_on=certificate.record.certificate_expires_on,
        capability=certificate.capability,
        completed_on=certificate.record.completed_on,
    )


def accept_batch(
    duties: Sequence[MemberDuty],
    samples: Sequence[LocationSample],
    *,
    now: datetime,
    last_at: datetime | None,
) -> BatchResult:
    """``MemberDuty.accept_locations`` over all of a member's units: refused unless on
    duty in one of them now; points taken while on duty in none are dropped."""
    if len(samples) > MAX_BATCH:
        raise invalid(
            "location_batch_too_large",
            "samples",
            f"Send at most {MAX_BATCH} points per batch.",
            f"每批最多上报{MAX_BATCH}个位置点。",
        )
    if not any(d.is_on_duty(now) for d in duties):
        raise OffDuty()
    kept: list[LocationSample] = []
    off = 0
    for sample in samples:
        if sample.at <= now and not any(d.is_on_duty(sample.at) for d in duties):
            off += 1
        else:
            kept.append(sample)
    return replace(thin_batch(kept, last_at=last_at, now=now), off_duty=off)


def duty_end(duties: Iterable[MemberDuty], now: datetime) -> datetime | None:
    ends = [end for d in duties if (end := d.on_duty_until(now)) is not None]
    return max(ends) if ends else None


def sees_all(scope: Scope, unit: EmergencyUnit) -> bool:
    """Writing staff of the unit's station (or district): names, certificates and
    locations. An auditor's read reach does not extend to members' location tracks
    (personal data, PIPL), and reach is counted per role, never lent between roles."""
    return scope.unrestricted or scope.writes_at(unit.station_id, unit.district_id)


def _unit_event(name: str, unit: EmergencyUnit, at: datetime, **payload: Any) -> DomainEvent:
    body = {
        "unit_id": unit.id,
        "station_id": unit.station_id,
        "district_id": unit.district_id,
        **payload,
    }
    return DomainEvent(name, "emergency_unit", unit.id, at, body)


class EmergencyUnitService:
    def __init__(
        self,
        uow_factory: UowFactory,
        clock: Clock,
        certificates: CertificateSource,
        team_roster: TeamRosterSource,
        *,
        retention_days: int = DEFAULT_RETENTION_DAYS,
    ) -> None:
        self.uow_factory = uow_factory
        self.clock = clock
        self.certificates = certificates
        self.team_roster = team_roster
        self.retention_days = checked_retention_days(retention_days)

    # --- helpers ------------------------------------------------------------------------

    async def _unit(
        self, uow: EmergencyUnitOfWork, unit_id: uuid.UUID, *, for_update: bool = False
    ) -> EmergencyUnit:
        unit = await uow.units.get(unit_id, for_update=for_update)
        if unit is None:
            raise UnitNotFound()
        return unit

    @staticmethod
    async def _me(uow: EmergencyUnitOfWork, scope: Scope) -> uuid.UUID:
        serving = await uow.roster.serving(scope.account_id)
        if serving is None:
            raise NotServing()
        return serving.volunteer_id

    @staticmethod
    def _require_staff(scope: Scope, unit: EmergencyUnit) -> None:
        if not scope.writes_at(unit.station_id, unit.district_id):
            raise NotAllowed()

    async def _require_manager(
        self, uow: EmergencyUnitOfWork, scope: Scope, unit: EmergencyUnit
    ) -> None:
        if scope.writes_at(unit.station_id, unit.district_id):
            return
        serving = await uow.roster.serving(scope.account_id)
        if serving is None or serving.volunteer_id != unit.leader_id:
            raise NotUnitManager()

    async def _refresh_duty_end(
        self,
        uow: EmergencyUnitOfWork,
        volunteer_id: uuid.UUID,
        changed: Iterable[MemberRecord],
        now: datetime,
    ) -> datetime | None:
        """Recompute when the volunteer's duty ends (across all their units) and store it
        on their last known location, so dispatch sees the change at once."""
        units = await uow.units.of_member(volunteer_id)
        records = await uow.members.of_volunteer(volunteer_id, [u.id for u in units])
        for record in changed:
            records[record.member.unit_id] = record
        until = duty_end((r.duty for r in records.values()), now)
        await uow.locations.set_on_duty_until(volunteer_id, until)
        return until

    async def _finish_unit(
        self, uow: EmergencyUnitOfWork, unit: EmergencyUnit, expected: int | None
    ) -> EmergencyUnit:
        await uow.units.save(unit, expected_version=expected)
        await uow.commit()
        return unit

    # --- units --------------------------------------------------------------------------

    async def create_unit(self, scope: Scope, new: NewUnit) -> EmergencyUnit:
        """Station staff make an emergency unit of a team of type emergency unit that has
        a leader; the unit's id is the team's."""
        now = self.clock.now()
        async with self.uow_factory(scope) as uow:
            team = await uow.teams.get(new.team_id, for_update=True)
            if team is None:
                raise TeamNotFound()
            if not scope.writes_at(team.station_id, team.district_id):
                raise NotAllowed()
            unit = EmergencyUnit.from_team(team, new.base, new.offers)
            if not await uow.units.insert(unit):
                raise UnitExists()
            uow.audit(
                "emergency.unit_created",
                "emergency_unit",
                unit.id,
                {"offers": sorted(c.value for c in unit.offers)},
            )
            uow.add_event(_unit_event("emergency.unit_created", unit, now))
            await uow.commit()
        return unit

    async def get_unit(self, scope: Scope, unit_id: uuid.UUID) -> EmergencyUnit:
        async with self.uow_factory(scope) as uow:
            return await self._unit(uow, unit_id)

    async def get_units(
        self, scope: Scope, ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, EmergencyUnit]:
        """The units among ``ids`` the caller may see (GraphQL node batches)."""
        async with self.uow_factory(scope) as uow:
            return {u.id: u for u in await uow.units.get_many(list(dict.fromkeys(ids)))}

    async def list_units(
        self,
        scope: Scope,
        *,
        station_id: uuid.UUID | None = None,
        limit: int,
        after: uuid.UUID | None = None,
    ) -> tuple[list[EmergencyUnit], bool]:
        """Staff: their jurisdiction's units; a volunteer: the units they belong to."""
        async with self.uow_factory(scope) as uow:
            found = await uow.units.page(station_id=station_id, limit=limit, after=after)
        return found.items, found.has_more

    async def update_unit(
        self,
        scope: Scope,
        unit_id: uuid.UUID,
        *,
        base: GeoPoint | None = None,
        offers: Iterable[Capability] | None = None,
        expected_version: int | None = None,
    ) -> EmergencyUnit:
        """Station staff move the base or change what the unit offers."""
        async with self.uow_factory(scope) as uow:
            unit = await self._unit(uow, unit_id, for_update=True)
            self._require_staff(scope, unit)
            if base is not None:
                unit.move_base(base)
            if offers is not None:
                unit.set_offers(offers)
            uow.audit(
                "emergency.unit_updated",
                "emergency_unit",
                unit.id,
                {"base": base is not None, "offers": sorted(c.value for c in unit.offers)},
            )
            return await self._finish_unit(uow, unit, expected_version)

    # --- equipment ----------------------------------------------------------------------

    async def add_equipment(
        self,
        scope: Scope,
        unit_id: uuid.UUID,
        new: NewEquipment,
        *,
        expected_version: int | None = None,
    ) -> tuple[EmergencyUnit, EquipmentItem]:
        async with self.uow_factory(scope) as uow:
            unit = await self._unit(uow, unit_id, for_update=True)
            await self._require_manager(uow, scope, unit)
            item = unit.add_equipment(
                new.kind, new.location, label=new.label, service_due=new.service_due
            )
            uow.audit(
                "emergency.equipment_added",
                "emergency_unit",
                unit.id,
                {"item_id": item.id, "kind": item.kind.value},
            )
            return await self._finish_unit(uow, unit, expected_version), item

    async def move_equipment(
        self,
        scope: Scope,
        unit_id: uuid.UUID,
        item_id: uuid.UUID,
        location: GeoPoint,
        *,
        expected_version: int | None = None,
    ) -> tuple[EmergencyUnit, EquipmentItem]:
        async with self.uow_factory(scope) as uow:
            unit = await self._unit(uow, unit_id, for_update=True)
            await self._require_manager(uow, scope, unit)
            item = unit.move_equipment(item_id, location)
            uow.audit("emergency.equipment_moved", "emergency_unit", unit.id, {"item_id": item.id})
            return await self._finish_unit(uow, unit, expected_version), item

    async def remove_equipment(
        self,
        scope: Scope,
        unit_id: uuid.UUID,
        item_id: uuid.UUID,
        *,
        expected_version: int | None = None,
    ) -> EmergencyUnit:
        async with self.uow_factory(scope) as uow:
            unit = await self._unit(uow, unit_id, for_update=True)
            await self._require_manager(uow, scope, unit)
            unit.remove_equipment(item_id)
            uow.audit(
                "emergency.equipment_removed", "emergency_unit", unit.id, {"item_id": item_id}
            )
            return await self._finish_unit(uow, unit, expected_version)

    # --- members ------------------------------------------------------------------------

    async def claim_capabilities(
        self, scope: Scope, unit_id: uuid.UUID, capabilities: Iterable[Capability]
    ) -> MemberStatus:
        """A member replaces their claimed capabilities; each needs a certificate valid
        today (``CapabilityNotCertified`` names those without)."""
        wanted = frozenset(capabilities)
        now = self.clock.now()
        today = local_date(now)
        async with self.uow_factory(scope) as uow:
            me = await self._me(uow, scope)
        # The training context reads through its own unit of work: before this one opens,
        # so one request never waits for a second pooled connection while holding one.
        found = await self.certificates.certificates_of(scope, [me])
        certificates = [held(c) for c in found.get(me, [])]
        async with self.uow_factory(scope) as uow:
            unit = await self._unit(uow, unit_id)
            if not await uow.teams.is_member(unit.id, me):
                raise MemberNotFound()
            record = await uow.members.get(unit.id, me, for_update=True)
            record = record or MemberRecord.blank(unit.id, me)
            record.member.claim(wanted, certificates, today)
            await uow.members.save(record)
            uow.audit(
                "emergency.capabilities_claimed",
                "emergency_unit",
                unit.id,
                {"volunteer_id": me, "capabilities": sorted(c.value for c in wanted)},
            )
            last = (await uow.locations.last([me])).get(me)
            await uow.commit()
        return self._status(unit, record, now, None, certificates, last, own=True)

    async def set_roster(
        self,
        scope: Scope,
        unit_id: uuid.UUID,
        volunteer_id: uuid.UUID,
        slots: Iterable[RosterSlot],
    ) -> MemberStatus:
        """The leader or station staff set a member's weekly roster slots (值班表)."""
        now = self.clock.now()
        async with self.uow_factory(scope) as uow:
            unit = await self._unit(uow, unit_id)
            await self._require_manager(uow, scope, unit)
            if not await uow.teams.is_member(unit.id, volunteer_id):
                raise MemberNotFound()
            record = await uow.members.get(unit.id, volunteer_id, for_update=True)
            record = record or MemberRecord.blank(unit.id, volunteer_id)
            record.duty.set_roster(slots)
            await uow.members.save(record)
            await self._refresh_duty_end(uow, volunteer_id, [record], now)
            uow.audit(
                "emergency.roster_set",
                "emergency_unit",
                unit.id,
                {"volunteer_id": volunteer_id, "slots": len(record.duty.roster)},
            )
            await uow.commit()
        return self._status(unit, record, now, None, None, None, own=False)

    async def members(
        self, scope: Scope, unit_id: uuid.UUID, *, limit: int, after: uuid.UUID | None = None
    ) -> tuple[list[MemberStatus], bool]:
        """The unit's current members by volunteer id with duty status; staff of the
        station also see names, certified capabilities and last known locations."""
        now = self.clock.now()
        async with self.uow_factory(scope) as uow:
            unit = await self._unit(uow, unit_id)
            everything = sees_all(scope, unit)
            me = None if everything else await self._me(uow, scope)
            current = (await uow.teams.current_members([unit.id])).get(unit.id, [])
            ids = sorted(m.volunteer_id for m in current)
            if after is not None:
                ids = [i for i in ids if i > after]
            more = len(ids) > limit
            ids = ids[:limit]
            records = await uow.members.of_unit(unit.id)
            located = ids if everything else [i for i in ids if i == me]
            last = await uow.locations.last(located)
        names = {
            v.volunteer_id: v
            for v in (await self.team_roster.members_of(scope, [unit.id])).get(unit.id, [])
        }
        certified = ids if everything else [i for i in ids if i == me]
        certificates = (
            await self.certificates.certificates_of(scope, certified) if certified else {}
        )
        statuses = [
            self._status(
                unit,
                records.get(i) or MemberRecord.blank(unit.id, i),
                now,
                names.get(i),
                [held(c) for c in certificates[i]] if i in certificates else None,
                last.get(i),
                own=i == me,
            )
            for i in ids
        ]
        return statuses, more

    @staticmethod
    def _status(
        unit: EmergencyUnit,
        record: MemberRecord,
        now: datetime,
        view: MemberView | None,
        certificates: list[HeldCertificate] | None,
        last: LastLocation | None,
        *,
        own: bool,
    ) -> MemberStatus:
        duty = record.duty
        volunteer_id = record.member.volunteer_id
        return MemberStatus(
            unit_id=unit.id,
            volunteer_id=volunteer_id,
            name=view.name if view else None,
            volunteer_number=view.volunteer_number if view else None,
            is_leader=unit.leader_id == volunteer_id,
            claimed=record.member.claimed,
            capabilities=(
                record.member.capabilities_on(local_date(now), certificates)
                if certificates is not None
                else None
            ),
            on_duty=duty.is_on_duty(now),
            basis=duty.basis(now),
            until=duty.on_duty_until(now),
            roster=duty.roster,
            last_location=last.sample if last is not None else None,
        )

    # --- duty (the member's own) --------------------------------------------------------

    async def _my_records(
        self, uow: EmergencyUnitOfWork, me: uuid.UUID, unit_id: uuid.UUID | None
    ) -> tuple[list[EmergencyUnit], dict[uuid.UUID, MemberRecord]]:
        units = await uow.units.of_member(me)
        if unit_id is not None and all(u.id != unit_id for u in units):
            raise UnitNotFound()
        if not units:
            raise MemberNotFound(
                "You are not a member of any emergency unit.", "您不是任何应急单元的队员。"
            )
        records = await uow.members.of_volunteer(me, [u.id for u in units], for_update=True)
        for unit in units:
            records.setdefault(unit.id, MemberRecord.blank(unit.id, me))
        return units, records

    async def _change_duty(
        self,
        scope: Scope,
        unit_id: uuid.UUID | None,
        change: Callable[[MemberDuty, datetime], None],
        action: str,
        detail: dict[str, Any],
    ) -> MyDuty:
        now = self.clock.now()
        async with self.uow_factory(scope) as uow:
            me = await self._me(uow, scope)
            units, records = await self._my_records(uow, me, unit_id)
            changed = [r for r in records.values() if unit_id in (None, r.member.unit_id)]
            for record in changed:
                change(record.duty, now)
                for event in record.duty.pending:
                    uow.add_event(event)
                record.duty.pending.clear()
                await uow.members.save(record)
            await uow.locations.set_on_duty_until(
                me, duty_end((r.duty for r in records.values()), now)
            )
            uow.audit(
                action,
                "volunteer",
                me,
                {**detail, "unit_ids": sorted(r.member.unit_id for r in changed)},
            )
            last = (await uow.locations.last([me])).get(me)
            await uow.commit()
        return self._my_duty(me, units, records, last, now)

    async def go_available(
        self, scope: Scope, until: datetime | None, *, unit_id: uuid.UUID | None = None
    ) -> MyDuty:
        """我现在可以响应: on duty now until ``until`` (required, at most 12 h), in one unit
        or all."""
        if until is None:
            raise invalid(
                "until_required",
                "until",
                "Say until when you are available.",
                "请填写待命截止时间。",
            )
        return await self._change_duty(
            scope,
            unit_id,
            lambda duty, now: duty.go_available(until, at=now),
            "emergency.duty_available",
            {"until": until},
        )

    async def go_off_duty(self, scope: Scope, *, unit_id: uuid.UUID | None = None) -> MyDuty:
        """Off duty now (the covering roster slot is suspended until it ends); no location
        is collected any more."""
        return await self._change_duty(
            scope,
            unit_id,
            lambda duty, now: duty.go_off_duty(at=now),
            "emergency.duty_off",
            {},
        )

    async def my_duty(self, scope: Scope) -> MyDuty:
        now = self.clock.now()
        async with self.uow_factory(scope) as uow:
            me = await self._me(uow, scope)
            units = await uow.units.of_member(me)
            records = await uow.members.of_volunteer(me, [u.id for u in units])
            for unit in units:
                records.setdefault(unit.id, MemberRecord.blank(unit.id, me))
            last = (await uow.locations.last([me])).get(me)
        return self._my_duty(me, units, records, last, now)

    @staticmethod
    def _my_duty(
        me: uuid.UUID,
        units: list[EmergencyUnit],
        records: dict[uuid.UUID, MemberRecord],
        last: LastLocation | None,
        now: datetime,
    ) -> MyDuty:
        entries = tuple(
            UnitDuty(
                unit_id=u.id,
                unit_name=u.name,
                on_duty=records[u.id].duty.is_on_duty(now),
                basis=records[u.id].duty.basis(now),
                until=records[u.id].duty.on_duty_until(now),
                roster=records[u.id].duty.roster,
                claimed=records[u.id].member.claimed,
            )
            for u in units
        )
        until = duty_end((records[u.id].duty for u in units), now)
        return MyDuty(
            volunteer_id=me,
            on_duty=any(e.on_duty for e in entries),
            until=until,
            units=entries,
            last_location=last.sample if last is not None else None,
        )

    # --- locations ----------------------------------------------------------------------

    async def report_locations(
        self, scope: Scope, samples: Sequence[LocationSample]
    ) -> LocationReport:
        """A batch of the member's points: refused off duty (``OffDuty``); thinned to one
        per 30 s; the newest kept becomes the last known location."""
        now = self.clock.now()
        async with self.uow_factory(scope) as uow:
            me = await self._me(uow, scope)
            units = await uow.units.of_member(me)
            # Locked: two batches of one member are kept in order, never interleaved.
            records = await uow.members.of_volunteer(me, [u.id for u in units], for_update=True)
            duties = [r.duty for r in records.values()]
            last = (await uow.locations.last([me])).get(me)
            result = accept_batch(
                duties, samples, now=now, last_at=last.sample.at if last is not None else None
            )
            until = duty_end(duties, now)
            if result.kept:
                await uow.locations.record(me, result.kept, on_duty_until=until, received_at=now)
            else:
                await uow.locations.set_on_duty_until(me, until)
            uow.audit(
                "emergency.locations_reported",
                "volunteer",
                me,
                {
                    "kept": len(result.kept),
                    "thinned": result.thinned,
                    "stale": result.stale,
                    "future": result.future,
                    "off_duty": result.off_duty,
                },
            )
            await uow.commit()
        newest = result.last or (last.sample if last is not None else None)
        return LocationReport(result, newest, until)

    async def my_locations(
        self, scope: Scope, *, limit: int, before: datetime | None = None
    ) -> tuple[list[LocationSample], bool]:
        """The caller's own kept points (within retention), newest first."""
        async with self.uow_factory(scope) as uow:
            me = await self._me(uow, scope)
            found = await uow.locations.history(me, limit=limit + 1, before=before)
        return found[:limit], len(found) > limit

    async def purge_locations(self, scope: Scope) -> int:
        """Housekeeping: forget points (history and last known) older than the retention
        setting. Operator scope only."""
        if not scope.unrestricted:
            raise NotAllowed()
        now = self.clock.now()
        cutoff = retention_cutoff(now, self.retention_days)
        async with self.uow_factory(scope) as uow:
            removed = await uow.locations.purge(cutoff)
            if removed:
                uow.audit(
                    "emergency.locations_purged",
                    "volunteer",
                    None,
                    {"removed": removed, "cutoff": cutoff, "retention_days": self.retention_days},
                )
            await uow.commit()
        return removed
