from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Protocol

# Calendar dates people see and type (check dates, re-check dates, certificate expiry) are
# China's: a check recorded at 00:30 Beijing time is dated that day, not the previous
# (UTC) one.
CHINA_TZ = timezone(timedelta(hours=8), "CST")


def local_date(at: datetime) -> date:
    return at.astimezone(CHINA_TZ).date()


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock for tests and simulations; ``advance`` moves it forward."""

    def __init__(self, at: datetime) -> None:
        self._at = at

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        self._at = at

    def advance(self, **kwargs: float) -> None:
        self._at = self._at + timedelta(**kwargs)
