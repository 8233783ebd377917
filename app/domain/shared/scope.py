"""Who is asking: the Scope every use case and repository receives.

Authorisation data comes from the database (loaded per request), never from the token.
Records are scoped by the station (派出所) they were routed to; district roles see every
station of their district plus records that fell outside every station (district queue).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    RESIDENT = "resident"
    VOLUNTEER = "volunteer"
    TEAM_LEADER = "team_leader"
    OFFICER = "officer"
    STATION_ADMIN = "station_admin"
    DISTRICT_ADMIN = "district_admin"
    AUDITOR = "auditor"
    DEPARTMENT = "department"  # 责任部门/责任方: only hazards assigned to it; not staff


STAFF_ROLES = frozenset({Role.OFFICER, Role.STATION_ADMIN, Role.DISTRICT_ADMIN, Role.AUDITOR})
# Roles allowed to change data of the units they are bound to.
WRITING_STAFF_ROLES = frozenset({Role.OFFICER, Role.STATION_ADMIN, Role.DISTRICT_ADMIN})


@dataclass(frozen=True, slots=True)
class RoleCoverage:
    """The jurisdiction one role reaches: roles bound to different units of the same
    account must not lend each other their reach (an auditor's read access elsewhere is
    no officer's write access there)."""

    role: Role
    station_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)
    district_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)


@dataclass(frozen=True, slots=True)
class Scope:
    account_id: uuid.UUID
    roles: frozenset[Role]
    # Stations whose records this caller may see (own station, or all of a district).
    station_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)
    # Districts whose district-level records (outside every station) this caller may see.
    district_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)
    # The organisation units the caller's roles are bound to (as granted).
    unit_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)
    volunteer_id: uuid.UUID | None = None
    session_id: uuid.UUID | None = None
    request_id: str | None = None
    # Operator commands (CLI) act for the whole installation; never set for a request.
    unrestricted: bool = False
    # Per-role reach (the union of which is station_ids / district_ids). Set by the
    # authenticator; a scope built without it holds one jurisdiction for all its roles.
    coverage: tuple[RoleCoverage, ...] = ()
    # The client's install id (``X-Device-Id``), for velocity limits and fraud review
    # only: opaque, never logged (kept out of repr) and stored as a blind index only.
    device_id: str | None = field(default=None, repr=False, compare=False)

    def has(self, *roles: Role) -> bool:
        return any(r in self.roles for r in roles)

    @property
    def is_staff(self) -> bool:
        return bool(self.roles & STAFF_ROLES)

    @property
    def can_write_org_data(self) -> bool:
        return bool(self.roles & WRITING_STAFF_ROLES)

    @property
    def primary_role(self) -> str:
        for role in (
            Role.DISTRICT_ADMIN,
            Role.STATION_ADMIN,
            Role.OFFICER,
            Role.AUDITOR,
            Role.DEPARTMENT,
            Role.TEAM_LEADER,
            Role.VOLUNTEER,
            Role.RESIDENT,
        ):
            if role in self.roles:
                return role.value
        return "system" if self.unrestricted else "anonymous"

    def stations_as(self, *roles: Role) -> frozenset[uuid.UUID]:
        """Stations the caller reaches through ``roles`` only (writes check this, not the
        union ``station_ids`` that reads use)."""
        if not self.coverage:
            return self.station_ids if self.has(*roles) else frozenset()
        return frozenset(s for c in self.coverage if c.role in roles for s in c.station_ids)

    def districts_as(self, *roles: Role) -> frozenset[uuid.UUID]:
        """Districts the caller reaches through ``roles`` only."""
        if not self.coverage:
            return self.district_ids if self.has(*roles) else frozenset()
        return frozenset(d for c in self.coverage if c.role in roles for d in c.district_ids)

    def sees_station(self, station_id: uuid.UUID | None, district_id: uuid.UUID | None) -> bool:
        """Python twin of the SQL scope filter, for records already in memory."""
        if self.unrestricted:
            return True
        if station_id is not None:
            return station_id in self.station_ids
        return district_id is not None and district_id in self.district_ids

    def writes_at(self, station_id: uuid.UUID | None, district_id: uuid.UUID | None) -> bool:
        """Whether a writing staff role (officer, station or district admin) covers a record
        routed to ``station_id`` (or, without one, to the district queue of
        ``district_id``). An auditor's reach is no writer's reach."""
        if self.unrestricted:
            return True
        if station_id is not None:
            return station_id in self.stations_as(*WRITING_STAFF_ROLES)
        return district_id is not None and district_id in self.districts_as(*WRITING_STAFF_ROLES)


SYSTEM_ACCOUNT_ID = uuid.UUID("00000000-0000-7000-8000-000000000000")


def system_scope(request_id: str | None = None) -> Scope:
    """The scope of operator commands (CLI imports, seeding): no jurisdiction limits apply
    because the caller is the machine's operator; every write is still audited."""
    return Scope(
        account_id=SYSTEM_ACCOUNT_ID, roles=frozenset(), request_id=request_id, unrestricted=True
    )
