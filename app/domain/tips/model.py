"""The tip (情报线索) and its handling lifecycle.

submitted → triaged (assigned, with a due time) → verifying → valid / unfounded /
duplicate / referred → closed. The reporter may dispute an outcome (also after closing):
the tip goes back to its handler as triaged. Every change is kept as a ``TipEvent``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from app.domain.organisation.model import Routing as Routing  # shared by the reports
from app.domain.shared.errors import field_invalid
from app.domain.shared.geo import GeoPoint
from app.domain.shared.ids import new_id
from app.domain.shared.text import storable
from app.domain.tips.errors import TipInvalidTransition
from app.domain.tips.feedback import (
    DEFAULT_TEMPLATES,
    FeedbackTemplate,
    default_template,
    require_template,
)

DESCRIPTION_MAX = 2000
REASON_MAX = 500
REFERRED_TO_MAX = 100


class Category(StrEnum):
    """Pinned codes: clients send these."""

    SUSPICIOUS_PERSON = "suspicious_person"
    SUSPICIOUS_VEHICLE = "suspicious_vehicle"
    SUSPICIOUS_OBJECT = "suspicious_object"
    THEFT = "theft"
    FRAUD = "fraud"
    DRUGS = "drugs"
    GAMBLING = "gambling"
    PUBLIC_ORDER = "public_order"
    MISSING_PERSON = "missing_person"
    OTHER = "other"


class Urgency(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class TipStatus(StrEnum):
    SUBMITTED = "submitted"
    TRIAGED = "triaged"
    VERIFYING = "verifying"
    VALID = "valid"
    UNFOUNDED = "unfounded"
    DUPLICATE = "duplicate"
    REFERRED = "referred"
    CLOSED = "closed"


class Outcome(StrEnum):
    VALID = "valid"
    UNFOUNDED = "unfounded"
    DUPLICATE = "duplicate"
    REFERRED = "referred"


OUTCOME_STATUSES = frozenset(
    {TipStatus.VALID, TipStatus.UNFOUNDED, TipStatus.DUPLICATE, TipStatus.REFERRED}
)
# Statuses in which a handler is working on the tip; a due time past now makes it overdue.
OPEN_WORK = frozenset({TipStatus.TRIAGED, TipStatus.VERIFYING})


class EventKind(StrEnum):
    SUBMITTED = "submitted"
    ASSIGNED = "assigned"
    VERIFYING = "verifying"
    OUTCOME = "outcome"
    CLOSED = "closed"
    DISPUTED = "disputed"
    REFERRED = "referred"  # re-routed to another station's queue (移交其他派出所)


@dataclass(frozen=True, slots=True)
class TipEvent:
    """One entry of a tip's history. ``by`` is None for the reporter's own actions, so the
    history never names an informant. ``feedback`` is the template code sent to the
    reporter, if any."""

    id: uuid.UUID
    tip_id: uuid.UUID
    kind: EventKind
    at: datetime
    from_status: TipStatus | None
    to_status: TipStatus
    by: uuid.UUID | None
    detail: dict[str, Any] = field(default_factory=dict)
    feedback: str | None = None
    # The texts the reporter was sent, as they read when sent.
    feedback_zh: str | None = None
    feedback_en: str | None = None

    def feedback_text(self, lang: str) -> str:
        text = self.feedback_zh if lang.startswith("zh") else self.feedback_en
        return text or ""


@dataclass(frozen=True, slots=True)
class StationRef:
    """A police station a tip may be referred to (known to exist as a station)."""

    station_id: uuid.UUID
    district_id: uuid.UUID


@dataclass(slots=True)
class Tip:
    # Stored tips are built with their fields in this order (app/infra/db/tips_repo.py).
    id: uuid.UUID
    category: Category
    description: str
    location: GeoPoint
    urgency: Urgency
    anonymous: bool
    routing: Routing
    submitted_at: datetime
    media_ids: tuple[uuid.UUID, ...] = ()
    status: TipStatus = TipStatus.SUBMITTED
    assignee_id: uuid.UUID | None = None
    due_at: datetime | None = None
    outcome: Outcome | None = None
    duplicate_of: uuid.UUID | None = None
    referred_to: str | None = None
    disputes: int = 0
    version: int = 1
    updated_at: datetime | None = None
    # Changes not yet stored (the repository appends and clears them).
    pending: list[TipEvent] = field(default_factory=list)

    def _record(
        self,
        kind: EventKind,
        to: TipStatus,
        at: datetime,
        by: uuid.UUID | None,
        detail: dict[str, Any] | None = None,
        feedback: FeedbackTemplate | None = None,
    ) -> TipEvent:
        event = TipEvent(
            new_id(),
            self.id,
            kind,
            at,
            self.status if kind != EventKind.SUBMITTED else None,
            to,
            by,
            detail or {},
            feedback.code if feedback else None,
            feedback.text_zh if feedback else None,
            feedback.text_en if feedback else None,
        )
        self.status = to
        self.updated_at = at
        self.pending.append(event)
        return event

    def _require(self, allowed: frozenset[TipStatus] | set[TipStatus]) -> None:
        if self.status not in allowed:
            raise TipInvalidTransition()

    def is_overdue(self, now: datetime) -> bool:
        return self.status in OPEN_WORK and self.due_at is not None and self.due_at < now

    def assign(
        self, officer_id: uuid.UUID, due_at: datetime, *, at: datetime, by: uuid.UUID
    ) -> None:
        """Triage, or hand over to another officer while still being worked on."""
        self._require({TipStatus.SUBMITTED, TipStatus.TRIAGED, TipStatus.VERIFYING})
        if due_at <= at:
            raise field_invalid(
                "tip.due_in_past",
                "due_at",
                "The due time must be in the future.",
                "办理期限必须晚于当前时间。",
            )
        to = TipStatus.TRIAGED if self.status == TipStatus.SUBMITTED else self.status
        self.assignee_id = officer_id
        self.due_at = due_at
        self._record(
            EventKind.ASSIGNED,
            to,
            at,
            by,
            {"assignee_id": str(officer_id), "due_at": due_at.isoformat()},
        )

    def start_verifying(self, *, at: datetime, by: uuid.UUID) -> None:
        self._require({TipStatus.TRIAGED})
        self._record(EventKind.VERIFYING, TipStatus.VERIFYING, at, by)

    def record_outcome(
        self,
        outcome: Outcome,
        *,
        at: datetime,
        by: uuid.UUID,
        duplicate_of: uuid.UUID | None = None,
        referred_to: str | None = None,
        referred_station: StationRef | None = None,
        feedback_template: str | None = None,
        templates: Mapping[str, FeedbackTemplate] = DEFAULT_TEMPLATES,
    ) -> TipEvent:
        """``templates``: the catalogue of the tip's station (defaults plus overrides).

        A referral to another station (``referred_station``) moves the tip into that
        station's queue (see ``_reroute``); a referral elsewhere (``referred_to`` only, an
        outside department) ends the handling here with the ``referred`` outcome."""
        self._require({TipStatus.VERIFYING})
        if referred_station is not None and outcome != Outcome.REFERRED:
            raise field_invalid(
                "tip.referred_station_unexpected",
                "referred_to_station_id",
                "Only a referred outcome names a station the tip goes to.",
                "只有“移交”结果才需指定接收的派出所。",
            )
        if outcome == Outcome.DUPLICATE:
            if duplicate_of is None or duplicate_of == self.id:
                raise field_invalid(
                    "tip.duplicate_of_required",
                    "duplicate_of",
                    "Name the other tip this one duplicates.",
                    "请指明与之重复的另一条线索。",
                )
        elif duplicate_of is not None:
            raise field_invalid(
                "tip.duplicate_of_unexpected",
                "duplicate_of",
                "Only a duplicate outcome names another tip.",
                "只有“重复线索”结果才需指明另一条线索。",
            )
        target = (referred_to or "").strip()
        if outcome == Outcome.REFERRED:
            if (
                len(target) > REFERRED_TO_MAX
                or not storable(target)
                or not (target or referred_station)
            ):
                raise field_invalid(
                    "tip.referred_to_required",
                    "referred_to",
                    "Name the station or department the tip is referred to (up to 100 characters).",
                    "请填写移交的派出所或部门（不超过100字）。",
                )
        elif target:
            raise field_invalid(
                "tip.referred_to_unexpected",
                "referred_to",
                "Only a referred outcome names where the tip went.",
                "只有“移交”结果才需填写移交去向。",
            )
        template = require_template(
            outcome, feedback_template or default_template(outcome), templates
        )
        if referred_station is not None:
            return self._reroute(referred_station, target, at=at, by=by, template=template)
        self.outcome = outcome
        self.duplicate_of = duplicate_of
        self.referred_to = target or None
        detail: dict[str, Any] = {"outcome": outcome.value}
        if duplicate_of is not None:
            detail["duplicate_of"] = str(duplicate_of)
        if target:
            detail["referred_to"] = target
        return self._record(EventKind.OUTCOME, TipStatus(outcome.value), at, by, detail, template)

    def _reroute(
        self,
        to: StationRef,
        referred_to: str,
        *,
        at: datetime,
        by: uuid.UUID,
        template: FeedbackTemplate,
    ) -> TipEvent:
        """Referred to another station: the tip starts over in that station's queue
        (submitted, nobody assigned, no due time, no outcome). Community and grid stay as
        the location decided; only the station (and its district) change. The reporter is
        sent the referred feedback, worded by the referring station."""
        before = self.routing.station_id
        if to.station_id == before:
            raise field_invalid(
                "tip.referred_to_same_station",
                "referred_to_station_id",
                "The tip is already with this station; refer it to another one.",
                "该线索已在本派出所，请移交其他派出所。",
            )
        self.routing = Routing(
            to.district_id, to.station_id, self.routing.community_id, self.routing.grid_id
        )
        self.assignee_id = None
        self.due_at = None
        self.outcome = None
        self.duplicate_of = None
        self.referred_to = None
        detail: dict[str, Any] = {
            "outcome": Outcome.REFERRED.value,
            "from_station_id": str(before) if before else None,
            "to_station_id": str(to.station_id),
        }
        if referred_to:
            detail["referred_to"] = referred_to
        return self._record(EventKind.REFERRED, TipStatus.SUBMITTED, at, by, detail, template)

    def close(self, *, at: datetime, by: uuid.UUID) -> None:
        self._require(set(OUTCOME_STATUSES))
        self._record(EventKind.CLOSED, TipStatus.CLOSED, at, by)

    def dispute(self, reason: str, *, at: datetime) -> None:
        """The reporter disagrees with the outcome: back to the handler (by is None so the
        history does not name the reporter)."""
        self._require({*OUTCOME_STATUSES, TipStatus.CLOSED})
        text = reason.strip()
        if not text or len(text) > REASON_MAX or not storable(text):
            raise field_invalid(
                "tip.dispute_reason_invalid",
                "reason",
                "Say why you disagree (1 to 500 characters).",
                "请说明不同意的理由（1至500字）。",
            )
        self.disputes += 1
        self.outcome = None
        self.duplicate_of = None
        self.referred_to = None
        self._record(EventKind.DISPUTED, TipStatus.TRIAGED, at, None, {"reason": text})


def submitted_event(tip: Tip) -> TipEvent:
    """The first history entry; no ``by``, so the history never names the reporter."""
    return TipEvent(
        new_id(), tip.id, EventKind.SUBMITTED, tip.submitted_at, None, TipStatus.SUBMITTED, None
    )
