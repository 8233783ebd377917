"""What the doors show of a volunteer: full or masked, decided by the service."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Generic, TypeVar

from app.domain.shared.personal_data import (
    mask_address,
    mask_name,
    mask_phone,
    mask_resident_id,
)
from app.domain.volunteers.glossary import PreferredRole, SourceCategory
from app.domain.volunteers.lifecycle import VolunteerStatus
from app.domain.volunteers.model import Origin, Volunteer
from app.domain.volunteers.teams import Team
from app.domain.volunteers.training import Certificate


@dataclass(frozen=True, slots=True)
class VolunteerView:
    id: uuid.UUID
    station_id: uuid.UUID
    district_id: uuid.UUID
    community_id: uuid.UUID | None
    name: str
    phone: str
    resident_id: str
    address: str
    # True when phone, resident ID and address are shown in full.
    full_personal_data: bool
    source_category: SourceCategory
    skills: tuple[str, ...]
    preferred_roles: tuple[PreferredRole, ...]
    has_photo: bool
    status: VolunteerStatus
    origin: Origin
    volunteer_number: str | None
    # The badge token is a bearer capability for the public check: owner and staff only.
    badge_token: str | None
    activated_at: datetime | None
    next_recheck_on: date | None
    consent_notice_version: str | None
    consent_at: datetime | None
    created_at: datetime
    version: int
    is_self: bool


def view_of(v: Volunteer, *, full: bool, full_name: bool, is_self: bool = False) -> VolunteerView:
    p = v.personal
    ident = v.identification
    return VolunteerView(
        id=v.id,
        station_id=v.station_id,
        district_id=v.district_id,
        community_id=v.community_id,
        name=v.name if full or full_name else mask_name(v.name),
        phone=p.phone if full else mask_phone(p.phone),
        resident_id=p.resident_id if full else mask_resident_id(p.resident_id),
        address=p.address if full else mask_address(p.address),
        full_personal_data=full,
        source_category=v.source_category,
        skills=v.skills,
        preferred_roles=v.preferred_roles,
        has_photo=v.has_photo,
        status=v.status,
        origin=v.origin,
        volunteer_number=ident.number if ident else None,
        badge_token=ident.badge_token if ident and full else None,
        activated_at=v.activated_at,
        next_recheck_on=v.next_recheck_on,
        consent_notice_version=v.consent.notice_version if v.consent else None,
        consent_at=v.consent.accepted_at if v.consent else None,
        created_at=v.created_at,
        version=v.version,
        is_self=is_self,
    )


@dataclass(frozen=True, slots=True)
class MemberView:
    team_id: uuid.UUID
    volunteer_id: uuid.UUID
    name: str  # full for the station's staff, masked for others
    volunteer_number: str | None
    status: VolunteerStatus
    joined_at: datetime
    is_leader: bool


@dataclass(frozen=True, slots=True)
class TeamDetail:
    team: Team
    members: tuple[MemberView, ...]


@dataclass(frozen=True, slots=True)
class MyProfile:
    """The signed-in person's own volunteer record with everything around it."""

    volunteer: VolunteerView
    teams: tuple[Team, ...]
    certificates: tuple[Certificate, ...]


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    # Keyset: the last item's sort key when more items follow, else None.
    next_after: tuple[object, ...] | None
