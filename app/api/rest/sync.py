"""/api/v1/me/changes: what changed in the caller's own tips, notifications, hazards,
points entries and rewards since a sync token (mobile offline sync)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from app.api.container import services_of
from app.api.context import current_scope, lang_of
from app.api.rest import API_V1
from app.api.rest.common import OutputCrs
from app.api.rest.hazard_schemas import HazardOut
from app.api.rest.notifications import NotificationOut
from app.api.rest.points_schemas import EntryOut, MyRewardOut
from app.api.rest.tips_schemas import TipOut
from app.domain.shared.geo import Crs
from app.domain.shared.scope import Scope
from app.domain.sync.model import RecordType
from app.domain.sync.services import DEFAULT_LIMIT, MAX_LIMIT, SyncService

router = APIRouter(prefix=API_V1, tags=["sync"])


class TipChangeOut(BaseModel):
    type: Literal["tip"] = "tip"
    op: Literal["upsert"] = "upsert"
    item: TipOut


class NotificationChangeOut(BaseModel):
    type: Literal["notification"] = "notification"
    op: Literal["upsert"] = "upsert"
    item: NotificationOut


class HazardChangeOut(BaseModel):
    type: Literal["hazard"] = "hazard"
    op: Literal["upsert"] = "upsert"
    item: HazardOut


class PointsEntryChangeOut(BaseModel):
    type: Literal["points_entry"] = "points_entry"
    op: Literal["upsert"] = "upsert"
    item: EntryOut


class RewardChangeOut(BaseModel):
    type: Literal["reward"] = "reward"
    op: Literal["upsert"] = "upsert"
    item: MyRewardOut


class TombstoneOut(BaseModel):
    type: RecordType
    op: Literal["delete"] = "delete"
    id: uuid.UUID


ChangeOut = (
    TipChangeOut
    | NotificationChangeOut
    | HazardChangeOut
    | PointsEntryChangeOut
    | RewardChangeOut
    | TombstoneOut
)


class ChangesOut(BaseModel):
    changes: list[ChangeOut]
    next: str
    has_more: bool


@router.get(
    "/me/changes",
    operation_id="listMyChanges",
    summary=(
        "Your tips, notifications, hazards, points entries and rewards changed since a"
        " sync token, with tombstones"
    ),
    response_model=ChangesOut,
    responses={
        401: {"description": "Not signed in"},
        422: {"description": "Invalid input, or an invalid sync token (sync.invalid_token)"},
    },
)
async def list_my_changes(
    request: Request,
    scope: Annotated[Scope, Depends(current_scope)],
    since: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    crs: OutputCrs = Crs.WGS84,
) -> Any:
    page = await services_of(request).get(SyncService).changes(scope, since, limit)
    lang = lang_of(request)
    changes: list[ChangeOut] = []
    for it in page.items:
        if it.tip is not None:
            changes.append(TipChangeOut(item=TipOut.of(it.tip, lang, crs)))
        elif it.notification is not None:
            changes.append(NotificationChangeOut(item=NotificationOut.of(it.notification, lang)))
        elif it.hazard is not None:
            changes.append(HazardChangeOut(item=HazardOut.of(it.hazard, crs)))
        elif it.points_entry is not None:
            changes.append(PointsEntryChangeOut(item=EntryOut.of(it.points_entry)))
        elif it.reward is not None:
            changes.append(RewardChangeOut(item=MyRewardOut.of(it.reward)))
        else:
            changes.append(TombstoneOut(type=it.record_type, id=it.record_id))
    return ChangesOut(changes=changes, next=page.next, has_more=page.has_more)
