"""A small world for unit tests of the volunteers use cases: two stations of one
district, fixed clock, in-memory fakes, and helpers to create people and scopes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

from fakes.volunteers import Store, make_resident_id, uow_factory

from app.domain.shared.clock import FixedClock
from app.domain.shared.scope import Role, Scope
from app.domain.volunteers.badge import BadgeService
from app.domain.volunteers.lifecycle import VolunteerStatus
from app.domain.volunteers.model import CheckResult
from app.domain.volunteers.ports import StationRef
from app.domain.volunteers.recruitment import ConsentInput, PersonForm
from app.domain.volunteers.services import CheckInput, VolunteerService
from app.domain.volunteers.team_service import TeamService
from app.domain.volunteers.training_service import TrainingService
from app.domain.volunteers.views import VolunteerView

S = VolunteerStatus
NOTICE = "2026-11"
CONSENT = ConsentInput(NOTICE, True)


@dataclass
class World:
    store: Store
    clock: FixedClock
    volunteers: VolunteerService
    teams: TeamService
    training: TrainingService
    badges: BadgeService
    station: StationRef
    other: StationRef

    def officer(self, station: StationRef | None = None, role: Role = Role.OFFICER) -> Scope:
        st = station or self.station
        return Scope(
            uuid.uuid4(), frozenset({role}), frozenset({st.id}), unit_ids=frozenset({st.id})
        )

    def district_admin(self) -> Scope:
        return Scope(
            uuid.uuid4(),
            frozenset({Role.DISTRICT_ADMIN}),
            frozenset({self.station.id, self.other.id}),
            frozenset({self.station.district_id}),
            frozenset({self.station.district_id}),
        )

    def auditor(self) -> Scope:
        scope = self.district_admin()
        return Scope(
            scope.account_id, frozenset({Role.AUDITOR}), scope.station_ids, scope.district_ids
        )


def resident() -> Scope:
    return Scope(uuid.uuid4(), frozenset({Role.RESIDENT}))


def make_world() -> World:
    store = Store()
    station = store.add_station("wj-hutang", "wj")
    other = store.add_station("wj-niutang", "wj")
    clock = FixedClock(datetime(2026, 5, 1, 2, 0, tzinfo=UTC))
    factory = uow_factory(store)
    return World(
        store,
        clock,
        VolunteerService(factory, clock, privacy_notice_version=NOTICE),
        TeamService(factory, clock),
        TrainingService(factory, clock),
        BadgeService(factory, clock),
        station,
        other,
    )


def person(station: StationRef, resident_id: str | None = None, **kw: object) -> PersonForm:
    values: dict[str, object] = {
        "name": "张伟",
        "phone": "13900001111",
        "resident_id": resident_id or make_resident_id(date(1990, 5, 1)),
        "address": "常州市武进区湖塘镇花园街1号",
        "station_id": station.id,
        "source_category": "party_member",
        "skills": ["first_aid"],
        "preferred_roles": ["security"],
    }
    values.update(kw)
    return PersonForm(**values)  # type: ignore[arg-type]


async def activate(w: World, applicant: Scope, officer: Scope) -> VolunteerView:
    v = await w.volunteers.apply(applicant, person(w.station), CONSENT)
    await w.volunteers.record_background_check(officer, v.id, CheckInput(CheckResult.PASSED))
    for target in (S.TRAINING, S.PROBATION, S.ACTIVE):
        v = await w.volunteers.change_status(officer, v.id, target)
    return v
