"""Unified identification: number format, district prefix, badge tokens, badge view."""

from __future__ import annotations

from datetime import date

import pytest

from app.domain.volunteers.badge import (
    badge_view,
    district_prefix,
    format_volunteer_number,
    new_badge_token,
    plausible_badge_token,
)
from app.domain.volunteers.lifecycle import VolunteerStatus


def test_volunteer_number_format() -> None:
    assert format_volunteer_number("WJ", 2026, 123) == "WJ-2026-000123"
    assert format_volunteer_number("XZ", 2027, 1_234_567) == "XZ-2027-1234567"
    with pytest.raises(ValueError, match="starts at 1"):
        format_volunteer_number("WJ", 2026, 0)


@pytest.mark.parametrize(
    ("code", "prefix"),
    [
        ("wj", "WJ"),
        ("320412", "320412"),
        ("T1A2-D", "T1A2D"),
        ("武进", "SW"),
        ("abcdefghijk", "ABCDEFGH"),
    ],
)
def test_district_prefix(code: str, prefix: str) -> None:
    assert district_prefix(code) == prefix


def test_badge_tokens_are_random_url_safe_and_long() -> None:
    tokens = {new_badge_token() for _ in range(1000)}
    assert len(tokens) == 1000
    for token in tokens:
        assert len(token) == 32  # 24 random bytes = 192 bits
        assert plausible_badge_token(token)
    assert not plausible_badge_token("../../etc/passwd")
    assert not plausible_badge_token("short")


@pytest.mark.parametrize(
    ("status", "valid_until", "active"),
    [
        (VolunteerStatus.ACTIVE, date(2027, 5, 1), True),
        (VolunteerStatus.ACTIVE, date(2026, 5, 1), True),  # due today: still valid
        (VolunteerStatus.ACTIVE, date(2026, 4, 30), False),  # re-check overdue
        (VolunteerStatus.ACTIVE, None, True),
        (VolunteerStatus.SUSPENDED, date(2027, 5, 1), False),
        (VolunteerStatus.RETIRED, date(2027, 5, 1), False),
    ],
)
def test_badge_view(status: VolunteerStatus, valid_until: date | None, active: bool) -> None:
    view = badge_view(
        name="欧阳娜娜",
        has_photo=True,
        number="WJ-2026-000001",
        status=status,
        valid_until=valid_until,
        teams=(),
        today=date(2026, 5, 1),
    )
    assert view.active is active
    assert view.masked_name == "欧***"
