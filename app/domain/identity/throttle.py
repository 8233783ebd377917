"""Sliding-window limits computed from the timestamps of earlier events.

The timestamps come from the database (several API processes share the limits); this
module only decides whether one more event fits, and when it will.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from app.domain.shared.errors import RateLimited


@dataclass(frozen=True, slots=True)
class RateWindow:
    limit: int
    seconds: int


@dataclass(frozen=True, slots=True)
class RateLimitHit:
    window: RateWindow
    retry_after_seconds: int


# CONVENTIONS.md "Security": 1 per minute, 5 per hour, 10 per day, per phone and per IP.
OTP_SEND_WINDOWS: Final = (RateWindow(1, 60), RateWindow(5, 3600), RateWindow(10, 86400))
LOGIN_FAILURES_PER_USERNAME: Final = RateWindow(5, 900)
LOGIN_FAILURES_PER_IP: Final = RateWindow(20, 900)


def check_windows(
    times: Iterable[datetime], windows: Sequence[RateWindow], now: datetime
) -> RateLimitHit | None:
    """The most restrictive window that is full, or ``None`` when one more event fits.

    With the events of a window sorted newest first, the window frees a slot when its
    ``limit``-th newest event leaves it.
    """
    ordered = sorted(times, reverse=True)
    worst: RateLimitHit | None = None
    for window in windows:
        start = now - timedelta(seconds=window.seconds)
        recent = [t for t in ordered if t > start]
        if len(recent) < window.limit:
            continue
        frees_at = recent[window.limit - 1] + timedelta(seconds=window.seconds)
        wait = max(1, math.ceil((frees_at - now).total_seconds()))
        if worst is None or wait > worst.retry_after_seconds:
            worst = RateLimitHit(window, wait)
    return worst


class OtpRateLimited(RateLimited):
    code = "auth.otp_rate_limited"
    message_en = "Too many verification codes requested; try again later."
    message_zh = "获取验证码过于频繁，请稍后再试。"


class LoginRateLimited(RateLimited):
    code = "auth.login_rate_limited"
    message_en = "Too many failed sign-in attempts; try again later."
    message_zh = "登录失败次数过多，请稍后再试。"


def raise_if_limited(
    hits: Iterable[RateLimitHit | None], error: type[RateLimited] = RateLimited
) -> None:
    worst: RateLimitHit | None = None
    for hit in hits:
        if hit is not None and (
            worst is None or hit.retry_after_seconds > worst.retry_after_seconds
        ):
            worst = hit
    if worst is not None:
        raise error(
            worst.retry_after_seconds, limit=worst.window.limit, window_seconds=worst.window.seconds
        )
