"""Use cases of the volunteer archive: recruitment, vetting, lifecycle, identification.

Every method takes the caller's Scope first, opens one unit of work, lets the entity
decide, audits, raises events (ids only) and commits once.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from app.domain.shared.clock import Clock, local_date
from app.domain.shared.errors import FieldError, InvalidInput, NotAllowed, StaleVersion
from app.domain.shared.events import DomainEvent
from app.domain.shared.ids import new_id
from app.domain.shared.scope import Scope
from app.domain.volunteers.access import (
    is_self,
    is_station_staff,
    require_manage,
    require_not_self,
    sees_full_personal_data,
)
from app.domain.volunteers.badge import district_prefix, new_identification
from app.domain.volunteers.errors import AlreadyRegistered, VolunteerNotFound
from app.domain.volunteers.lifecycle import SERVING, VolunteerStatus
from app.domain.volunteers.model import (
    BackgroundCheck,
    CheckResult,
    Identification,
    Origin,
    ProfileChanges,
    StatusChange,
    Volunteer,
    new_background_check,
    new_volunteer,
)
from app.domain.volunteers.ports import (
    StationRef,
    VolunteerFilter,
    VolunteersUnitOfWork,
)
from app.domain.volunteers.recruitment import (
    ConsentInput,
    PersonForm,
    ValidPerson,
    accept_consent,
    apply_profile,
    validate_person,
)
from app.domain.volunteers.views import (
    MyProfile,
    Page,
    VolunteerView,
    view_of,
)

UowFactory = Callable[[Scope], VolunteersUnitOfWork]
S = VolunteerStatus


@dataclass(frozen=True, slots=True)
class CheckInput:
    result: CheckResult
    checked_on: date | None = None  # default: today
    note: str | None = None
    next_recheck_on: date | None = None  # default: one year after a passed check


def unknown_station() -> InvalidInput:
    message = "The police station does not exist."
    return InvalidInput(
        message,
        "派出所不存在。",
        code="volunteer.unknown_station",
        fields=[FieldError("station_id", "unknown", message)],
    )


def unknown_community() -> InvalidInput:
    message = "The community does not belong to the chosen station."
    return InvalidInput(
        message,
        "所选社区不属于该派出所。",
        code="volunteer.unknown_community",
        fields=[FieldError("community_id", "unknown", message)],
    )


def _event(name: str, v: Volunteer, at: datetime, **payload: Any) -> DomainEvent:
    return DomainEvent(name, "volunteer", v.id, at, {"station_id": v.station_id, **payload})


async def sync_roles(uow: VolunteersUnitOfWork, v: Volunteer, by: uuid.UUID) -> None:
    """The account holds "volunteer" while active and "team_leader" while serving and
    leading a team; suspension, retirement and expulsion take both away."""
    if v.account_id is None:
        return
    leads = bool(await uow.teams.led_by(v.id)) if v.status in SERVING else False
    await uow.roles.sync(v.account_id, volunteer=v.status == S.ACTIVE, team_leader=leads, by=by)


async def after_status_change(
    uow: VolunteersUnitOfWork, v: Volunteer, change: StatusChange, *, first_activation: bool
) -> None:
    """Consequences of a status change outside the volunteer record itself."""
    by, at = change.by, change.at
    if change.to_status in (S.RETIRED, S.EXPELLED):
        for team in await uow.teams.led_by(v.id):
            team.member_left(v.id)
            await uow.teams.update(team, expected_version=None)
        for team_id in await uow.teams.end_all_memberships(v.id, at=at, by=by):
            uow.add_event(
                DomainEvent("team.member_left", "team", team_id, at, {"volunteer_id": v.id})
            )
    await sync_roles(uow, v, by)
    uow.add_event(
        _event(
            "volunteer.status_changed",
            v,
            at,
            from_status=change.from_status,
            to_status=change.to_status,
        )
    )
    if first_activation:
        uow.add_event(_event("volunteer.activated", v, at))


class VolunteerService:
    def __init__(self, uow_factory: UowFactory, clock: Clock, *, privacy_notice_version: str):
        self.uow_factory = uow_factory
        self.clock = clock
        self.privacy_notice_version = privacy_notice_version

    # --- Recruitment (统一招募) -----------------------------------------------------------

    async def apply(
        self, scope: Scope, form: PersonForm, consent: ConsentInput | None
    ) -> VolunteerView:
        """A signed-in resident applies to join a station's volunteers."""
        if scope.unrestricted:
            raise NotAllowed("Only a person can apply.", "只能由本人申请。")
        now = self.clock.now()
        person = validate_person(form, today=local_date(now))
        accepted = accept_consent(consent, notice_version=self.privacy_notice_version, at=now)
        async with self.uow_factory(scope) as uow:
            station = await self._station_for(uow, person)
            if await uow.volunteers.open_record_exists(account_id=scope.account_id):
                raise AlreadyRegistered()
            v = await self._create(
                uow, scope, person, station, Origin.APPLICATION, scope.account_id, now
            )
            v.consent = accepted
            await uow.volunteers.add(v)
            uow.audit(
                "volunteer.applied",
                "volunteer",
                v.id,
                {"station_id": v.station_id, "notice_version": accepted.notice_version},
            )
            uow.add_event(_event("volunteer.applied", v, now, origin=v.origin))
            await uow.commit()
        return view_of(v, full=True, full_name=True, is_self=True)

    async def register(
        self,
        scope: Scope,
        form: PersonForm,
        consent: ConsentInput | None = None,
        *,
        origin: Origin = Origin.REGISTRATION,
    ) -> VolunteerView:
        """Staff register a person for their station (paper form, bulk import).

        Consent, when given, must be to the current notice; staff registering on paper
        attest it, and imports carry none (the lawful basis is recorded offline).
        """
        now = self.clock.now()
        person = validate_person(form, today=local_date(now))
        accepted = (
            accept_consent(consent, notice_version=self.privacy_notice_version, at=now)
            if consent is not None
            else None
        )
        async with self.uow_factory(scope) as uow:
            station = await self._station_for(uow, person)
            require_manage(scope, station.id, station.district_id)
            v = await self._create(uow, scope, person, station, origin, None, now)
            v.consent = accepted
            await uow.volunteers.add(v)
            uow.audit("volunteer.registered", "volunteer", v.id, {"origin": origin})
            uow.add_event(_event("volunteer.applied", v, now, origin=origin))
            await uow.commit()
        return view_of(v, full=is_station_staff(scope, v.station_id), full_name=True)

    async def _station_for(self, uow: VolunteersUnitOfWork, person: ValidPerson) -> StationRef:
        station = await uow.stations.station(person.station_id)
        if station is None:
            raise unknown_station()
        if person.community_id is not None and not await uow.stations.community_in_station(
            person.community_id, station.id
        ):
            raise unknown_community()
        return station

    async def _create(
        self,
        uow: VolunteersUnitOfWork,
        scope: Scope,
        person: ValidPerson,
        station: StationRef,
        origin: Origin,
        account_id: uuid.UUID | None,
        now: datetime,
    ) -> Volunteer:
        if await uow.volunteers.open_record_exists(resident_id=person.personal.resident_id):
            raise AlreadyRegistered()
        return new_volunteer(
            volunteer_id=new_id(),
            station_id=station.id,
            district_id=station.district_id,
            community_id=person.community_id,
            account_id=account_id,
            name=person.name,
            personal=person.personal,
            source_category=person.source_category,
            skills=person.skills,
            preferred_roles=person.preferred_roles,
            origin=origin,
            consent=None,
            by=scope.account_id,
            at=now,
        )

    async def station_by_code(self, scope: Scope, code: str) -> StationRef | None:
        async with self.uow_factory(scope) as uow:
            return await uow.stations.station_by_code(code)

    # --- Archive reads (统一档案) -----------------------------------------------------------

    async def get(self, scope: Scope, volunteer_id: uuid.UUID) -> VolunteerView:
        async with self.uow_factory(scope) as uow:
            v = await uow.volunteers.get(volunteer_id)
            if v is None:
                raise VolunteerNotFound()
            view = self._view(scope, v)
            if view.full_personal_data and not view.is_self and not scope.unrestricted:
                # Revealing full personal data to staff is a privileged read.
                uow.audit("volunteer.personal_data_viewed", "volunteer", v.id)
                await uow.commit()
        return view

    @staticmethod
    def _view(scope: Scope, v: Volunteer) -> VolunteerView:
        mine = is_self(scope, v.account_id)
        full = sees_full_personal_data(scope, v.station_id, v.account_id)
        return view_of(v, full=full, full_name=full, is_self=mine)

    @staticmethod
    def _summary(scope: Scope, v: Volunteer) -> VolunteerView:
        """List rows: the name in full for the station's staff (they search and sort by
        it), personal data always masked except for the person themself."""
        mine = is_self(scope, v.account_id)
        staff = is_station_staff(scope, v.station_id)
        return view_of(v, full=mine, full_name=mine or staff, is_self=mine)

    async def search(
        self, scope: Scope, flt: VolunteerFilter, *, limit: int, after: uuid.UUID | None = None
    ) -> Page[VolunteerView]:
        async with self.uow_factory(scope) as uow:
            rows = await uow.volunteers.search(flt, limit=limit + 1, after=after)
            more = len(rows) > limit
            rows = rows[:limit]
            if scope.is_staff:
                # Listing people is a privileged read; the filter values themselves may
                # be personal data, so only which filters were used is recorded.
                uow.audit(
                    "volunteer.listed",
                    "volunteer",
                    None,
                    {
                        "filters": sorted(k for k, val in vars_of(flt).items() if val is not None),
                        "count": len(rows),
                    },
                )
                await uow.commit()
        items = [self._summary(scope, v) for v in rows]
        return Page(items, (rows[-1].id,) if more and rows else None)

    async def get_many(self, scope: Scope, ids: list[uuid.UUID]) -> list[VolunteerView]:
        """Batch read for DataLoaders and node lookups: list rows, scoped, in any order."""
        async with self.uow_factory(scope) as uow:
            rows = await uow.volunteers.get_many(ids)
            if rows and scope.is_staff:
                # Batches of people read by staff are listings too (see ``search``).
                uow.audit(
                    "volunteer.listed",
                    "volunteer",
                    rows[0].id if len(rows) == 1 else None,
                    {"filters": ["ids"], "count": len(rows)},
                )
                await uow.commit()
        return [self._summary(scope, v) for v in rows]

    async def history(self, scope: Scope, volunteer_id: uuid.UUID) -> list[StatusChange]:
        async with self.uow_factory(scope) as uow:
            if await uow.volunteers.get(volunteer_id) is None:
                raise VolunteerNotFound()
            return await uow.volunteers.history(volunteer_id)

    async def checks(self, scope: Scope, volunteer_id: uuid.UUID) -> list[BackgroundCheck]:
        async with self.uow_factory(scope) as uow:
            v = await uow.volunteers.get(volunteer_id)
            if v is None:
                raise VolunteerNotFound()
            if not scope.is_staff and not scope.unrestricted:
                raise NotAllowed(code="volunteer.staff_only")
            return await uow.volunteers.checks(volunteer_id)

    async def rechecks_due(
        self,
        scope: Scope,
        before: date,
        *,
        limit: int,
        after: tuple[date, uuid.UUID] | None = None,
    ) -> Page[VolunteerView]:
        """Volunteers whose periodic background re-check (定期复查) is due by ``before``."""
        if not scope.is_staff and not scope.unrestricted:
            raise NotAllowed(code="volunteer.staff_only")
        async with self.uow_factory(scope) as uow:
            rows = await uow.volunteers.rechecks_due(before, limit=limit + 1, after=after)
            more = len(rows) > limit
            rows = rows[:limit]
            uow.audit("volunteer.rechecks_listed", "volunteer", None, {"count": len(rows)})
            await uow.commit()
        last = rows[-1] if rows else None
        next_after = (
            (last.next_recheck_on, last.id) if more and last and last.next_recheck_on else None
        )
        return Page([self._summary(scope, v) for v in rows], next_after)

    async def my_profile(self, scope: Scope) -> MyProfile | None:
        """The caller's own latest volunteer record (or None), with teams and certificates."""
        async with self.uow_factory(scope) as uow:
            v = await uow.volunteers.latest_record_of_account(scope.account_id)
            if v is None:
                return None
            teams = (await uow.teams.current_teams([v.id])).get(v.id, [])
            certificates = await uow.training.certificates([v.id])
        return MyProfile(
            volunteer=view_of(v, full=True, full_name=True, is_self=True),
            teams=tuple(teams),
            certificates=tuple(certificates),
        )

    # --- Management (统一管理) --------------------------------------------------------------

    async def update_profile(
        self,
        scope: Scope,
        volunteer_id: uuid.UUID,
        changes: ProfileChanges,
        *,
        expected_version: int,
    ) -> VolunteerView:
        async with self.uow_factory(scope) as uow:
            v = await uow.volunteers.get(volunteer_id, for_update=True)
            if v is None:
                raise VolunteerNotFound()
            fields = changes.fields_set()
            if is_self(scope, v.account_id):
                if not fields <= ProfileChanges.SELF_EDITABLE:
                    raise NotAllowed(
                        "These fields are kept by your police station.",
                        "这些信息由派出所维护。",
                        code="volunteer.field_staff_only",
                    )
            else:
                require_manage(scope, v.station_id, v.district_id)
            if v.version != expected_version:
                raise StaleVersion()
            if changes.community_id is not None and not await uow.stations.community_in_station(
                changes.community_id, v.station_id
            ):
                raise unknown_community()
            changed = apply_profile(v, changes)
            await uow.volunteers.update(v, expected_version=expected_version)
            uow.audit("volunteer.profile_updated", "volunteer", v.id, {"fields": changed})
            uow.add_event(_event("volunteer.profile_updated", v, self.clock.now()))
            await uow.commit()
        return self._view(scope, v)

    async def record_background_check(
        self, scope: Scope, volunteer_id: uuid.UUID, data: CheckInput
    ) -> tuple[VolunteerView, BackgroundCheck]:
        """Record a background check (背景审查) or periodic re-check and its outcome."""
        now = self.clock.now()
        async with self.uow_factory(scope) as uow:
            v = await uow.volunteers.get(volunteer_id, for_update=True)
            if v is None:
                raise VolunteerNotFound()
            require_not_self(scope, v.account_id)
            require_manage(scope, v.station_id, v.district_id)
            check = new_background_check(
                volunteer_id=v.id,
                checked_by=scope.account_id,
                checked_on=data.checked_on or local_date(now),
                result=data.result,
                note=data.note,
                next_recheck_on=data.next_recheck_on,
                recorded_at=now,
                check_id=new_id(),
            )
            change = v.record_check(check)
            if change is not None:
                await after_status_change(uow, v, change, first_activation=False)
            await uow.volunteers.update(v, expected_version=None)
            uow.audit(
                "volunteer.background_checked",
                "volunteer",
                v.id,
                {"check_id": check.id, "result": check.result},
            )
            uow.add_event(_event("volunteer.background_checked", v, now, check_id=check.id))
            await uow.commit()
        return self._view(scope, v), check

    async def change_status(
        self,
        scope: Scope,
        volunteer_id: uuid.UUID,
        to: VolunteerStatus,
        *,
        reason: str | None = None,
        expected_version: int | None = None,
    ) -> VolunteerView:
        now = self.clock.now()
        async with self.uow_factory(scope) as uow:
            v = await uow.volunteers.get(volunteer_id, for_update=True)
            if v is None:
                raise VolunteerNotFound()
            require_not_self(scope, v.account_id)
            require_manage(scope, v.station_id, v.district_id)
            if expected_version is not None and v.version != expected_version:
                raise StaleVersion()
            v.check_transition(to, reason)
            first_activation = to == S.ACTIVE and v.needs_identification
            identification: Identification | None = None
            if first_activation:
                identification = await self._identify(uow, v, now)
            change = v.change_status(
                to, reason=reason, by=scope.account_id, at=now, identification=identification
            )
            await after_status_change(uow, v, change, first_activation=first_activation)
            await uow.volunteers.update(v, expected_version=expected_version)
            uow.audit(
                "volunteer.status_changed",
                "volunteer",
                v.id,
                {"from": change.from_status, "to": change.to_status},
            )
            await uow.commit()
        return self._view(scope, v)

    async def _identify(
        self, uow: VolunteersUnitOfWork, v: Volunteer, now: datetime
    ) -> Identification:
        """Unified identification: number from the district's counter, random token."""
        district = await uow.stations.district(v.district_id)
        prefix = district_prefix(district[1] if district else "")
        year = local_date(now).year
        # Prefixes are not unique (codes differing in case or beyond the prefix length):
        # skip numbers another district of the same prefix already issued.
        while True:
            sequence = await uow.numbers.next(v.district_id, year, series=f"{prefix}-{year}")
            identification = new_identification(prefix, year, sequence)
            if not await uow.volunteers.number_taken(identification.number):
                return identification


def vars_of(flt: VolunteerFilter) -> dict[str, object]:
    return {name: getattr(flt, name) for name in flt.__dataclass_fields__}
