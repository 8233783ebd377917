"""Velocity limits on submissions (hazards, tips), per account and per device.

The caller's device comes with its Scope (``Scope.device_id``, from the ``X-Device-Id``
header); the log keeps keyed digests only (blind indexes), never the id itself. The entry
is written in the submission's own unit of work, so a refused or failed submission is
rolled back with it and counts for nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from app.domain.shared.uow import UnitOfWork

VELOCITY_WINDOW = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class VelocityLimits:
    account_per_hour: int = 10
    device_per_hour: int = 20


@dataclass(frozen=True, slots=True)
class Submission:
    record_type: str
    at: datetime
    # None for anonymous tips: their entry must not lead to the record or the account.
    record_id: uuid.UUID | None = None
    account_id: uuid.UUID | None = None
    device_id: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class Recent:
    """EARLIER submissions of the same record type inside the window."""

    by_account: Sequence[datetime] = ()
    by_device: Sequence[datetime] = ()


class VelocityLog(Protocol):
    async def record(self, uow: UnitOfWork, submission: Submission, *, since: datetime) -> Recent:
        """Log ``submission`` inside ``uow``'s transaction and return the earlier ones of
        its account and of its device after ``since`` (one round trip)."""
        ...


def retry_after(earlier: Sequence[datetime], now: datetime, limit: int) -> int | None:
    """Seconds until one more submission fits, or None when it fits now."""
    if limit <= 0 or len(earlier) < limit:
        return None
    recent = sorted(earlier)
    oldest = recent[len(recent) - limit]
    return max(1, int((oldest + VELOCITY_WINDOW - now).total_seconds()) + 1)


# (retry_after_seconds, limit, window_seconds) -> the context's own 429 error
Refusal = Callable[[int, int, int], Exception]


class SubmissionVelocity:
    def __init__(self, log: VelocityLog, limits: VelocityLimits | None = None) -> None:
        self.log = log
        self.limits = limits or VelocityLimits()

    async def check(
        self, uow: UnitOfWork, submission: Submission, refuse: Refusal, *, per_account: bool
    ) -> None:
        """Log the submission; raise ``refuse(...)`` when the account (if ``per_account``)
        or the device is over its hourly limit (the caller's unit of work then rolls the
        entry back with everything else)."""
        recent = await self.log.record(uow, submission, since=submission.at - VELOCITY_WINDOW)
        self.judge(submission, recent, refuse, per_account=per_account)

    def guard(self, submission: Submission, *, per_account: bool) -> VelocityGuard:
        """The limits of ``submission`` as the condition of a write done in one statement
        (which logs it only when it stores it)."""
        return VelocityGuard(
            submission,
            since=submission.at - VELOCITY_WINDOW,
            account_limit=self.limits.account_per_hour
            if per_account and submission.account_id is not None
            else None,
            device_limit=self.limits.device_per_hour if submission.device_id else None,
        )

    def judge(
        self, submission: Submission, recent: Recent, refuse: Refusal, *, per_account: bool
    ) -> None:
        """Raise ``refuse(...)`` when the account (if ``per_account``) or the device is
        over its hourly limit given the ``recent`` submissions."""
        now = submission.at
        window = int(VELOCITY_WINDOW.total_seconds())
        if per_account and submission.account_id is not None:
            wait = retry_after(recent.by_account, now, self.limits.account_per_hour)
            if wait is not None:
                raise refuse(wait, self.limits.account_per_hour, window)
        if submission.device_id is not None:
            wait = retry_after(recent.by_device, now, self.limits.device_per_hour)
            if wait is not None:
                raise refuse(wait, self.limits.device_per_hour, window)


@dataclass(frozen=True, slots=True)
class VelocityGuard:
    """Hourly limits as the condition of a write: store (and log) the submission only
    while its account has fewer than ``account_limit`` and its device fewer than
    ``device_limit`` earlier ones since ``since`` (None: not limited that way)."""

    submission: Submission
    since: datetime
    account_limit: int | None
    device_limit: int | None
