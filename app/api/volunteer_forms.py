"""Volunteer forms as both doors read them: the same fields make the same commands.

Each door parses its own ids (UUIDs in REST, global ids in GraphQL) and reports a
missing station its own way; the mapping of the person's fields is shared here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol
from uuid import UUID

from app.domain.shared.scope import WRITING_STAFF_ROLES, Scope
from app.domain.volunteers.glossary import PreferredRole, SourceCategory
from app.domain.volunteers.model import ProfileChanges
from app.domain.volunteers.recruitment import PersonForm


class PersonFields(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def phone(self) -> str: ...
    @property
    def resident_id(self) -> str: ...
    @property
    def address(self) -> str: ...
    @property
    def source_category(self) -> SourceCategory: ...
    @property
    def skills(self) -> list[str]: ...
    @property
    def preferred_roles(self) -> list[PreferredRole]: ...


class ProfileFields(Protocol):
    @property
    def name(self) -> str | None: ...
    @property
    def phone(self) -> str | None: ...
    @property
    def address(self) -> str | None: ...
    @property
    def skills(self) -> list[str] | None: ...
    @property
    def preferred_roles(self) -> list[PreferredRole] | None: ...
    @property
    def has_photo(self) -> bool | None: ...
    @property
    def source_category(self) -> SourceCategory | None: ...


def station_or_default(
    scope: Scope, station_id: UUID | None, missing: Callable[[], Exception]
) -> UUID:
    """The station a person joins: as given, else the one station of the staff member
    registering them; ``missing()`` is raised when neither names one."""
    writable = scope.stations_as(*WRITING_STAFF_ROLES)
    if station_id is None and len(writable) == 1:
        station_id = next(iter(writable))
    if station_id is None:
        raise missing()
    return station_id


def person_form(fields: PersonFields, station_id: UUID, community_id: UUID | None) -> PersonForm:
    return PersonForm(
        name=fields.name,
        phone=fields.phone,
        resident_id=fields.resident_id,
        address=fields.address,
        station_id=station_id,
        community_id=community_id,
        source_category=fields.source_category.value,
        skills=fields.skills,
        preferred_roles=[r.value for r in fields.preferred_roles],
    )


def profile_changes(fields: ProfileFields, community_id: UUID | None) -> ProfileChanges:
    return ProfileChanges(
        name=fields.name,
        phone=fields.phone,
        address=fields.address,
        skills=tuple(fields.skills) if fields.skills is not None else None,
        preferred_roles=tuple(r.value for r in fields.preferred_roles)
        if fields.preferred_roles is not None
        else None,
        has_photo=fields.has_photo,
        source_category=fields.source_category.value if fields.source_category else None,
        community_id=community_id,
    )
