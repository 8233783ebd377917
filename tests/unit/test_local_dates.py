"""Dates people type are China's calendar dates: at 00:30 Beijing time (16:30 UTC the day
before) "today" is already the new day."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from app.domain.shared.clock import local_date
from app.domain.volunteers.model import CheckResult, new_background_check


def test_local_date_is_beijing_calendar_day() -> None:
    assert local_date(datetime(2026, 11, 22, 16, 30, tzinfo=UTC)) == date(2026, 11, 23)
    assert local_date(datetime(2026, 11, 22, 15, 59, tzinfo=UTC)) == date(2026, 11, 22)


def test_background_check_dated_today_just_after_beijing_midnight() -> None:
    check = new_background_check(
        volunteer_id=uuid.uuid4(),
        checked_by=uuid.uuid4(),
        checked_on=date(2026, 11, 23),
        result=CheckResult.PASSED,
        note=None,
        next_recheck_on=None,
        recorded_at=datetime(2026, 11, 22, 16, 30, tzinfo=UTC),
        check_id=uuid.uuid4(),
    )
    assert check.checked_on == date(2026, 11, 23)
