"""In-memory fakes of the volunteers context's ports, for unit tests of the use cases.

The store is copied when a unit of work opens and written back only on commit, so a use
case that fails leaves nothing behind — like the real transaction.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from types import TracebackType
from typing import Any, Self

from app.domain.shared.errors import StaleVersion
from app.domain.shared.events import DomainEvent
from app.domain.shared.scope import Scope
from app.domain.volunteers.errors import AlreadyRegistered, CourseCodeTaken
from app.domain.volunteers.lifecycle import OPEN
from app.domain.volunteers.model import BackgroundCheck, StatusChange, Volunteer
from app.domain.volunteers.ports import StationRef, TeamFilter, VolunteerFilter
from app.domain.volunteers.teams import Membership, Team
from app.domain.volunteers.training import Certificate, Course, TrainingRecord


@dataclass
class Store:
    stations: dict[uuid.UUID, StationRef] = field(default_factory=dict)
    districts: dict[uuid.UUID, str] = field(default_factory=dict)
    communities: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)  # → station
    volunteers: dict[uuid.UUID, Volunteer] = field(default_factory=dict)
    history: list[StatusChange] = field(default_factory=list)
    checks: list[BackgroundCheck] = field(default_factory=list)
    counters: dict[tuple[uuid.UUID, int], int] = field(default_factory=dict)
    roles: dict[uuid.UUID, set[str]] = field(default_factory=dict)
    teams: dict[uuid.UUID, Team] = field(default_factory=dict)
    memberships: list[Membership] = field(default_factory=list)
    courses: dict[uuid.UUID, Course] = field(default_factory=dict)
    records: list[TrainingRecord] = field(default_factory=list)
    events: list[DomainEvent] = field(default_factory=list)
    audits: list[dict[str, Any]] = field(default_factory=list)
    commits: int = 0

    def add_station(self, code: str, district_code: str = "wj") -> StationRef:
        district_id = next(
            (i for i, c in self.districts.items() if c == district_code), uuid.uuid4()
        )
        self.districts[district_id] = district_code
        station = StationRef(uuid.uuid4(), code, f"{code}派出所", district_id, district_code)
        self.stations[station.id] = station
        return station


def _visible(scope: Scope, station_id: uuid.UUID, district_id: uuid.UUID) -> bool:
    return scope.sees_station(station_id, district_id)


class FakeVolunteers:
    def __init__(self, store: Store, scope: Scope) -> None:
        self.s, self.scope = store, scope

    def _sees(self, v: Volunteer) -> bool:
        mine = v.account_id is not None and v.account_id == self.scope.account_id
        return mine or _visible(self.scope, v.station_id, v.district_id)

    def _flush(self, v: Volunteer) -> None:
        self.s.history.extend(v.new_changes)
        self.s.checks.extend(v.new_checks)
        v.new_changes.clear()
        v.new_checks.clear()

    async def add(self, volunteer: Volunteer) -> None:
        for other in self.s.volunteers.values():
            if other.status not in OPEN:
                continue
            same_id = other.personal.resident_id == volunteer.personal.resident_id
            same_account = volunteer.account_id is not None and (
                other.account_id == volunteer.account_id
            )
            if same_id or same_account:
                raise AlreadyRegistered()
        self._flush(volunteer)
        self.s.volunteers[volunteer.id] = copy.deepcopy(volunteer)

    async def get(self, volunteer_id: uuid.UUID, *, for_update: bool = False) -> Volunteer | None:
        v = self.s.volunteers.get(volunteer_id)
        return copy.deepcopy(v) if v is not None and self._sees(v) else None

    async def get_many(self, ids: Sequence[uuid.UUID]) -> list[Volunteer]:
        return [v for i in ids if (v := await self.get(i)) is not None]

    async def open_record_of_account(self, account_id: uuid.UUID) -> Volunteer | None:
        found = [
            v for v in self.s.volunteers.values() if v.account_id == account_id and v.status in OPEN
        ]
        return copy.deepcopy(found[0]) if found else None

    async def latest_record_of_account(self, account_id: uuid.UUID) -> Volunteer | None:
        found = sorted(
            (v for v in self.s.volunteers.values() if v.account_id == account_id),
            key=lambda v: v.id,
        )
        return copy.deepcopy(found[-1]) if found else None

    async def open_record_exists(
        self, *, resident_id: str | None = None, account_id: uuid.UUID | None = None
    ) -> bool:
        return any(
            v.status in OPEN
            and (
                (resident_id is not None and v.personal.resident_id == resident_id)
                or (account_id is not None and v.account_id == account_id)
            )
            for v in self.s.volunteers.values()
        )

    async def by_badge_token(self, token: str) -> Volunteer | None:
        for v in self.s.volunteers.values():
            if v.identification and v.identification.badge_token == token:
                return copy.deepcopy(v)
        return None

    async def number_taken(self, number: str) -> bool:
        return any(
            v.identification is not None and v.identification.number == number
            for v in self.s.volunteers.values()
        )

    async def update(self, volunteer: Volunteer, *, expected_version: int | None) -> None:
        stored = self.s.volunteers[volunteer.id]
        if stored.version != (expected_version or volunteer.version):
            raise StaleVersion()
        self._flush(volunteer)
        volunteer.version = stored.version + 1
        self.s.volunteers[volunteer.id] = copy.deepcopy(volunteer)

    async def search(
        self, flt: VolunteerFilter, *, limit: int, after: uuid.UUID | None
    ) -> list[Volunteer]:
        team_members = (
            {
                m.volunteer_id
                for m in self.s.memberships
                if m.team_id == flt.team_id and not m.left_at
            }
            if flt.team_id
            else None
        )
        rows = [
            v
            for v in sorted(self.s.volunteers.values(), key=lambda v: v.id, reverse=True)
            if self._sees(v)
            and (after is None or v.id < after)
            and (flt.status is None or v.status == flt.status)
            and (flt.source_category is None or v.source_category == flt.source_category)
            and (flt.name_prefix is None or v.name.startswith(flt.name_prefix))
            and (flt.phone is None or v.personal.phone == flt.phone)
            and (flt.resident_id is None or v.personal.resident_id == flt.resident_id)
            and (team_members is None or v.id in team_members)
        ]
        return copy.deepcopy(rows[:limit])

    async def rechecks_due(
        self, before: date, *, limit: int, after: tuple[date, uuid.UUID] | None
    ) -> list[Volunteer]:
        rows = sorted(
            (
                v
                for v in self.s.volunteers.values()
                if self._sees(v)
                and v.status in OPEN
                and v.next_recheck_on is not None
                and v.next_recheck_on <= before
            ),
            key=lambda v: (v.next_recheck_on, v.id),
        )
        if after is not None:
            rows = [v for v in rows if (v.next_recheck_on, v.id) > after]
        return copy.deepcopy(rows[:limit])

    async def history(self, volunteer_id: uuid.UUID) -> list[StatusChange]:
        return [h for h in self.s.history if h.volunteer_id == volunteer_id]

    async def checks(self, volunteer_id: uuid.UUID) -> list[BackgroundCheck]:
        return [c for c in self.s.checks if c.volunteer_id == volunteer_id]


class FakeTeams:
    def __init__(self, store: Store, scope: Scope) -> None:
        self.s, self.scope = store, scope

    def _sees(self, t: Team) -> bool:
        if _visible(self.scope, t.station_id, t.district_id):
            return True
        mine = {v.id for v in self.s.volunteers.values() if v.account_id == self.scope.account_id}
        return any(
            m.team_id == t.id and m.volunteer_id in mine and m.left_at is None
            for m in self.s.memberships
        )

    async def add(self, team: Team) -> None:
        self.s.teams[team.id] = copy.deepcopy(team)

    async def get(self, team_id: uuid.UUID, *, for_update: bool = False) -> Team | None:
        t = self.s.teams.get(team_id)
        return copy.deepcopy(t) if t is not None and self._sees(t) else None

    async def get_many(self, ids: Sequence[uuid.UUID]) -> list[Team]:
        return [t for i in ids if (t := await self.get(i)) is not None]

    async def update(self, team: Team, *, expected_version: int | None) -> None:
        stored = self.s.teams[team.id]
        if stored.version != (expected_version or team.version):
            raise StaleVersion()
        team.version = stored.version + 1
        self.s.teams[team.id] = copy.deepcopy(team)

    async def search(self, flt: TeamFilter, *, limit: int, after: uuid.UUID | None) -> list[Team]:
        rows = [
            t
            for t in sorted(self.s.teams.values(), key=lambda t: t.id, reverse=True)
            if self._sees(t)
            and (after is None or t.id < after)
            and (flt.type is None or t.type == flt.type)
            and (flt.station_id is None or t.station_id == flt.station_id)
        ]
        return copy.deepcopy(rows[:limit])

    async def add_membership(self, membership: Membership) -> None:
        self.s.memberships.append(membership)

    async def end_membership(
        self, team_id: uuid.UUID, volunteer_id: uuid.UUID, *, at: datetime, by: uuid.UUID
    ) -> bool:
        for i, m in enumerate(self.s.memberships):
            if m.team_id == team_id and m.volunteer_id == volunteer_id and m.left_at is None:
                self.s.memberships[i] = replace(m, left_at=at, removed_by=by)
                return True
        return False

    async def is_member(self, team_id: uuid.UUID, volunteer_id: uuid.UUID) -> bool:
        return any(
            m.team_id == team_id and m.volunteer_id == volunteer_id and m.left_at is None
            for m in self.s.memberships
        )

    async def current_members(
        self, team_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[Membership]]:
        out: dict[uuid.UUID, list[Membership]] = {i: [] for i in team_ids}
        for m in self.s.memberships:
            if m.team_id in out and m.left_at is None:
                out[m.team_id].append(m)
        return out

    async def current_teams(
        self, volunteer_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[Team]]:
        out: dict[uuid.UUID, list[Team]] = {i: [] for i in volunteer_ids}
        for m in self.s.memberships:
            if m.volunteer_id in out and m.left_at is None:
                team = await self.get(m.team_id)
                if team is not None:
                    out[m.volunteer_id].append(team)
        return out

    async def public_teams_of(self, volunteer_id: uuid.UUID) -> list[Team]:
        return [
            copy.deepcopy(self.s.teams[m.team_id])
            for m in self.s.memberships
            if m.volunteer_id == volunteer_id and m.left_at is None
        ]

    async def led_by(self, volunteer_id: uuid.UUID) -> list[Team]:
        return [copy.deepcopy(t) for t in self.s.teams.values() if t.leader_id == volunteer_id]

    async def end_all_memberships(
        self, volunteer_id: uuid.UUID, *, at: datetime, by: uuid.UUID
    ) -> list[uuid.UUID]:
        left = []
        for i, m in enumerate(self.s.memberships):
            if m.volunteer_id == volunteer_id and m.left_at is None:
                self.s.memberships[i] = replace(m, left_at=at, removed_by=by)
                left.append(m.team_id)
        return left


class FakeTraining:
    def __init__(self, store: Store, scope: Scope) -> None:
        self.s, self.scope = store, scope

    def _sees(self, c: Course) -> bool:
        if self.scope.unrestricted:
            return True
        if c.station_id is not None:
            return c.station_id in self.scope.station_ids
        districts = {self.s.stations[i].district_id for i in self.scope.station_ids}
        return c.district_id in districts | self.scope.district_ids

    async def add_course(self, course: Course) -> None:
        if any(
            c.district_id == course.district_id and c.code == course.code
            for c in self.s.courses.values()
        ):
            raise CourseCodeTaken()
        self.s.courses[course.id] = course

    async def get_course(self, course_id: uuid.UUID) -> Course | None:
        c = self.s.courses.get(course_id)
        return c if c is not None and self._sees(c) else None

    async def get_courses(self, ids: Sequence[uuid.UUID]) -> list[Course]:
        return [c for i in ids if (c := await self.get_course(i)) is not None]

    async def list_courses(self, *, limit: int, after: uuid.UUID | None) -> list[Course]:
        rows = [
            c
            for c in sorted(self.s.courses.values(), key=lambda c: c.id, reverse=True)
            if self._sees(c) and (after is None or c.id < after)
        ]
        return rows[:limit]

    async def add_record(self, record: TrainingRecord) -> None:
        self.s.records.append(record)

    async def certificates_by_ids(self, record_ids: Sequence[uuid.UUID]) -> list[Certificate]:
        ids = [r.volunteer_id for r in self.s.records if r.id in record_ids]
        return [c for c in await self.certificates(ids) if c.record.id in record_ids]

    async def certificates(self, volunteer_ids: Sequence[uuid.UUID]) -> list[Certificate]:
        visible = {
            v.id
            for v in self.s.volunteers.values()
            if v.account_id == self.scope.account_id
            or _visible(self.scope, v.station_id, v.district_id)
        }
        rows = [
            r
            for r in self.s.records
            if r.volunteer_id in volunteer_ids and r.volunteer_id in visible
        ]
        rows.sort(key=lambda r: (r.completed_on, r.id), reverse=True)
        return [Certificate(record=r, course=self.s.courses[r.course_id]) for r in rows]


class FakeStations:
    def __init__(self, store: Store) -> None:
        self.s = store

    async def station(self, station_id: uuid.UUID) -> StationRef | None:
        return self.s.stations.get(station_id)

    async def station_by_code(self, code: str) -> StationRef | None:
        return next((st for st in self.s.stations.values() if st.code == code), None)

    async def community_in_station(self, community_id: uuid.UUID, station_id: uuid.UUID) -> bool:
        return self.s.communities.get(community_id) == station_id

    async def district(self, district_id: uuid.UUID) -> tuple[uuid.UUID, str] | None:
        code = self.s.districts.get(district_id)
        return (district_id, code) if code is not None else None


class FakeNumbers:
    def __init__(self, store: Store) -> None:
        self.s = store

    async def next(self, district_id: uuid.UUID, year: int, *, series: str) -> int:
        key = (district_id, year)
        self.s.counters[key] = self.s.counters.get(key, 0) + 1
        return self.s.counters[key]


class FakeRoles:
    def __init__(self, store: Store) -> None:
        self.s = store

    async def sync(
        self, account_id: uuid.UUID, *, volunteer: bool, team_leader: bool, by: uuid.UUID
    ) -> None:
        held = self.s.roles.setdefault(account_id, set())
        for role, wanted in (("volunteer", volunteer), ("team_leader", team_leader)):
            if wanted:
                held.add(role)
            else:
                held.discard(role)


class FakeUnitOfWork:
    def __init__(self, shared: Store, scope: Scope) -> None:
        self.shared = shared
        self.scope = scope

    async def __aenter__(self) -> Self:
        self.work = copy.deepcopy(self.shared)
        self.volunteers = FakeVolunteers(self.work, self.scope)
        self.teams = FakeTeams(self.work, self.scope)
        self.training = FakeTraining(self.work, self.scope)
        self.stations = FakeStations(self.work)
        self.numbers = FakeNumbers(self.work)
        self.roles = FakeRoles(self.work)
        self._events: list[DomainEvent] = []
        self._audits: list[dict[str, Any]] = []
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    def add_event(self, event: DomainEvent) -> None:
        self._events.append(event)

    def audit(
        self,
        action: str,
        record_type: str,
        record_id: uuid.UUID | None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        self._audits.append(
            {
                "action": action,
                "record_type": record_type,
                "record_id": record_id,
                "actor_id": self.scope.account_id,
                "detail": detail or {},
            }
        )

    async def commit(self) -> None:
        self.work.events.extend(self._events)
        self.work.audits.extend(self._audits)
        self.work.commits += 1
        self.shared.__dict__.update(copy.deepcopy(self.work).__dict__)

    async def rollback(self) -> None:
        self._events.clear()
        self._audits.clear()


def uow_factory(store: Store) -> Any:
    return lambda scope: FakeUnitOfWork(store, scope)


_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def make_resident_id(birth: date, serial: str = "123", region: str = "320412") -> str:
    """A valid GB 11643 number (checksum computed here, independently of the code)."""
    body = f"{region}{birth:%Y%m%d}{serial}"
    total = sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True))
    return body + "10X98765432"[total % 11]


def random_resident_id(birth: date | None = None) -> str:
    import random
    from datetime import timedelta

    day = birth or date(1960, 1, 1) + timedelta(days=random.randint(0, 14_000))
    return make_resident_id(day, f"{random.randint(0, 999):03d}")


def random_phone() -> str:
    import random

    return f"139{random.randint(0, 99_999_999):08d}"
