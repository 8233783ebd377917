"""The help request (群众求助) and the volunteers' offers of help.

open → in_progress (station staff accept one volunteer's offer) → resolved (with an
outcome) → closed. While open, the requester may cancel (terminal, outcome
``withdrawn_by_requester``) and staff may resolve directly (e.g. found, referred).
Volunteers offer help while the request is open: at most one active offer each, which
they may withdraw while the request is open. Every change is kept as a ``HelpEvent``.

Low-privilege viewers (volunteers nearby) get coarse data: ``coarsen`` snaps a location to
the centre of a ~500 m cell and ``age_of`` turns exact times into a bucket.
"""

from __future__ import annotations

import math
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from app.domain.help.errors import (
    HelpInvalidTransition,
    HelpOfferNotFound,
    OwnRequest,
)
from app.domain.organisation.model import Routing as Routing  # shared by the reports
from app.domain.shared.errors import field_invalid
from app.domain.shared.geo import GeoPoint
from app.domain.shared.ids import new_id
from app.domain.shared.personal_data import mask_phone
from app.domain.shared.text import storable

DESCRIPTION_MAX = 2000
NOTE_MAX = 200
RESOLUTION_NOTE_MAX = 500
MAX_MEDIA = 9
# Volunteers see open requests within this distance of the point they pass.
NEARBY_RADIUS_M = 3000
# Coarse locations for volunteers: the centre of a cell this many metres on a side.
COARSE_CELL_M = 500


class HelpKind(StrEnum):
    """Pinned codes: clients send these."""

    LOST_ITEM = "lost_item"  # 失物
    LOOKING_FOR_PERSON = "looking_for_person"  # 寻人
    OTHER = "other"


class HelpStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class HelpOutcome(StrEnum):
    FOUND = "found"
    NOT_FOUND = "not_found"
    WITHDRAWN_BY_REQUESTER = "withdrawn_by_requester"
    REFERRED = "referred"


class OfferStatus(StrEnum):
    ACTIVE = "active"
    WITHDRAWN = "withdrawn"
    ACCEPTED = "accepted"
    DECLINED = "declined"  # another offer was accepted, or the request ended


class EventKind(StrEnum):
    REQUESTED = "requested"
    OFFERED = "offered"
    OFFER_WITHDRAWN = "offer_withdrawn"
    OFFER_ACCEPTED = "offer_accepted"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class Age(StrEnum):
    """How long ago, for viewers who do not get exact times."""

    JUST_NOW = "just_now"  # under 5 minutes
    MINUTES = "minutes"  # under an hour
    HOURS = "hours"  # under a day
    DAYS = "days"


def age_of(at: datetime, now: datetime) -> Age:
    elapsed = now - at
    if elapsed < timedelta(minutes=5):
        return Age.JUST_NOW
    if elapsed < timedelta(hours=1):
        return Age.MINUTES
    if elapsed < timedelta(days=1):
        return Age.HOURS
    return Age.DAYS


_LAT_STEP = COARSE_CELL_M / 111_320.0  # degrees of latitude per cell


def coarsen(point: GeoPoint) -> GeoPoint:
    """The centre of the ~500 m × 500 m cell holding ``point``: rows of fixed latitude
    height, each split into columns ~500 m wide at the row's centre. Deterministic, so
    asking again never narrows the place down."""
    row = math.floor((point.lat + 90.0) / _LAT_STEP)
    lat = min(90.0, -90.0 + (row + 0.5) * _LAT_STEP)
    lon_step = _LAT_STEP / max(math.cos(math.radians(lat)), 0.01)
    col = math.floor((point.lon + 180.0) / lon_step)
    lon = min(180.0, -180.0 + (col + 0.5) * lon_step)
    return GeoPoint(round(lon, 6), round(lat, 6))


_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
_RESIDENT_ID = re.compile(r"(?<![0-9])\d{17}[0-9Xx](?![0-9Xx])")


def redact(text: str) -> str:
    """The description as volunteers read it: phone numbers and ID numbers the requester
    typed in are masked (contact goes through the station)."""
    text = _RESIDENT_ID.sub(lambda m: m.group(0)[:3] + "*" * 11 + m.group(0)[-4:], text)
    return _MOBILE.sub(lambda m: mask_phone(m.group(0)), text)


def _clean(value: str | None, limit: int, code: str, field_name: str, zh: str) -> str | None:
    text = (value or "").strip()
    if not text:
        return None
    if len(text) > limit or not storable(text):
        raise field_invalid(
            code, field_name, f"The {field_name} must be at most {limit} characters.", zh
        )
    return text


def checked_description(description: str) -> str:
    text = description.strip()
    if not text or len(text) > DESCRIPTION_MAX or not storable(text):
        raise field_invalid(
            "help.description_invalid",
            "description",
            f"Describe what you need help with (1 to {DESCRIPTION_MAX} characters).",
            f"请描述需要帮助的情况（1至{DESCRIPTION_MAX}字）。",
        )
    return text


@dataclass(slots=True)
class Offer:
    """One volunteer's offer of help (志愿者响应)."""

    id: uuid.UUID
    request_id: uuid.UUID
    volunteer_id: uuid.UUID
    account_id: uuid.UUID  # the volunteer's account (for their notifications)
    note: str | None
    status: OfferStatus
    created_at: datetime
    updated_at: datetime

    @property
    def live(self) -> bool:
        return self.status in (OfferStatus.ACTIVE, OfferStatus.ACCEPTED)


@dataclass(frozen=True, slots=True)
class HelpEvent:
    """One entry of the history. ``by`` is None for the requester's own actions."""

    id: uuid.UUID
    request_id: uuid.UUID
    kind: EventKind
    at: datetime
    from_status: HelpStatus | None
    to_status: HelpStatus
    by: uuid.UUID | None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class HelpRequest:
    id: uuid.UUID
    kind: HelpKind
    description: str
    location: GeoPoint
    routing: Routing
    requester_id: uuid.UUID
    submitted_at: datetime
    media_ids: tuple[uuid.UUID, ...] = ()
    status: HelpStatus = HelpStatus.OPEN
    outcome: HelpOutcome | None = None
    resolution_note: str | None = None
    accepted_offer_id: uuid.UUID | None = None
    version: int = 1
    updated_at: datetime | None = None
    offers: list[Offer] = field(default_factory=list)
    # Changes not yet stored (the repository writes and clears them).
    pending: list[HelpEvent] = field(default_factory=list)
    changed_offers: dict[uuid.UUID, Offer] = field(default_factory=dict)

    @classmethod
    def open(
        cls,
        *,
        id: uuid.UUID,
        kind: HelpKind,
        description: str,
        location: GeoPoint,
        routing: Routing,
        requester_id: uuid.UUID,
        media_ids: tuple[uuid.UUID, ...],
        at: datetime,
    ) -> HelpRequest:
        text = checked_description(description)
        media = tuple(dict.fromkeys(media_ids))
        if len(media) > MAX_MEDIA:
            raise field_invalid(
                "help.too_many_media",
                "media_ids",
                f"Attach at most {MAX_MEDIA} photos.",
                f"最多附{MAX_MEDIA}张照片。",
            )
        request = cls(
            id=id,
            kind=kind,
            description=text,
            location=location,
            routing=routing,
            requester_id=requester_id,
            submitted_at=at,
            media_ids=media,
            updated_at=at,
        )
        request._record(EventKind.REQUESTED, HelpStatus.OPEN, at, None, initial=True)
        return request

    # --- reading ------------------------------------------------------------------------

    @property
    def live_offers(self) -> list[Offer]:
        return [o for o in self.offers if o.live]

    @property
    def accepted_offer(self) -> Offer | None:
        return next((o for o in self.offers if o.id == self.accepted_offer_id), None)

    def active_offer_of(self, volunteer_id: uuid.UUID) -> Offer | None:
        return next(
            (
                o
                for o in self.offers
                if o.volunteer_id == volunteer_id and o.status == OfferStatus.ACTIVE
            ),
            None,
        )

    def offer_of_account(self, account_id: uuid.UUID) -> Offer | None:
        """The caller's latest offer (any status), if any."""
        mine = [o for o in self.offers if o.account_id == account_id]
        return max(mine, key=lambda o: o.created_at) if mine else None

    def is_helper(self, account_id: uuid.UUID) -> bool:
        accepted = self.accepted_offer
        return accepted is not None and accepted.account_id == account_id

    # --- changes ------------------------------------------------------------------------

    def _record(
        self,
        kind: EventKind,
        to: HelpStatus,
        at: datetime,
        by: uuid.UUID | None,
        detail: dict[str, Any] | None = None,
        *,
        initial: bool = False,
    ) -> HelpEvent:
        event = HelpEvent(
            new_id(), self.id, kind, at, None if initial else self.status, to, by, detail or {}
        )
        self.status = to
        self.updated_at = at
        self.pending.append(event)
        return event

    def _require(self, *allowed: HelpStatus) -> None:
        if self.status not in allowed:
            raise HelpInvalidTransition()

    def _set_offer(self, offer: Offer, status: OfferStatus, at: datetime) -> None:
        offer.status = status
        offer.updated_at = at
        self.changed_offers[offer.id] = offer

    def _decline_active(self, at: datetime) -> None:
        for o in self.offers:
            if o.status == OfferStatus.ACTIVE:
                self._set_offer(o, OfferStatus.DECLINED, at)

    def offer(
        self,
        *,
        volunteer_id: uuid.UUID,
        account_id: uuid.UUID,
        note: str | None,
        at: datetime,
    ) -> tuple[Offer, bool]:
        """A volunteer offers help; offering again while the first offer is active returns
        that offer (``False``: nothing new) so a retry is safe."""
        self._require(HelpStatus.OPEN)
        if account_id == self.requester_id:
            raise OwnRequest()
        text = _clean(note, NOTE_MAX, "help.note_invalid", "note", f"备注最多{NOTE_MAX}字。")
        existing = self.active_offer_of(volunteer_id)
        if existing is not None:
            return existing, False
        offer = Offer(
            id=new_id(),
            request_id=self.id,
            volunteer_id=volunteer_id,
            account_id=account_id,
            note=text,
            status=OfferStatus.ACTIVE,
            created_at=at,
            updated_at=at,
        )
        self.offers.append(offer)
        self.changed_offers[offer.id] = offer
        self._record(EventKind.OFFERED, self.status, at, account_id, {"offer_id": str(offer.id)})
        return offer, True

    def withdraw_offer(self, account_id: uuid.UUID, *, at: datetime) -> Offer:
        """The volunteer (by account) takes back their active offer."""
        self._require(HelpStatus.OPEN)
        offer = next(
            (
                o
                for o in self.offers
                if o.account_id == account_id and o.status == OfferStatus.ACTIVE
            ),
            None,
        )
        if offer is None:
            raise HelpOfferNotFound()
        self._set_offer(offer, OfferStatus.WITHDRAWN, at)
        self._record(
            EventKind.OFFER_WITHDRAWN,
            self.status,
            at,
            offer.account_id,
            {"offer_id": str(offer.id)},
        )
        return offer

    def accept(self, offer_id: uuid.UUID, *, at: datetime, by: uuid.UUID) -> Offer:
        """Station staff take one volunteer's offer: the request is in progress with that
        helper, and the other active offers are declined."""
        self._require(HelpStatus.OPEN)
        offer = next((o for o in self.offers if o.id == offer_id), None)
        if offer is None:
            raise HelpOfferNotFound()
        if offer.status != OfferStatus.ACTIVE:
            raise HelpInvalidTransition()
        self._set_offer(offer, OfferStatus.ACCEPTED, at)
        self._decline_active(at)
        self.accepted_offer_id = offer.id
        self._record(
            EventKind.OFFER_ACCEPTED, HelpStatus.IN_PROGRESS, at, by, {"offer_id": str(offer.id)}
        )
        return offer

    def resolve(
        self, outcome: HelpOutcome, note: str | None, *, at: datetime, by: uuid.UUID
    ) -> None:
        self._require(HelpStatus.OPEN, HelpStatus.IN_PROGRESS)
        text = _clean(
            note,
            RESOLUTION_NOTE_MAX,
            "help.resolution_note_invalid",
            "note",
            f"说明最多{RESOLUTION_NOTE_MAX}字。",
        )
        self.outcome = outcome
        self.resolution_note = text
        self._decline_active(at)
        self._record(EventKind.RESOLVED, HelpStatus.RESOLVED, at, by, {"outcome": outcome.value})

    def close(self, *, at: datetime, by: uuid.UUID) -> None:
        self._require(HelpStatus.RESOLVED)
        self._record(EventKind.CLOSED, HelpStatus.CLOSED, at, by)

    def cancel(self, *, at: datetime) -> None:
        """The requester no longer needs help (only while no helper has been accepted)."""
        self._require(HelpStatus.OPEN)
        self.outcome = HelpOutcome.WITHDRAWN_BY_REQUESTER
        self._decline_active(at)
        self._record(EventKind.CANCELLED, HelpStatus.CANCELLED, at, None)
