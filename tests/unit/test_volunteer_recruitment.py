"""Recruitment rules: the age rule, field checks, consent, glossary, profile edits."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
from fakes.volunteers import make_resident_id

from app.domain.shared.errors import InvalidInput
from app.domain.volunteers.errors import UnderAge
from app.domain.volunteers.glossary import (
    PreferredRole,
    SourceCategory,
    preferred_role_from,
    source_category_from,
)
from app.domain.volunteers.recruitment import (
    MINIMUM_AGE,
    ConsentInput,
    PersonForm,
    accept_consent,
    validate_person,
)

TODAY = date(2026, 6, 15)
STATION = uuid.uuid4()


def form(**overrides: object) -> PersonForm:
    values: dict[str, object] = {
        "name": " 张伟 ",
        "phone": "+86 139-0000-1111",
        "resident_id": make_resident_id(date(1990, 5, 1)).lower(),
        "address": "常州市武进区湖塘镇花园街1号",
        "station_id": STATION,
        "source_category": "党员",
        "skills": ["first_aid", "急救", "first_aid", " "],
        "preferred_roles": ["治安员", "informant", "security"],
    }
    values.update(overrides)
    return PersonForm(**values)  # type: ignore[arg-type]


def test_a_valid_form_is_normalised() -> None:
    person = validate_person(form(), today=TODAY)
    assert person.name == "张伟"
    assert person.personal.phone == "13900001111"
    assert person.personal.resident_id == make_resident_id(date(1990, 5, 1))
    assert person.source_category == SourceCategory.PARTY_MEMBER
    assert person.skills == ("first_aid", "急救")
    assert person.preferred_roles == (PreferredRole.SECURITY, PreferredRole.INFORMANT)
    assert "139" not in repr(person)


def test_minimum_age_is_18_on_the_day() -> None:
    assert MINIMUM_AGE == 18
    turns_18_today = make_resident_id(date(2008, 6, 15))
    turns_18_tomorrow = make_resident_id(date(2008, 6, 16))
    assert validate_person(form(resident_id=turns_18_today), today=TODAY)
    with pytest.raises(UnderAge) as err:
        validate_person(form(resident_id=turns_18_tomorrow), today=TODAY)
    assert err.value.code == "volunteer.under_age"
    assert [f.code for f in err.value.fields] == ["under_age"]


def test_all_field_problems_are_reported_together() -> None:
    bad_checksum = make_resident_id(date(1990, 5, 1))[:-1] + "0"
    if bad_checksum == make_resident_id(date(1990, 5, 1)):
        bad_checksum = bad_checksum[:-1] + "1"
    with pytest.raises(InvalidInput) as err:
        validate_person(
            form(
                name="",
                phone="12345",
                resident_id=bad_checksum,
                address=" ",
                source_category="警察",
                preferred_roles=["厨师"],
            ),
            today=TODAY,
        )
    assert err.value.code == "volunteer.invalid_form"
    assert {(f.field, f.code) for f in err.value.fields} == {
        ("name", "required"),
        ("phone", "format"),
        ("resident_id", "checksum"),
        ("address", "required"),
        ("source_category", "not_allowed_value"),
        ("preferred_roles", "not_allowed_value"),
    }


def test_skills_are_limited_to_20_tags() -> None:
    with pytest.raises(InvalidInput) as err:
        validate_person(form(skills=[f"skill{i}" for i in range(21)]), today=TODAY)
    assert err.value.fields[0].field == "skills"
    assert validate_person(form(skills=[f"s{i}" for i in range(20)]), today=TODAY)


def test_consent_must_be_to_the_current_notice() -> None:
    at = datetime(2026, 6, 15, tzinfo=UTC)
    consent = accept_consent(ConsentInput("2026-11", True), notice_version="2026-11", at=at)
    assert consent.notice_version == "2026-11"
    assert consent.accepted_at == at
    for given in (None, ConsentInput("2026-11", False), ConsentInput("2025-01", True)):
        with pytest.raises(InvalidInput) as err:
            accept_consent(given, notice_version="2026-11", at=at)
        assert err.value.code == "volunteer.consent_required"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("五老", SourceCategory.FIVE_ELDERS),
        ("外卖员", SourceCategory.DELIVERY_RIDER),
        ("RIDE_HAILING_DRIVER", SourceCategory.RIDE_HAILING_DRIVER),
        ("物业", SourceCategory.PROPERTY_STAFF),
        ("厨师", None),
    ],
)
def test_source_categories_by_code_or_label(text: str, expected: SourceCategory | None) -> None:
    assert source_category_from(text) == expected


def test_roles_by_code_or_label() -> None:
    assert preferred_role_from("宣传员") == PreferredRole.PUBLICITY
    assert preferred_role_from("mediator") == PreferredRole.MEDIATOR
    assert preferred_role_from("队长") is None
