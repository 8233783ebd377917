"""Ports of the emergency context (units and availability).

Repositories are built per unit of work with the caller's Scope. Units are visible as
their teams are: staff of the team's station (or district), and the team's current
members; a unit outside that does not exist for the caller (404).

Teams, memberships and the caller's volunteer record come from the volunteers and help
contexts through their own ports (``TeamRepository``, ``VolunteerRoster``) on the same
transaction; certificates and member names through the volunteers services
(``CertificateSource``, ``TeamRosterSource``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from app.domain.emergency.duty import MemberDuty
from app.domain.emergency.locations import LocationSample
from app.domain.emergency.model import EmergencyUnit, UnitMember
from app.domain.help.ports import VolunteerRoster
from app.domain.shared.clock import Clock
from app.domain.shared.scope import Scope
from app.domain.shared.uow import UnitOfWork
from app.domain.volunteers.ports import TeamRepository
from app.domain.volunteers.training import Certificate
from app.domain.volunteers.views import MemberView


@dataclass(frozen=True, slots=True)
class UnitSlice:
    items: list[EmergencyUnit]
    has_more: bool


@dataclass(slots=True)
class MemberRecord:
    """One member of one unit: their claimed capabilities and their duty state."""

    member: UnitMember
    duty: MemberDuty

    @classmethod
    def blank(cls, unit_id: uuid.UUID, volunteer_id: uuid.UUID) -> MemberRecord:
        return cls(UnitMember(volunteer_id, unit_id), MemberDuty(volunteer_id, unit_id))


@dataclass(frozen=True, slots=True)
class LastLocation:
    """The last known location of a volunteer and until when they are known on duty
    (None: off duty). The dispatch query reads this table by KNN."""

    volunteer_id: uuid.UUID
    sample: LocationSample
    on_duty_until: datetime | None


class UnitRepository(Protocol):
    async def insert(self, unit: EmergencyUnit) -> bool:
        """Store a new unit with its equipment; ``False`` when the team already is one."""
        ...

    async def get(self, unit_id: uuid.UUID, *, for_update: bool = False) -> EmergencyUnit | None:
        """The unit if the caller may see its team (name and leader come from the team)."""
        ...

    async def get_many(self, ids: Sequence[uuid.UUID]) -> list[EmergencyUnit]: ...

    async def save(self, unit: EmergencyUnit, *, expected_version: int | None) -> None:
        """Store base, offers and equipment, bumping the version (``StaleVersion`` when the
        stored version differs from ``expected_version``, or from the loaded one)."""
        ...

    async def page(
        self, *, station_id: uuid.UUID | None, limit: int, after: uuid.UUID | None
    ) -> UnitSlice:
        """Units the caller may see, newest first (keyset on id)."""
        ...

    async def of_member(self, volunteer_id: uuid.UUID) -> list[EmergencyUnit]:
        """The units whose team the volunteer currently belongs to (the caller's own)."""
        ...


class MemberRepository(Protocol):
    async def get(
        self, unit_id: uuid.UUID, volunteer_id: uuid.UUID, *, for_update: bool = False
    ) -> MemberRecord | None: ...

    async def of_unit(self, unit_id: uuid.UUID) -> dict[uuid.UUID, MemberRecord]: ...

    async def of_volunteer(
        self, volunteer_id: uuid.UUID, unit_ids: Sequence[uuid.UUID], *, for_update: bool = False
    ) -> dict[uuid.UUID, MemberRecord]:
        """The volunteer's records in the given units, by unit id (missing: none yet)."""
        ...

    async def save(self, record: MemberRecord) -> None:
        """Insert or replace claims, roster, shifts and availability."""
        ...


class LocationRepository(Protocol):
    async def last(self, volunteer_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, LastLocation]: ...

    async def record(
        self,
        volunteer_id: uuid.UUID,
        samples: Sequence[LocationSample],
        *,
        on_duty_until: datetime | None,
        received_at: datetime,
    ) -> None:
        """Append ``samples`` to the history and make the newest the last known location
        (with ``on_duty_until``)."""
        ...

    async def set_on_duty_until(self, volunteer_id: uuid.UUID, until: datetime | None) -> None:
        """Update the duty end on the last known location, if there is one."""
        ...

    async def history(
        self, volunteer_id: uuid.UUID, *, limit: int, before: datetime | None
    ) -> list[LocationSample]:
        """The volunteer's kept samples, newest first."""
        ...

    async def purge(self, cutoff: datetime) -> int:
        """Delete samples (history and last known locations) taken before ``cutoff``;
        returns how many rows went."""
        ...


class CertificateSource(Protocol):
    """The volunteers context's training records (``TrainingService``)."""

    async def certificates_of(
        self, scope: Scope, volunteer_ids: list[uuid.UUID]
    ) -> dict[uuid.UUID, list[Certificate]]: ...


class TeamRosterSource(Protocol):
    """Current members of teams with names as the caller may see them (``TeamService``)."""

    async def members_of(
        self, scope: Scope, team_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[MemberView]]: ...


class EmergencyUnitOfWork(UnitOfWork, Protocol):
    clock: Clock

    @property
    def units(self) -> UnitRepository: ...

    @property
    def members(self) -> MemberRepository: ...

    @property
    def locations(self) -> LocationRepository: ...

    @property
    def teams(self) -> TeamRepository: ...

    @property
    def roster(self) -> VolunteerRoster: ...
