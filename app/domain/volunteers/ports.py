"""Ports of the volunteers context. Repositories are built per unit of work with the
caller's Scope and filter every read by it (a record outside scope is not found)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from app.domain.shared.personal_data import parse_cn_mobile, parse_resident_id
from app.domain.shared.uow import UnitOfWork
from app.domain.volunteers.glossary import SourceCategory, TeamType
from app.domain.volunteers.lifecycle import VolunteerStatus
from app.domain.volunteers.model import BackgroundCheck, StatusChange, Volunteer
from app.domain.volunteers.teams import Membership, Team
from app.domain.volunteers.training import Certificate, Course, TrainingRecord


@dataclass(frozen=True, slots=True)
class StationRef:
    id: uuid.UUID
    code: str
    name: str
    district_id: uuid.UUID
    district_code: str


@dataclass(frozen=True, slots=True)
class VolunteerFilter:
    status: VolunteerStatus | None = None
    team_id: uuid.UUID | None = None
    source_category: SourceCategory | None = None
    name_prefix: str | None = None
    phone: str | None = None  # normalised; matched through the blind index
    resident_id: str | None = None  # normalised; matched through the blind index
    station_id: uuid.UUID | None = None

    @classmethod
    def typed(
        cls,
        *,
        today: date,
        q: str | None = None,
        phone: str | None = None,
        resident_id: str | None = None,
        status: VolunteerStatus | None = None,
        team_id: uuid.UUID | None = None,
        station_id: uuid.UUID | None = None,
        source_category: SourceCategory | None = None,
    ) -> VolunteerFilter:
        """The filter from what a caller typed: the name prefix trimmed, phone and ID
        number normalised (exact matches go through the blind index)."""
        name = q.strip() if q else ""
        return cls(
            status=status,
            team_id=team_id,
            source_category=source_category,
            name_prefix=name or None,
            phone=parse_cn_mobile(phone) if phone else None,
            resident_id=parse_resident_id(resident_id, today=today).value if resident_id else None,
            station_id=station_id,
        )


class StationDirectory(Protocol):
    """Read-only view of the organisation tree (stations and communities)."""

    async def station(self, station_id: uuid.UUID) -> StationRef | None: ...

    async def station_by_code(self, code: str) -> StationRef | None: ...

    async def community_in_station(
        self, community_id: uuid.UUID, station_id: uuid.UUID
    ) -> bool: ...

    async def district(self, district_id: uuid.UUID) -> tuple[uuid.UUID, str] | None:
        """(id, code) of a district unit."""
        ...


class VolunteerRepository(Protocol):
    async def add(self, volunteer: Volunteer) -> None:
        """Insert; raises ``AlreadyRegistered`` when an open record exists for the same
        resident ID number or account."""
        ...

    async def get(
        self, volunteer_id: uuid.UUID, *, for_update: bool = False
    ) -> Volunteer | None: ...

    async def get_many(self, ids: Sequence[uuid.UUID]) -> list[Volunteer]: ...

    async def open_record_of_account(self, account_id: uuid.UUID) -> Volunteer | None:
        """The caller's own open record (not filtered by staff scope: it is theirs)."""
        ...

    async def latest_record_of_account(self, account_id: uuid.UUID) -> Volunteer | None: ...

    async def open_record_exists(
        self, *, resident_id: str | None = None, account_id: uuid.UUID | None = None
    ) -> bool:
        """Unscoped uniqueness check, so a conflict is reported whichever station holds
        the other record (the answer reveals nothing but "already registered")."""
        ...

    async def by_badge_token(self, token: str) -> Volunteer | None:
        """Unscoped on purpose: the public badge check (the token is the capability)."""
        ...

    async def number_taken(self, number: str) -> bool:
        """Unscoped: whether any record holds this volunteer number."""
        ...

    async def update(self, volunteer: Volunteer, *, expected_version: int | None) -> None:
        """Save changes and pending history/checks; raises ``StaleVersion`` when the
        stored version differs from ``expected_version`` (or from the loaded one)."""
        ...

    async def search(
        self, flt: VolunteerFilter, *, limit: int, after: uuid.UUID | None
    ) -> list[Volunteer]: ...

    async def rechecks_due(
        self, before: date, *, limit: int, after: tuple[date, uuid.UUID] | None
    ) -> list[Volunteer]: ...

    async def history(self, volunteer_id: uuid.UUID) -> list[StatusChange]: ...

    async def checks(self, volunteer_id: uuid.UUID) -> list[BackgroundCheck]: ...


class NumberCounter(Protocol):
    async def next(self, district_id: uuid.UUID, year: int, *, series: str) -> int:
        """Next per-district, per-year sequence value; unique under concurrency (the
        counter row stays locked until the transaction ends).

        ``series`` names the number space the value is formatted into (prefix and year).
        Districts whose codes give the same prefix share it: they are serialised on the
        series until commit, so a caller skipping numbers already issued never races
        another district for the same number."""
        ...


class RoleGrants(Protocol):
    async def sync(
        self, account_id: uuid.UUID, *, volunteer: bool, team_leader: bool, by: uuid.UUID
    ) -> None:
        """Make the account hold exactly these resident-side roles (unit-less)."""
        ...


@dataclass(frozen=True, slots=True)
class TeamFilter:
    station_id: uuid.UUID | None = None
    type: TeamType | None = None
    brand: str | None = None


class TeamRepository(Protocol):
    async def add(self, team: Team) -> None: ...

    async def get(self, team_id: uuid.UUID, *, for_update: bool = False) -> Team | None: ...

    async def get_many(self, ids: Sequence[uuid.UUID]) -> list[Team]: ...

    async def update(self, team: Team, *, expected_version: int | None) -> None: ...

    async def search(
        self, flt: TeamFilter, *, limit: int, after: uuid.UUID | None
    ) -> list[Team]: ...

    async def add_membership(self, membership: Membership) -> None: ...

    async def end_membership(
        self, team_id: uuid.UUID, volunteer_id: uuid.UUID, *, at: datetime, by: uuid.UUID
    ) -> bool:
        """Record the leave on the current membership; False when there was none."""
        ...

    async def is_member(self, team_id: uuid.UUID, volunteer_id: uuid.UUID) -> bool: ...

    async def current_members(
        self, team_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[Membership]]: ...

    async def current_teams(
        self, volunteer_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[Team]]: ...

    async def public_teams_of(self, volunteer_id: uuid.UUID) -> list[Team]:
        """Unscoped, for the public badge check (brand and name only are shown)."""
        ...

    async def led_by(self, volunteer_id: uuid.UUID) -> list[Team]: ...

    async def end_all_memberships(
        self, volunteer_id: uuid.UUID, *, at: datetime, by: uuid.UUID
    ) -> list[uuid.UUID]:
        """Leave every team (retirement, expulsion); returns the team ids left."""
        ...


class TrainingRepository(Protocol):
    async def add_course(self, course: Course) -> None:
        """Raises ``CourseCodeTaken`` when the district already has the code."""
        ...

    async def get_course(self, course_id: uuid.UUID) -> Course | None: ...

    async def get_courses(self, ids: Sequence[uuid.UUID]) -> list[Course]: ...

    async def list_courses(self, *, limit: int, after: uuid.UUID | None) -> list[Course]: ...

    async def add_record(self, record: TrainingRecord) -> None: ...

    async def certificates(self, volunteer_ids: Sequence[uuid.UUID]) -> list[Certificate]:
        """Records of the given volunteers (those in scope), newest completion first."""
        ...

    async def certificates_by_ids(self, record_ids: Sequence[uuid.UUID]) -> list[Certificate]: ...


class VolunteersUnitOfWork(UnitOfWork, Protocol):
    volunteers: VolunteerRepository
    teams: TeamRepository
    training: TrainingRepository
    stations: StationDirectory
    numbers: NumberCounter
    roles: RoleGrants
