"""Review flags: a report (hazard or tip) that looks suspicious, why, and what staff
decided. A flag names records and counts only: never accounts, devices or people.

Rules (pure, tested in tests/unit/test_review_model.py):
- ``photo_reused``: a photo of the report is within ``PHOTO_DISTANCE_MAX`` bits (Hamming
  distance of 64-bit perceptual hashes) of a photo attached to another report of the last
  ``PHOTO_WINDOW``, whoever sent it.
- ``device_velocity``: the device that sent the report sent more than the limit of reports
  in ``DEVICE_WINDOW``, or reports from more than one account in that window.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from app.domain.review.errors import FlagAlreadyResolved, note_invalid
from app.domain.shared.text import storable

PHOTO_DISTANCE_MAX = 6
PHOTO_WINDOW = timedelta(days=30)
DEVICE_WINDOW = timedelta(hours=24)
NOTE_MAX = 500
EVIDENCE_RECORDS_MAX = 20
MASK64 = (1 << 64) - 1
RECORD_TYPES = frozenset({"hazard", "tip"})


class FlagKind(StrEnum):
    PHOTO_REUSED = "photo_reused"
    DEVICE_VELOCITY = "device_velocity"


class FlagStatus(StrEnum):
    OPEN = "open"
    DISMISSED = "dismissed"
    CONFIRMED_FRAUD = "confirmed_fraud"


class Decision(StrEnum):
    DISMISSED = "dismissed"
    CONFIRMED_FRAUD = "confirmed_fraud"


def hamming(a: int, b: int) -> int:
    """Differing bits of two 64-bit hashes (signed or unsigned: the bits are compared)."""
    return ((a ^ b) & MASK64).bit_count()


def to_signed64(value: int) -> int:
    """An unsigned 64-bit hash as the signed integer a PostgreSQL ``bigint`` holds."""
    value &= MASK64
    return value - (1 << 64) if value >= 1 << 63 else value


@dataclass(frozen=True, slots=True)
class RecordRef:
    record_type: str  # "hazard" | "tip"
    record_id: uuid.UUID

    def as_evidence(self) -> dict[str, str]:
        return {"type": self.record_type, "id": str(self.record_id)}


@dataclass(frozen=True, slots=True)
class DeviceActivity:
    """What one device sent in the window: reports (hazards and tips) and distinct
    accounts (named reports only)."""

    reports: int
    accounts: int


@dataclass(slots=True)
class ReviewFlag:
    id: uuid.UUID
    record: RecordRef
    kind: FlagKind
    station_id: uuid.UUID | None
    district_id: uuid.UUID | None
    evidence: dict[str, Any]
    created_at: datetime
    status: FlagStatus = FlagStatus.OPEN
    resolved_at: datetime | None = None
    resolved_by: uuid.UUID | None = None
    note: str | None = None
    version: int = 1
    pending: list[str] = field(default_factory=list)

    def resolve(self, decision: Decision, by: uuid.UUID, note: str | None, at: datetime) -> None:
        if self.status != FlagStatus.OPEN:
            raise FlagAlreadyResolved()
        text = checked_note(note)  # before any change: bad input changes nothing
        self.status = FlagStatus(decision.value)
        self.resolved_at, self.resolved_by, self.note = at, by, text


def checked_note(note: str | None) -> str | None:
    text = (note or "").strip()
    if len(text) > NOTE_MAX or (text and not storable(text)):
        raise note_invalid()
    return text or None


def photo_flag(
    flag_id: uuid.UUID,
    record: RecordRef,
    station_id: uuid.UUID | None,
    district_id: uuid.UUID | None,
    matches: list[RecordRef],
    at: datetime,
) -> ReviewFlag | None:
    """A ``photo_reused`` flag when photos of other reports match (the report itself is
    never evidence against itself)."""
    others = [m for m in dict.fromkeys(matches) if m != record]
    if not others:
        return None
    shown = others[:EVIDENCE_RECORDS_MAX]
    return ReviewFlag(
        id=flag_id,
        record=record,
        kind=FlagKind.PHOTO_REUSED,
        station_id=station_id,
        district_id=district_id,
        evidence={
            "records": [m.as_evidence() for m in shown],
            "matches": len(others),
            "max_distance": PHOTO_DISTANCE_MAX,
        },
        created_at=at,
    )


def device_suspicious(activity: DeviceActivity, max_reports: int) -> bool:
    return activity.reports > max_reports or activity.accounts > 1


def device_flag(
    flag_id: uuid.UUID,
    record: RecordRef,
    station_id: uuid.UUID | None,
    district_id: uuid.UUID | None,
    activity: DeviceActivity | None,
    max_reports: int,
    at: datetime,
) -> ReviewFlag | None:
    if activity is None or not device_suspicious(activity, max_reports):
        return None
    return ReviewFlag(
        id=flag_id,
        record=record,
        kind=FlagKind.DEVICE_VELOCITY,
        station_id=station_id,
        district_id=district_id,
        evidence={
            "reports": activity.reports,
            "accounts": activity.accounts,
            "window_hours": int(DEVICE_WINDOW.total_seconds() // 3600),
            "limit": max_reports,
        },
        created_at=at,
    )
