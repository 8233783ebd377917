"""Ports of incidents, dispatch and the realtime alert feed.

Visibility (every reader and repository filters in SQL):
- staff see the incidents of their stations (district staff: of their districts), with
  every response and event;
- a volunteer sees an incident only if they were alerted to it, and of its events only
  the incident-wide ones (raised, ring widened, all stood down, resolved, cancelled) and
  their own (alerted, accepted, ..., stood down); never other members' names or steps.
The officer or volunteer who raised an incident also sees it (as a volunteer would).
A foreign incident does not exist for the caller (404).

Events are stored with a global ``seq``; storing one sends ``pg_notify`` on the
``shouwang_emergency`` channel in the same transaction (a trigger, migration 0022) with
``{"seq", "incident", "kind", "member", "station", "district", "drill"}`` — ids only.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, Final, Protocol

from app.domain.emergency.dispatch import Channel, RingPolicy
from app.domain.emergency.glossary import Capability, IncidentType, Severity
from app.domain.emergency.incident import Incident, IncidentEventKind, IncidentStatus
from app.domain.help.ports import VolunteerRoster
from app.domain.media.ports import MediaRepository
from app.domain.shared.clock import Clock
from app.domain.shared.geo import GeoPoint
from app.domain.shared.scope import Scope
from app.domain.shared.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class NearbyMember:
    """An on-duty member of an emergency unit near a point, found by KNN: by their last
    known location (``located``), else by their unit's base while available there."""

    volunteer_id: uuid.UUID
    unit_id: uuid.UUID
    distance_m: float
    capabilities: frozenset[Capability]
    located: bool  # True: last known location; False: the unit's base


@dataclass(frozen=True, slots=True)
class NearbyUnit:
    """An emergency unit near a point (its base), with how many members are on duty."""

    unit_id: uuid.UUID
    station_id: uuid.UUID
    distance_m: float
    offers: frozenset[Capability]
    on_duty: int


class CandidateFinder(Protocol):
    async def nearest_members(
        self,
        point: GeoPoint,
        *,
        district_id: uuid.UUID,
        radius_m: int,
        limit: int,
        required: frozenset[Capability],
        now: datetime,
        exclude: Collection[uuid.UUID] = (),
    ) -> list[NearbyMember]:
        """Members of the district's units on duty at ``now`` within ``radius_m`` of
        ``point``, holding every ``required`` capability, nearest first, at most ``limit``,
        none of ``exclude`` (already alerted); each member once (their nearest position)."""
        ...

    async def nearest_units(
        self,
        point: GeoPoint,
        *,
        district_id: uuid.UUID,
        radius_m: int,
        limit: int,
        required: frozenset[Capability],
        now: datetime,
    ) -> list[NearbyUnit]:
        """The district's units whose base is within ``radius_m``, offering every
        ``required`` capability, nearest first."""
        ...


class KeepType(Enum):
    KEEP = "keep"


KEEP: Final = KeepType.KEEP


@dataclass(frozen=True, slots=True)
class IncidentSlice:
    items: list[Incident]
    has_more: bool


@dataclass(frozen=True, slots=True)
class DueResponse:
    """An alert whose next escalation channel is due."""

    incident_id: uuid.UUID
    member_id: uuid.UUID
    drill: bool
    type: IncidentType
    severity: Severity
    alerted_at: datetime
    answered: bool
    delivered: bool  # a realtime connection took it
    sent: frozenset[Channel]


class IncidentRepository(Protocol):
    async def insert(
        self, incident: Incident, policy: RingPolicy, *, next_check_at: datetime | None
    ) -> None:
        """Store a new incident with the policy in force, its responses and events."""
        ...

    async def get(self, incident_id: uuid.UUID, *, for_update: bool = False) -> Incident | None:
        """The incident if the caller may see it (see the module), with every response."""
        ...

    async def policy_of(self, incident_id: uuid.UUID) -> RingPolicy: ...

    async def save(
        self, incident: Incident, *, next_check_at: datetime | KeepType | None = KEEP
    ) -> None:
        """Store the incident's state and responses, append its pending events (then
        cleared) and bump the version (``StaleVersion`` when it moved meanwhile); new
        alerts get their first escalation check, answered ones none. ``KEEP`` leaves the
        next ring decision as it was."""
        ...

    async def page(
        self,
        *,
        station_id: uuid.UUID | None,
        live_only: bool,
        drill: bool | None,
        limit: int,
        after: uuid.UUID | None,
    ) -> IncidentSlice:
        """Incidents the caller may see, newest first (keyset on id)."""
        ...

    async def due_incidents(self, now: datetime, limit: int) -> list[uuid.UUID]:
        """Incidents whose next ring decision is due (system scope)."""
        ...

    async def due_responses(self, now: datetime, limit: int) -> list[DueResponse]:
        """Alerts whose next channel is due, locked (skipped by other workers)."""
        ...

    async def set_channels(
        self,
        incident_id: uuid.UUID,
        member_id: uuid.UUID,
        sent: frozenset[Channel],
        next_at: datetime | None,
    ) -> None: ...

    async def units_of_station(self, station_id: uuid.UUID) -> list[uuid.UUID] | None:
        """The emergency units of the station; None when the caller may not see it."""
        ...

    async def drills(
        self, *, station_id: uuid.UUID | None, start: datetime, end: datetime
    ) -> list[Incident]:
        """Drills the caller may see alerted in [start, end), with their responses."""
        ...


class DispatchPolicies(Protocol):
    async def of_district(self, district_id: uuid.UUID) -> dict[IncidentType, RingPolicy]: ...

    async def put(
        self,
        district_id: uuid.UUID,
        incident_type: IncidentType,
        policy: RingPolicy | None,
        *,
        by: uuid.UUID,
    ) -> None:
        """Store (None: remove, back to the default) the district's policy for a type."""
        ...


@dataclass(frozen=True, slots=True)
class EventSignal:
    """What the ``shouwang_emergency`` notification says (ids only)."""

    seq: int
    incident_id: uuid.UUID
    kind: IncidentEventKind
    member_id: uuid.UUID | None
    station_id: uuid.UUID | None
    district_id: uuid.UUID
    drill: bool


@dataclass(frozen=True, slots=True)
class IncidentSummary:
    """What any subscriber allowed to see the incident may know of it (no responses)."""

    id: uuid.UUID
    type: IncidentType
    severity: Severity
    location: GeoPoint
    description: str
    drill: bool
    status: IncidentStatus
    raised_at: datetime
    station_id: uuid.UUID | None
    district_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One event as a subscriber receives it, with the incident it concerns."""

    seq: int
    event_id: uuid.UUID
    kind: IncidentEventKind
    at: datetime
    drill: bool
    member_id: uuid.UUID | None
    detail: dict[str, Any]
    incident: IncidentSummary


class AlertListener(Protocol):
    """Every API process listens (one connection each) and fans out to its subscribers."""

    def subscribe(self) -> AsyncGenerator[EventSignal | None, None]:
        """Signals as they are committed; ``None`` when the listening connection was lost
        (the subscriber must resume from the database)."""
        ...


class EventFeedReader(Protocol):
    async def since(self, scope: Scope, after_seq: int, limit: int) -> list[FeedItem]:
        """Events the caller may see with ``seq`` above ``after_seq``, oldest first."""
        ...

    async def mark_delivered(
        self, pairs: Sequence[tuple[uuid.UUID, uuid.UUID]], at: datetime
    ) -> None:
        """Record that realtime connections took the alerts (incident, member) first
        delivered now (the escalation then waits before pushing)."""
        ...


class IncidentUnitOfWork(UnitOfWork, Protocol):
    """Also a media unit of work: photos and videos are attached in its transaction."""

    clock: Clock
    media: MediaRepository

    @property
    def incidents(self) -> IncidentRepository: ...

    @property
    def policies(self) -> DispatchPolicies: ...

    @property
    def candidates(self) -> CandidateFinder: ...

    @property
    def roster(self) -> VolunteerRoster: ...
