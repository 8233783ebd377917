"""/api/v1/review-flags: the fraud review queue (风控复核) of station staff."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from app.api.container import services_of
from app.api.context import current_scope
from app.api.pagination import after_id
from app.api.rest import API_V1
from app.api.rest.common import Page, PageCursor, PageLimit, etag_response, parse_path_id
from app.domain.review.errors import FlagNotFound
from app.domain.review.model import NOTE_MAX, Decision, FlagKind, FlagStatus, ReviewFlag
from app.domain.review.services import ReviewService
from app.domain.shared.scope import Scope

router = APIRouter(prefix=API_V1, tags=["review"])

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not signed in"},
    403: {"description": "Not police staff"},
    404: {"description": "No such flag you may see"},
}
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    403: {"description": "Staff who may only read here (auditors)"},
    409: {"description": "Already resolved"},
    422: {"description": "Invalid input"},
}


class RecordOut(BaseModel):
    type: str = Field(description="hazard | tip")
    id: uuid.UUID


class ReviewFlagOut(BaseModel):
    id: uuid.UUID
    record: RecordOut
    kind: FlagKind
    status: FlagStatus
    station_id: uuid.UUID | None
    district_id: uuid.UUID | None
    evidence: dict[str, Any] = Field(
        description="Other record ids (``records``) and counts; never accounts or devices"
    )
    created_at: datetime
    resolved_at: datetime | None
    resolved_by: uuid.UUID | None
    note: str | None
    version: int

    @classmethod
    def of(cls, flag: ReviewFlag) -> ReviewFlagOut:
        return cls(
            id=flag.id,
            record=RecordOut(type=flag.record.record_type, id=flag.record.record_id),
            kind=flag.kind,
            status=flag.status,
            station_id=flag.station_id,
            district_id=flag.district_id,
            evidence=flag.evidence,
            created_at=flag.created_at,
            resolved_at=flag.resolved_at,
            resolved_by=flag.resolved_by,
            note=flag.note,
            version=flag.version,
        )


class ResolveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Decision
    note: str | None = Field(default=None, max_length=NOTE_MAX, examples=["同一照片重复上报"])


def _service(request: Request) -> ReviewService:
    return services_of(request).get(ReviewService)


def _id(raw: str) -> uuid.UUID:
    return parse_path_id(raw, FlagNotFound)


def _one(flag: ReviewFlag) -> JSONResponse:
    return etag_response(ReviewFlagOut.of(flag), flag.id, flag.version)


@router.get(
    "/review-flags",
    operation_id="listReviewFlags",
    summary="Suspicious reports of your jurisdiction, newest first (staff)",
    response_model=Page[ReviewFlagOut],
    responses=ERRORS,
)
async def list_review_flags(
    request: Request,
    scope: Annotated[Scope, Depends(current_scope)],
    kind: FlagKind | None = None,
    status: FlagStatus | None = None,
    limit: PageLimit = 50,
    cursor: PageCursor = None,
) -> Any:
    page = await _service(request).queue(
        scope, kind=kind, status=status, limit=limit, after=after_id(cursor)
    )
    return Page[ReviewFlagOut].keyset([ReviewFlagOut.of(f) for f in page.items], more=page.has_more)


@router.get(
    "/review-flags/{flag_id}",
    operation_id="getReviewFlag",
    summary="One review flag (staff)",
    response_model=ReviewFlagOut,
    responses=ERRORS,
)
async def get_review_flag(
    request: Request, flag_id: str, scope: Annotated[Scope, Depends(current_scope)]
) -> JSONResponse:
    return _one(await _service(request).get(scope, _id(flag_id)))


@router.post(
    "/review-flags/{flag_id}/resolve",
    operation_id="resolveReviewFlag",
    summary="Dismiss a flag or confirm fraud (which reverses the report's points)",
    response_model=ReviewFlagOut,
    responses=WRITE_ERRORS,
)
async def resolve_review_flag(
    request: Request,
    flag_id: str,
    body: ResolveIn,
    scope: Annotated[Scope, Depends(current_scope)],
) -> JSONResponse:
    flag = await _service(request).resolve(scope, _id(flag_id), body.decision, body.note)
    return _one(flag)
