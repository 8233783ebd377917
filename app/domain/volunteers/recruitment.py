"""Unified recruitment (统一招募): what an applicant, an officer or an import row gives,
checked the same way whichever door it came through."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final

from app.domain.shared.errors import FieldError, InvalidInput
from app.domain.shared.personal_data import (
    ResidentId,
    age_on,
    parse_cn_mobile,
    parse_resident_id,
)
from app.domain.shared.text import storable
from app.domain.volunteers.errors import UnderAge
from app.domain.volunteers.glossary import (
    PreferredRole,
    SourceCategory,
    preferred_role_from,
    source_category_from,
)
from app.domain.volunteers.model import Consent, PersonalData, ProfileChanges, Volunteer

# Volunteers must be adults on the day they apply or are registered: patrols, call-outs
# and night duty are not for minors, and a minor cannot consent alone under PIPL art. 31.
MINIMUM_AGE: Final = 18
MAX_SKILLS: Final = 20
MAX_TAG_LENGTH: Final = 40
MAX_NAME_LENGTH: Final = 50
MAX_ADDRESS_LENGTH: Final = 200


@dataclass(frozen=True, slots=True)
class PersonForm:
    """Raw input as typed: strings, before any checking."""

    name: str
    phone: str
    resident_id: str
    address: str
    station_id: uuid.UUID
    source_category: str
    community_id: uuid.UUID | None = None
    skills: Sequence[str] = ()
    preferred_roles: Sequence[str] = ()


@dataclass(frozen=True, slots=True, repr=False)
class ValidPerson:
    name: str
    personal: PersonalData
    resident: ResidentId
    station_id: uuid.UUID
    community_id: uuid.UUID | None
    source_category: SourceCategory
    skills: tuple[str, ...]
    preferred_roles: tuple[PreferredRole, ...]

    def __repr__(self) -> str:
        return "ValidPerson(<redacted>)"


@dataclass(frozen=True, slots=True)
class ConsentInput:
    notice_version: str
    accepted: bool


def _error(field: str, code: str, message: str) -> FieldError:
    return FieldError(field=field, code=code, message=message)


def clean_skills(raw: Sequence[str], errors: list[FieldError]) -> tuple[str, ...]:
    """Free tags (``first_aid``, ``急救``...), trimmed, de-duplicated, in input order."""
    tags: list[str] = []
    for item in raw:
        tag = item.strip()
        if not tag or tag in tags:
            continue
        if not storable(tag):
            errors.append(_error("skills", "invalid_characters", "a skill has invalid characters"))
            return ()
        if len(tag) > MAX_TAG_LENGTH:
            errors.append(_error("skills", "too_long", f"a skill is at most {MAX_TAG_LENGTH}"))
            return ()
        tags.append(tag)
    if len(tags) > MAX_SKILLS:
        errors.append(_error("skills", "too_many", f"at most {MAX_SKILLS} skills"))
        return ()
    return tuple(tags)


def clean_roles(raw: Sequence[str], errors: list[FieldError]) -> tuple[PreferredRole, ...]:
    roles: list[PreferredRole] = []
    for item in raw:
        if not item.strip():
            continue
        role = preferred_role_from(item)
        if role is None:
            errors.append(_error("preferred_roles", "not_allowed_value", "unknown role"))
            return ()
        if role not in roles:
            roles.append(role)
    return tuple(roles)


def clean_name(raw: str, errors: list[FieldError]) -> str:
    name = " ".join(raw.split())
    if not name:
        errors.append(_error("name", "required", "a name is required"))
    elif not storable(name):
        errors.append(_error("name", "invalid_characters", "the name has invalid characters"))
    elif len(name) > MAX_NAME_LENGTH:
        errors.append(_error("name", "too_long", f"at most {MAX_NAME_LENGTH} characters"))
    return name


def clean_address(raw: str, errors: list[FieldError]) -> str:
    address = raw.strip()
    if not address:
        errors.append(_error("address", "required", "an address is required"))
    elif not storable(address):
        errors.append(_error("address", "invalid_characters", "the address has invalid characters"))
    elif len(address) > MAX_ADDRESS_LENGTH:
        errors.append(_error("address", "too_long", f"at most {MAX_ADDRESS_LENGTH} characters"))
    return address


def check_minimum_age(resident: ResidentId, today: date) -> bool:
    return age_on(resident, today) >= MINIMUM_AGE


def validate_person(form: PersonForm, *, today: date) -> ValidPerson:
    """Check every field and report all problems at once (forms point at each field)."""
    errors: list[FieldError] = []
    name = clean_name(form.name, errors)
    address = clean_address(form.address, errors)
    phone = ""
    try:
        phone = parse_cn_mobile(form.phone)
    except InvalidInput as exc:
        errors.extend(exc.fields)
    resident: ResidentId | None = None
    try:
        resident = parse_resident_id(form.resident_id, today=today)
    except InvalidInput as exc:
        errors.extend(exc.fields)
    if resident is not None and not check_minimum_age(resident, today):
        errors.append(_error("resident_id", "under_age", f"must be {MINIMUM_AGE} or older"))
    category = source_category_from(form.source_category)
    if category is None:
        errors.append(_error("source_category", "not_allowed_value", "unknown source category"))
    skills = clean_skills(form.skills, errors)
    roles = clean_roles(form.preferred_roles, errors)
    if errors or resident is None or category is None:
        if [e.code for e in errors] == ["under_age"]:
            raise UnderAge(fields=errors)
        raise InvalidInput(
            "Some fields of the volunteer form are not valid.",
            "志愿者信息有误，请检查标出的字段。",
            code="volunteer.invalid_form",
            fields=errors,
        )
    return ValidPerson(
        name=name,
        personal=PersonalData(phone=phone, resident_id=resident.value, address=address),
        resident=resident,
        station_id=form.station_id,
        community_id=form.community_id,
        source_category=category,
        skills=skills,
        preferred_roles=roles,
    )


def accept_consent(given: ConsentInput | None, *, notice_version: str, at: datetime) -> Consent:
    """Consent to the current privacy notice (PIPL art. 14): explicit and versioned."""
    if given is None or not given.accepted or given.notice_version != notice_version:
        raise InvalidInput(
            f"Accept the current privacy notice (version {notice_version}) to apply.",
            f"请阅读并同意最新的个人信息保护告知（版本 {notice_version}）后再申请。",
            code="volunteer.consent_required",
            fields=[_error("consent", "required", f"accept notice version {notice_version}")],
        )
    return Consent(notice_version=notice_version, accepted_at=at)


def apply_profile(volunteer: Volunteer, changes: ProfileChanges) -> list[str]:
    """Validate and apply profile edits; returns the names of the fields changed."""
    errors: list[FieldError] = []
    name = clean_name(changes.name, errors) if changes.name is not None else None
    address = clean_address(changes.address, errors) if changes.address is not None else None
    phone: str | None = None
    if changes.phone is not None:
        try:
            phone = parse_cn_mobile(changes.phone)
        except InvalidInput as exc:
            errors.extend(exc.fields)
    skills = clean_skills(changes.skills, errors) if changes.skills is not None else None
    roles = (
        clean_roles(changes.preferred_roles, errors)
        if changes.preferred_roles is not None
        else None
    )
    category: SourceCategory | None = None
    if changes.source_category is not None:
        category = source_category_from(changes.source_category)
        if category is None:
            errors.append(_error("source_category", "not_allowed_value", "unknown category"))
    if errors:
        raise InvalidInput(
            "Some profile fields are not valid.",
            "部分资料字段无效。",
            code="volunteer.invalid_form",
            fields=errors,
        )
    p = volunteer.personal
    volunteer.personal = PersonalData(
        phone=phone if phone is not None else p.phone,
        resident_id=p.resident_id,
        address=address if address is not None else p.address,
    )
    if name is not None:
        volunteer.name = name
    if skills is not None:
        volunteer.skills = skills
    if roles is not None:
        volunteer.preferred_roles = roles
    if category is not None:
        volunteer.source_category = category
    if changes.has_photo is not None:
        volunteer.has_photo = changes.has_photo
    if changes.community_id is not None:
        volunteer.community_id = changes.community_id
    return sorted(changes.fields_set())
