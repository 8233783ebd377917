"""Duty and availability of unit members (在岗/待命).

A member is on duty at an instant when one of these holds:
- an ad-hoc "available now" (我现在可以响应) runs from when it is declared until a time (at most
  ``MAX_AD_HOC``, strictly in the future when declared);
- a weekly roster slot of the unit covers it (weekday and local China times; a slot whose
  end is not after its start runs past midnight into the next day);
- a one-off shift (start, end) covers it (start inclusive, end exclusive).
Going off duty ends any ad-hoc availability and suspends the roster slot or shift that
covers that instant until it ends (the next slot counts again). Declaring "available now"
lifts such a suspension.

Off duty no location is collected: a batch sent while off duty is refused (``OffDuty``),
and points of a batch taken while the member was off duty are dropped.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Final

from app.domain.emergency.errors import OffDuty, invalid
from app.domain.emergency.locations import (
    BatchResult,
    LocationSample,
    is_expired,
    thin_batch,
)
from app.domain.shared.clock import CHINA_TZ
from app.domain.shared.events import DomainEvent

MAX_AD_HOC: Final = timedelta(hours=12)
MAX_SLOTS: Final = 50  # weekly roster slots of one member
MAX_SHIFT: Final = timedelta(hours=24)
WEEKDAY_LABELS: Final = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


class DutyBasis(StrEnum):
    AD_HOC = "ad_hoc"
    ROSTER = "roster"
    SHIFT = "shift"


@dataclass(frozen=True, slots=True)
class RosterSlot:
    """A weekly slot: ``weekday`` 0 (Monday) to 6, local China times."""

    weekday: int
    start: time
    end: time

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise invalid("weekday_invalid", "weekday", "The weekday is 0 to 6.", "星期须为0至6。")
        if self.start == self.end:
            raise invalid(
                "slot_empty",
                "end",
                "A roster slot must not start and end at the same time.",
                "值班时段的开始与结束时间不能相同。",
            )

    def _window(self, day: date) -> tuple[datetime, datetime]:
        start = datetime.combine(day, self.start, CHINA_TZ)
        end_day = day if self.end > self.start else day + timedelta(days=1)
        return start, datetime.combine(end_day, self.end, CHINA_TZ)

    def window_at(self, at: datetime) -> tuple[datetime, datetime] | None:
        """The occurrence of this slot covering ``at`` (start inclusive), if any."""
        local = at.astimezone(CHINA_TZ).date()
        for day in (local, local - timedelta(days=1)):
            if day.weekday() != self.weekday:
                continue
            start, end = self._window(day)
            if start <= at < end:
                return start, end
        return None


@dataclass(frozen=True, slots=True)
class Shift:
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if not self.start < self.end <= self.start + MAX_SHIFT:
            raise invalid(
                "shift_invalid",
                "end",
                "A shift ends after it starts and lasts at most 24 hours.",
                "班次结束须晚于开始，且不超过24小时。",
            )

    def covers(self, at: datetime) -> bool:
        return self.start <= at < self.end


@dataclass(slots=True)
class MemberDuty:
    """One member's duty state and last known location."""

    volunteer_id: uuid.UUID
    unit_id: uuid.UUID
    roster: tuple[RosterSlot, ...] = ()
    shifts: tuple[Shift, ...] = ()
    available_from: datetime | None = None
    available_until: datetime | None = None
    off_until: datetime | None = None  # a scheduled window suspended until then
    last_location: LocationSample | None = None
    pending: list[DomainEvent] = field(default_factory=list)

    # --- reading --------------------------------------------------------------------------

    def scheduled_until(self, at: datetime) -> datetime | None:
        """The end of the roster slot or shift covering ``at`` (the later one), if any."""
        ends = [w[1] for s in self.roster if (w := s.window_at(at)) is not None]
        ends += [s.end for s in self.shifts if s.covers(at)]
        return max(ends) if ends else None

    def basis(self, at: datetime) -> DutyBasis | None:
        """Why the member is on duty at ``at``; None when off duty."""
        if (
            self.available_from is not None
            and self.available_until is not None
            and self.available_from <= at < self.available_until
        ):
            return DutyBasis.AD_HOC
        if self.off_until is not None and at < self.off_until:
            return None
        if any(s.window_at(at) is not None for s in self.roster):
            return DutyBasis.ROSTER
        if any(s.covers(at) for s in self.shifts):
            return DutyBasis.SHIFT
        return None

    def is_on_duty(self, at: datetime) -> bool:
        return self.basis(at) is not None

    def on_duty_until(self, at: datetime) -> datetime | None:
        """When the duty covering ``at`` ends as now known (the later of the ad-hoc end
        and the covering slot or shift, unless suspended); None when off duty."""
        basis = self.basis(at)
        if basis is None:
            return None
        ends: list[datetime] = []
        if basis == DutyBasis.AD_HOC and self.available_until is not None:
            ends.append(self.available_until)
        if self.off_until is None or at >= self.off_until:
            scheduled = self.scheduled_until(at)
            if scheduled is not None:
                ends.append(scheduled)
        return max(ends) if ends else None

    # --- changes --------------------------------------------------------------------------

    def _event(self, kind: str, at: datetime, payload: dict[str, object]) -> None:
        body = {"unit_id": str(self.unit_id), **payload}
        self.pending.append(
            DomainEvent(f"emergency.{kind}", "member_duty", self.volunteer_id, at, body)
        )

    def set_roster(self, slots: Iterable[RosterSlot]) -> None:
        roster = tuple(dict.fromkeys(slots))
        if len(roster) > MAX_SLOTS:
            raise invalid(
                "too_many_slots",
                "slots",
                f"At most {MAX_SLOTS} roster slots.",
                f"值班时段最多{MAX_SLOTS}个。",
            )
        self.roster = roster

    def add_shift(self, shift: Shift) -> None:
        self.shifts = (*self.shifts, shift)

    def go_available(self, until: datetime, *, at: datetime) -> None:
        """ "I'm available now" until ``until`` (after ``at``, at most ``MAX_AD_HOC``)."""
        if not at < until <= at + MAX_AD_HOC:
            raise invalid(
                "available_until_invalid",
                "until",
                "Available-until must be in the future, at most 12 hours ahead.",
                "待命截止时间须晚于现在，且不超过12小时。",
            )
        self.available_from, self.available_until = at, until
        self.off_until = None
        self._event("member_available", at, {"until": until.isoformat()})

    def go_off_duty(self, *, at: datetime) -> None:
        self.available_from = self.available_until = None
        self.off_until = self.scheduled_until(at)
        self._event("member_off_duty", at, {})

    def accept_locations(self, samples: Iterable[LocationSample], *, now: datetime) -> BatchResult:
        """Keep a batch of points under the batch rules (see ``locations``); refused when
        off duty now; points taken while off duty are dropped."""
        if not self.is_on_duty(now):
            raise OffDuty()
        on_duty: list[LocationSample] = []
        off = 0
        for sample in samples:
            if sample.at <= now and not self.is_on_duty(sample.at):
                off += 1
            else:
                on_duty.append(sample)
        last_at = self.last_location.at if self.last_location else None
        result = replace(thin_batch(on_duty, last_at=last_at, now=now), off_duty=off)
        if result.last is not None:
            self.last_location = result.last
        return result

    def forget_expired_location(self, now: datetime, retention_days: int) -> bool:
        """The last known location is a sample like any other: past retention it goes."""
        if self.last_location is not None and is_expired(self.last_location, now, retention_days):
            self.last_location = None
            return True
        return False
