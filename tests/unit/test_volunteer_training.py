"""Training: courses, certificate expiry and the validity query duties rely on."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
from fakes.volunteer_world import World, activate, make_world, resident

from app.domain.shared.errors import InvalidInput, NotAllowed
from app.domain.volunteers.errors import CourseCodeTaken, CourseNotFound, VolunteerNotFound
from app.domain.volunteers.training import add_months, new_course
from app.domain.volunteers.training_service import CourseInput


@pytest.fixture
def world() -> World:
    return make_world()


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2026, 11, 30), 3, date(2027, 2, 28)),
        (date(2026, 5, 1), 24, date(2028, 5, 1)),
    ],
)
def test_add_months(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


def test_course_fields_are_checked() -> None:
    at = datetime(2026, 5, 1, tzinfo=UTC)
    for code, title, capability, months in [
        ("急救", "急救课", None, 12),
        ("FA-01", " ", None, 12),
        ("FA-01", "急救课", "First Aid", 12),
        ("FA-01", "急救课", "first_aid", 0),
    ]:
        with pytest.raises(InvalidInput):
            new_course(
                course_id=uuid.uuid4(),
                district_id=uuid.uuid4(),
                station_id=None,
                code=code,
                title=title,
                capability=capability,
                validity_months=months,
                at=at,
            )


async def test_certificates_expire_and_gate_by_capability(world: World) -> None:
    officer = world.officer()
    v = await activate(world, resident(), officer)
    first_aid = await world.training.create_course(
        officer,
        CourseInput("JW-FA", "警物联盟大学堂·急救培训", "first_aid", 24, world.station.id),
    )
    assert first_aid.station_id == world.station.id
    cert = await world.training.record_training(officer, v.id, first_aid.id, date(2026, 4, 1))
    assert cert.record.certificate_expires_on == date(2028, 4, 1)
    assert cert.record.recorded_by == officer.account_id
    on = await world.training.valid_certificates(officer, v.id, date(2028, 3, 31))
    assert [c.course.code for c in on] == ["JW-FA"]
    assert await world.training.valid_certificates(officer, v.id, date(2028, 4, 1)) == []
    assert await world.training.valid_certificates(officer, v.id, date(2026, 3, 31)) == []
    assert await world.training.has_valid_certificate(officer, v.id, "first_aid", date(2027, 1, 1))
    assert not await world.training.has_valid_certificate(officer, v.id, "fire", date(2027, 1, 1))
    assert "training.recorded" in [e.event_type for e in world.store.events]


async def test_course_ownership_and_scope(world: World) -> None:
    officer, district = world.officer(), world.district_admin()
    with pytest.raises(NotAllowed):
        await world.training.create_course(
            officer, CourseInput("D-1", "全区急救", None, 12, None, world.station.district_id)
        )
    district_course = await world.training.create_course(
        district, CourseInput("D-1", "全区急救", "first_aid", 12)
    )
    assert district_course.station_id is None
    with pytest.raises(CourseCodeTaken):
        await world.training.create_course(district, CourseInput("D-1", "重复", None, None))
    station_course = await world.training.create_course(
        officer, CourseInput("S-1", "水上救援", "water_rescue", None)
    )
    other = world.officer(world.other)
    listed = await world.training.list_courses(other, limit=10)
    assert [c.id for c in listed.items] == [district_course.id]  # district course, not S-1
    with pytest.raises(CourseNotFound):
        await world.training.get_course(other, station_course.id)
    v = await activate(world, resident(), officer)
    forever = await world.training.record_training(
        officer, v.id, station_course.id, date(2020, 1, 1)
    )
    assert forever.record.certificate_expires_on is None
    assert forever.record.valid_on(date(2040, 1, 1))
    with pytest.raises(VolunteerNotFound):
        await world.training.record_training(other, v.id, district_course.id, date(2026, 4, 1))
    with pytest.raises(InvalidInput):
        await world.training.record_training(officer, v.id, district_course.id, date(2026, 6, 1))
