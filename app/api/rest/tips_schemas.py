"""Request and response bodies of /api/v1/tips (情报线索)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.api.rest.common import LocationIn, LocationOut
from app.domain.media.model import MediaKind
from app.domain.media.services import MediaView
from app.domain.shared.geo import Crs, from_wgs84
from app.domain.tips.feedback import FeedbackTemplate
from app.domain.tips.model import Category, Outcome, TipEvent, Urgency
from app.domain.tips.services import BULK_ASSIGN_MAX, RevealedInformant, TipView
from app.domain.tips.views import TimeAgo, visible_detail

COMMON_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not signed in"},
    404: {"description": "No such tip in your scope"},
    422: {"description": "Invalid input"},
}
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    **COMMON_ERRORS,
    403: {"description": "Not allowed (a writing role at the tip's station is needed)"},
    409: {"description": "Not allowed from the tip's current status"},
    412: {"description": "If-Match does not match the current version"},
}
SUBMIT_ERRORS: dict[int | str, dict[str, Any]] = {
    **COMMON_ERRORS,
    404: {"description": "A media id is unknown or not uploaded by you (no tip is stored)"},
    409: {
        "description": "The id names another sender's tip, Idempotency-Key in flight, "
        "or a media object is not ready or attached elsewhere (no tip is stored)"
    },
    429: {"description": "Too many tips from this account in the last hour"},
}


class TipIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: uuid.UUID | None = Field(
        None, description="Client-generated id; a retry with the same id returns the tip (200)"
    )
    category: Category
    description: str = Field(min_length=1, max_length=2000)
    location: LocationIn
    urgency: Urgency = Urgency.NORMAL
    anonymous: bool = False
    media_ids: list[uuid.UUID] = Field(default_factory=list, max_length=9)
    appeal_id: uuid.UUID | None = None
    contact_phone: str | None = Field(
        None, max_length=20, description="Named tips only: a number the handler may call"
    )


class AssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    officer_id: uuid.UUID
    due_at: datetime


class BulkAssignIn(AssignIn):
    tip_ids: list[uuid.UUID] = Field(min_length=1, max_length=BULK_ASSIGN_MAX)


class OutcomeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: Outcome
    duplicate_of: uuid.UUID | None = None
    referred_to: str | None = Field(None, max_length=100)
    referred_to_station_id: uuid.UUID | None = Field(
        None,
        description="With outcome `referred`: the police station whose queue the tip moves "
        "to (`referred_to` then optional); without it the tip is referred elsewhere.",
    )
    feedback_template: str | None = Field(None, max_length=50)


class ReasonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=500)


class OptionalReasonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(None, max_length=500)


class FeedbackOut(BaseModel):
    at: datetime | None = Field(description="Null for callers who see times coarsely")
    ago: TimeAgo | None = Field(None, description="For coarse callers only (auditors)")
    template: str
    message: str


class HistoryOut(BaseModel):
    at: datetime | None = Field(description="Null for callers who see times coarsely")
    ago: TimeAgo | None = Field(None, description="For coarse callers only (auditors)")
    kind: str
    from_status: str | None
    to_status: str
    by: uuid.UUID | None
    detail: dict[str, Any]
    feedback: str | None


class TipMediaOut(BaseModel):
    """A photo, video or voice note of the tip, with signed expiring URLs."""

    id: uuid.UUID
    kind: MediaKind
    content_type: str
    url: str | None
    thumbnail_url: str | None


class TipOut(BaseModel):
    """A tip as the caller may see it: the reporter sees status and feedback; station
    staff also see routing and handling. Never the informant's identity."""

    id: uuid.UUID
    category: Category
    description: str
    location: LocationOut
    urgency: Urgency
    anonymous: bool
    status: str
    submitted_at: datetime | None = Field(
        description="Null for callers who see the tip coarsely (see submitted_ago)"
    )
    media_ids: list[uuid.UUID]
    media: list[TipMediaOut]
    feedback: list[FeedbackOut]
    version: int
    # Low-privilege staff (auditors without a writing role at the tip's station) see the
    # location snapped to a ~500 m cell centre and times as relative buckets.
    coarse: bool = False
    submitted_ago: TimeAgo | None = None
    # Staff only (null for the reporter):
    district_id: uuid.UUID | None = None
    station_id: uuid.UUID | None = None
    community_id: uuid.UUID | None = None
    grid_id: uuid.UUID | None = None
    assignee_id: uuid.UUID | None = None
    due_at: datetime | None = None
    overdue: bool | None = None
    outcome: Outcome | None = None
    duplicate_of: uuid.UUID | None = None
    referred_to: str | None = None
    disputes: int | None = None
    latest_feedback: FeedbackOut | None = Field(
        None, description="Staff only: the last feedback sent to the reporter"
    )
    history: list[HistoryOut] | None = None

    @classmethod
    def of(
        cls, view: TipView, lang: str, crs: Crs = Crs.WGS84, *, with_history: bool = True
    ) -> TipOut:
        return cls.model_validate(tip_json(view, lang, crs, with_history=with_history))


def tip_json(
    view: TipView, lang: str, crs: Crs = Crs.WGS84, *, with_history: bool = True
) -> dict[str, Any]:
    """A tip as ``TipOut`` describes it, as plain values for ``pydantic_core.to_json``
    (which writes UUIDs, datetimes and enums exactly as the model would). Queue pages
    build hundreds of these a second: plain dicts cost a fraction of model instances,
    and tests check that every one validates as a ``TipOut``. The staff fields are filled
    in one branch (null for the reporter, in the same key order)."""
    tip = view.tip
    lon, lat = from_wgs84(view.location, crs)
    coarse = view.coarse
    feedback = view.feedback
    item: dict[str, Any] = {
        "id": tip.id,
        "category": tip.category,
        "description": tip.description,
        "location": {"lon": round(lon, 7), "lat": round(lat, 7), "crs": crs},
        "urgency": tip.urgency,
        "anonymous": tip.anonymous,
        "status": tip.status.value,
        "submitted_at": None if coarse else tip.submitted_at,
        "media_ids": list(tip.media_ids),
        "media": [_media(m) for m in view.media] if view.media else [],
        "feedback": [_feedback(view, e, lang) for e in feedback] if feedback else [],
        "version": tip.version,
        "coarse": coarse,
        "submitted_ago": view.ago(tip.submitted_at) if coarse else None,
    }
    if not view.as_staff:
        item.update(_STAFF_ONLY)
        return item
    r = tip.routing
    item["district_id"] = r.district_id
    item["station_id"] = r.station_id
    item["community_id"] = r.community_id
    item["grid_id"] = r.grid_id
    item["assignee_id"] = tip.assignee_id
    item["due_at"] = None if coarse else tip.due_at
    item["overdue"] = view.overdue
    item["outcome"] = tip.outcome
    item["duplicate_of"] = tip.duplicate_of
    item["referred_to"] = tip.referred_to
    item["disputes"] = tip.disputes
    item["latest_feedback"] = _feedback(view, feedback[-1], lang) if feedback else None
    item["history"] = [_history(view, e) for e in view.events] if with_history else None
    return item


# What only staff see, null in the reporter's view.
_STAFF_ONLY: dict[str, None] = dict.fromkeys(
    (
        "district_id",
        "station_id",
        "community_id",
        "grid_id",
        "assignee_id",
        "due_at",
        "overdue",
        "outcome",
        "duplicate_of",
        "referred_to",
        "disputes",
        "latest_feedback",
        "history",
    )
)


def _media(view: MediaView) -> dict[str, Any]:
    m = view.media
    return {
        "id": m.id,
        "kind": m.kind,
        "content_type": m.content_type,
        "url": view.url,
        "thumbnail_url": view.thumbnail_url,
    }


def _feedback(view: TipView, event: TipEvent, lang: str) -> dict[str, Any]:
    return {
        "at": view.exact(event.at),
        "ago": view.ago(event.at),
        "template": event.feedback or "",
        "message": event.feedback_text(lang),
    }


def _history(view: TipView, event: TipEvent) -> dict[str, Any]:
    return {
        "at": view.exact(event.at),
        "ago": view.ago(event.at),
        "kind": event.kind.value,
        "from_status": event.from_status.value if event.from_status else None,
        "to_status": event.to_status.value,
        "by": event.by,
        "detail": visible_detail(event.detail, coarse=view.coarse),
        "feedback": event.feedback,
    }


class InformantOut(BaseModel):
    anonymous: bool
    account_id: uuid.UUID | None = None
    contact_phone: str | None = None

    @classmethod
    def of(cls, revealed: RevealedInformant | None) -> InformantOut:
        if revealed is None:
            return cls(anonymous=True)
        return cls(
            anonymous=False,
            account_id=revealed.account_id,
            contact_phone=revealed.contact_phone,
        )


class FeedbackTemplateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    station_id: uuid.UUID
    outcome: Outcome
    text_zh: str = Field(min_length=1, max_length=300)
    text_en: str = Field(min_length=1, max_length=300)


class FeedbackTemplateOut(BaseModel):
    code: str
    outcome: Outcome
    text_zh: str
    text_en: str

    @classmethod
    def of(cls, t: FeedbackTemplate) -> FeedbackTemplateOut:
        return cls(code=t.code, outcome=Outcome(t.outcome), text_zh=t.text_zh, text_en=t.text_en)
