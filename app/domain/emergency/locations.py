"""Location samples of on-duty members (位置上报) and how long they are kept.

The app sends batches of timestamped points. Of a batch, the domain keeps:
- no point from the future beyond a small clock skew (``MAX_FUTURE_SKEW``): rejected;
- no point at or before the last one already kept (late or repeated uploads): dropped;
- at most one point per ``MIN_SAMPLE_INTERVAL`` (30 s): in time order, a point is kept
  only if it is at least 30 s after the previously kept one (including the last one kept
  from earlier batches); the others are thinned out.
The newest kept point becomes the last known location.

Retention (PIPL: location tracks are sensitive): a sample is expired once it is older
than the retention setting (in days) — strictly before ``now - days``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from app.domain.emergency.errors import invalid
from app.domain.shared.geo import GeoPoint

MIN_SAMPLE_INTERVAL: Final = timedelta(seconds=30)
MAX_FUTURE_SKEW: Final = timedelta(seconds=10)
MAX_BATCH: Final = 500
MAX_RETENTION_DAYS: Final = 365


@dataclass(frozen=True, slots=True)
class LocationSample:
    at: datetime
    point: GeoPoint
    accuracy_m: float | None = None


@dataclass(frozen=True, slots=True)
class BatchResult:
    """What became of a batch: the points kept (oldest first) and counts of the rest."""

    kept: tuple[LocationSample, ...]
    future: int = 0  # beyond the allowed clock skew
    stale: int = 0  # at or before the last point kept
    thinned: int = 0  # less than the minimum interval after a kept point
    off_duty: int = 0  # taken while the member was off duty

    @property
    def last(self) -> LocationSample | None:
        return self.kept[-1] if self.kept else None


def thin_batch(
    samples: Iterable[LocationSample],
    *,
    last_at: datetime | None,
    now: datetime,
    interval: timedelta = MIN_SAMPLE_INTERVAL,
    skew: timedelta = MAX_FUTURE_SKEW,
) -> BatchResult:
    """Apply the batch rules above (``last_at``: the last point kept before)."""
    batch = list(samples)
    if len(batch) > MAX_BATCH:
        raise invalid(
            "location_batch_too_large",
            "samples",
            f"Send at most {MAX_BATCH} points per batch.",
            f"每批最多上报{MAX_BATCH}个位置点。",
        )
    kept: list[LocationSample] = []
    future = stale = thinned = 0
    previous = last_at
    for sample in sorted(batch, key=lambda s: s.at):
        if sample.at > now + skew:
            future += 1
        elif previous is not None and sample.at <= previous:
            stale += 1
        elif previous is not None and sample.at - previous < interval:
            thinned += 1
        else:
            kept.append(sample)
            previous = sample.at
    return BatchResult(tuple(kept), future=future, stale=stale, thinned=thinned)


def checked_retention_days(days: int) -> int:
    if not 1 <= days <= MAX_RETENTION_DAYS:
        raise invalid(
            "retention_invalid",
            "retention_days",
            f"Location retention is 1 to {MAX_RETENTION_DAYS} days.",
            f"位置保留期限须为1至{MAX_RETENTION_DAYS}天。",
        )
    return days


def retention_cutoff(now: datetime, retention_days: int) -> datetime:
    """Samples taken before this instant are expired."""
    return now - timedelta(days=checked_retention_days(retention_days))


def is_expired(sample: LocationSample, now: datetime, retention_days: int) -> bool:
    return sample.at < retention_cutoff(now, retention_days)


def expired_samples(
    samples: Iterable[LocationSample], now: datetime, retention_days: int
) -> list[LocationSample]:
    cutoff = retention_cutoff(now, retention_days)
    return [s for s in samples if s.at < cutoff]
