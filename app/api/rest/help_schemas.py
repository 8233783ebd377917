"""Request and response bodies of /api/v1/help-requests (群众求助)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.api.rest.common import LocationIn, LocationOut
from app.domain.help.model import (
    COARSE_CELL_M,
    DESCRIPTION_MAX,
    MAX_MEDIA,
    NOTE_MAX,
    RESOLUTION_NOTE_MAX,
    Age,
    HelpKind,
    HelpOutcome,
    HelpStatus,
    OfferStatus,
)
from app.domain.help.ports import HelperCard
from app.domain.help.services import Audience, HelpView
from app.domain.shared.geo import Crs

COMMON_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not signed in"},
    404: {"description": "No such help request you may see"},
    422: {"description": "Invalid input"},
}
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    **COMMON_ERRORS,
    403: {"description": "Not allowed (station staff, a serving volunteer or the requester)"},
    409: {"description": "Not allowed from the request's current status"},
    412: {"description": "If-Match does not match the current version"},
}
CREATE_ERRORS: dict[int | str, dict[str, Any]] = {
    **COMMON_ERRORS,
    404: {"description": "A media id is unknown or not uploaded by you (nothing is stored)"},
    409: {
        "description": "The id names someone else's request, Idempotency-Key in flight, "
        "or a media object is not ready or attached elsewhere (nothing is stored)"
    },
}


class HelpRequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: uuid.UUID | None = Field(
        None, description="Client-generated id; a retry with the same id returns it (200)"
    )
    kind: HelpKind
    description: str = Field(
        min_length=1, max_length=DESCRIPTION_MAX, examples=["在武进万达广场丢失黑色钱包"]
    )
    location: LocationIn
    media_ids: list[uuid.UUID] = Field(default_factory=list, max_length=MAX_MEDIA)


class OfferIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(None, max_length=NOTE_MAX, examples=["我在附近，十分钟到"])


class ResolveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: HelpOutcome
    note: str | None = Field(None, max_length=RESOLUTION_NOTE_MAX)


class HelperOut(BaseModel):
    """The helper as the requester sees them: masked name and volunteer number only."""

    masked_name: str
    volunteer_number: str | None

    @classmethod
    def of(cls, card: HelperCard) -> HelperOut:
        return cls(masked_name=card.masked_name, volunteer_number=card.volunteer_number)


class MyOfferOut(BaseModel):
    id: uuid.UUID
    status: OfferStatus


class OfferOut(BaseModel):
    """Staff only."""

    id: uuid.UUID
    volunteer_id: uuid.UUID
    status: OfferStatus
    note: str | None
    created_at: datetime
    helper: HelperOut | None


class HelpHistoryOut(BaseModel):
    at: datetime
    kind: str
    from_status: HelpStatus | None
    to_status: HelpStatus
    by: uuid.UUID | None
    detail: dict[str, Any]


class HelpRequestOut(BaseModel):
    """A help request as the caller may see it (``audience``). Volunteers who are not the
    accepted helper get ``location`` as the centre of a ~500 m cell
    (``location_precision_m``), ``age`` instead of ``submitted_at`` and phone / ID numbers
    in the description masked; nobody but station staff learns who asked."""

    id: uuid.UUID
    audience: Audience
    kind: HelpKind
    description: str
    status: HelpStatus
    outcome: HelpOutcome | None
    location: LocationOut
    location_precision_m: int | None = Field(
        description="null: the exact place; otherwise the side of the cell shown"
    )
    submitted_at: datetime | None
    age: Age
    media_ids: list[uuid.UUID]
    offer_count: int
    helper: HelperOut | None
    my_offer: MyOfferOut | None
    # Station staff only (null for everyone else).
    station_id: uuid.UUID | None = None
    district_id: uuid.UUID | None = None
    community_id: uuid.UUID | None = None
    grid_id: uuid.UUID | None = None
    requester_id: uuid.UUID | None = None
    resolution_note: str | None = None
    offers: list[OfferOut] | None = None
    history: list[HelpHistoryOut] | None = None
    version: int

    @classmethod
    def of(cls, view: HelpView, crs: Crs = Crs.WGS84, *, history: bool = True) -> HelpRequestOut:
        r = view.request
        helper = view.helper
        mine = view.my_offer
        out = cls(
            id=r.id,
            audience=view.audience,
            kind=r.kind,
            description=view.description,
            status=r.status,
            outcome=r.outcome,
            location=LocationOut.of(view.location, crs),
            location_precision_m=None if view.exact else COARSE_CELL_M,
            submitted_at=view.submitted_at,
            age=view.age,
            media_ids=list(r.media_ids),
            offer_count=view.offer_count,
            helper=HelperOut.of(helper) if helper else None,
            my_offer=MyOfferOut(id=mine.id, status=mine.status) if mine else None,
            version=r.version,
        )
        if not view.is_staff:
            return out
        routing = r.routing
        return out.model_copy(
            update={
                "station_id": routing.station_id,
                "district_id": routing.district_id,
                "community_id": routing.community_id,
                "grid_id": routing.grid_id,
                "requester_id": r.requester_id,
                "resolution_note": r.resolution_note,
                "offers": [
                    OfferOut(
                        id=o.id,
                        volunteer_id=o.volunteer_id,
                        status=o.status,
                        note=o.note,
                        created_at=o.created_at,
                        helper=HelperOut.of(view.cards[o.volunteer_id])
                        if o.volunteer_id in view.cards
                        else None,
                    )
                    for o in view.offers
                ],
                "history": [
                    HelpHistoryOut(
                        at=ev.at,
                        kind=ev.kind.value,
                        from_status=ev.from_status,
                        to_status=ev.to_status,
                        by=ev.by,
                        detail=ev.detail,
                    )
                    for ev in view.events
                ]
                if history
                else None,
            }
        )
