"""Free text of the volunteers context (check notes, reasons, team labels, course titles)
is bounded and storable: NUL and lone surrogates are invalid input, whichever door the
text came through (the GraphQL note has no length limit of its own)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from app.domain.shared.errors import InvalidInput
from app.domain.shared.text import storable
from app.domain.volunteers.glossary import TeamType
from app.domain.volunteers.model import CheckResult, new_background_check
from app.domain.volunteers.teams import new_team
from app.domain.volunteers.training import new_course

AT = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def check(note: str) -> None:
    new_background_check(
        volunteer_id=uuid.uuid4(),
        checked_by=uuid.uuid4(),
        checked_on=date(2026, 11, 20),
        result=CheckResult.PASSED,
        note=note,
        next_recheck_on=None,
        recorded_at=AT,
        check_id=uuid.uuid4(),
    )


@pytest.mark.parametrize(
    ("note", "code"),
    [
        ("无违法\x00记录", "invalid_characters"),
        ("无\ud800", "invalid_characters"),
        ("长" * 501, "too_long"),
    ],
)
def test_check_notes_are_bounded_and_storable(note: str, code: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check(note)
    assert [(f.field, f.code) for f in caught.value.fields] == [("note", code)]


def test_a_plain_note_is_kept_trimmed() -> None:
    check(" 无违法犯罪记录 ")


def test_team_labels_and_course_titles_must_be_storable() -> None:
    with pytest.raises(InvalidInput):
        new_team(
            team_id=uuid.uuid4(),
            station_id=uuid.uuid4(),
            district_id=uuid.uuid4(),
            brand="阳湖\x00N警",
            name="湖塘队",
            type=TeamType.PATROL,
            at=AT,
        )
    with pytest.raises(InvalidInput):
        new_course(
            course_id=uuid.uuid4(),
            district_id=uuid.uuid4(),
            station_id=None,
            code="FA-1",
            title="急救\x00培训",
            capability=None,
            validity_months=None,
            at=AT,
        )


@pytest.mark.parametrize(
    ("text", "ok"), [("张三", True), ("", True), ("a\x00b", False), ("\udc80", False)]
)
def test_storable(text: str, ok: bool) -> None:
    assert storable(text) is ok
