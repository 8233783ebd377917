"""/api/v1/tips and /api/v1/me/tips: tip-offs (情报线索) from residents and volunteers,
the officer queue and the handling lifecycle."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from app.api.container import services_of
from app.api.context import current_scope, lang_of, unlogged_caller
from app.api.pagination import after_id
from app.api.rest import API_V1
from app.api.rest.common import (
    OutputCrs,
    Page,
    PageLimit,
    PlainJSONResponse,
    etag_response,
    page_json,
    parse_path_id,
)
from app.api.rest.common import expected_version as if_match
from app.api.rest.idempotency import KeyedRequest, run_idempotent
from app.api.rest.query import PageQuery, QueryCrs, QueryCursor, QueryLimit, QueryModel
from app.api.rest.tips_schemas import (
    COMMON_ERRORS,
    SUBMIT_ERRORS,
    WRITE_ERRORS,
    AssignIn,
    BulkAssignIn,
    FeedbackTemplateIn,
    FeedbackTemplateOut,
    InformantOut,
    OptionalReasonIn,
    OutcomeIn,
    ReasonIn,
    TipIn,
    TipOut,
    tip_json,
)
from app.domain.shared.geo import Crs
from app.domain.shared.personal_data import parse_cn_mobile
from app.domain.shared.scope import Scope
from app.domain.tips.errors import TipNotFound
from app.domain.tips.model import Category, TipStatus, Urgency
from app.domain.tips.services import NewTip, TipService, TipView

router = APIRouter(prefix=API_V1, tags=["tips"])
STAFF_ONLY: dict[int | str, dict[str, Any]] = {
    **COMMON_ERRORS,
    403: {"description": "Staff only"},
}


def _service(request: Request) -> TipService:
    return services_of(request).get(TipService)


def _tid(raw: str) -> uuid.UUID:
    return parse_path_id(raw, TipNotFound)


def _one(request: Request, view: TipView, crs: Crs = Crs.WGS84, status: int = 200) -> JSONResponse:
    return etag_response(
        tip_json(view, lang_of(request), crs),
        view.tip.id,
        view.tip.version,
        status=status,
        location=f"/api/v1/tips/{view.tip.id}" if status == 201 else "",
    )


@router.post(
    "/tips",
    operation_id="submitTip",
    summary="Submit a tip (any signed-in account); a retry with the same id answers 200",
    status_code=201,
    response_model=TipOut,
    responses={**SUBMIT_ERRORS, 200: {"description": "A retry: the tip already stored"}},
)
async def submit_tip(
    request: Request, body: TipIn, scope: Annotated[Scope, Depends(current_scope)]
) -> Any:
    unlogged_caller(request)
    service = _service(request)
    new = NewTip(
        category=body.category,
        description=body.description,
        location=body.location.to_point(),
        urgency=body.urgency,
        anonymous=body.anonymous,
        id=body.id,
        media_ids=tuple(body.media_ids),
        appeal_id=body.appeal_id,
        contact_phone=parse_cn_mobile(body.contact_phone) if body.contact_phone else None,
    )

    def respond(view: TipView) -> JSONResponse:
        return _one(request, view, status=201 if view.created else 200)

    async def handler() -> JSONResponse:
        return respond(await service.submit(scope, new))

    async def at_once(keyed: KeyedRequest) -> Response:
        view = await service.submit(scope, new, receipt=keyed.receipt(respond))
        return keyed.respond(view, respond)

    return await run_idempotent(
        request,
        principal=str(scope.account_id),
        operation="submitTip",
        payload=body.model_dump(mode="json"),
        handler=handler,
        at_once=at_once if service.writes_at_once(scope, new) else None,
    )


MINE_QUERY = QueryModel(PageQuery)


@router.get(
    "/me/tips",
    operation_id="listMyTips",
    summary="Your own named tips with status and feedback, newest first",
    response_model=Page[TipOut],
    responses=COMMON_ERRORS,
    openapi_extra=MINE_QUERY.openapi,
)
async def list_my_tips(request: Request, scope: Annotated[Scope, Depends(current_scope)]) -> Any:
    q = MINE_QUERY.parse(request)
    views, more = await _service(request).mine(scope, limit=q.limit, after=after_id(q.cursor))
    lang = lang_of(request)
    return PlainJSONResponse(page_json([tip_json(v, lang, q.crs) for v in views], more=more))


class QueueQuery(BaseModel):
    """The officer queue's query string (see ``QueryModel``)."""

    status: TipStatus | None = None
    category: Category | None = None
    urgency: Urgency | None = None
    grid_id: uuid.UUID | None = None
    overdue: bool = False
    crs: QueryCrs = Crs.WGS84
    limit: QueryLimit = 50
    cursor: QueryCursor = None


QUEUE_QUERY = QueryModel(QueueQuery)


@router.get(
    "/tips",
    operation_id="listTips",
    summary="The officer queue: tips routed into your jurisdiction, newest first",
    response_model=Page[TipOut],
    responses=STAFF_ONLY,
    openapi_extra=QUEUE_QUERY.openapi,
)
async def list_tips(request: Request, scope: Annotated[Scope, Depends(current_scope)]) -> Any:
    q = QUEUE_QUERY.parse(request)
    service = _service(request)
    where = service.queue_filter(q.status, q.category, q.urgency, q.grid_id, overdue=q.overdue)
    views, more = await service.queue_views(scope, where, limit=q.limit, after=after_id(q.cursor))
    lang = lang_of(request)
    items = [tip_json(v, lang, q.crs, with_history=False) for v in views]
    return PlainJSONResponse(page_json(items, more=more))


@router.get(
    "/tips/counts",
    operation_id="countTipsByStatus",
    summary="How many tips in your jurisdiction are in each status",
    responses=STAFF_ONLY,
)
async def count_tips(
    request: Request, scope: Annotated[Scope, Depends(current_scope)]
) -> dict[str, int]:
    counts = await _service(request).counts(scope)
    return {status.value: n for status, n in counts.items()}


@router.get(
    "/tips/map",
    operation_id="mapTips",
    summary="Tips of the queue filters as a GeoJSON FeatureCollection (WGS-84, max 200)",
    responses=STAFF_ONLY,
)
async def map_tips(
    request: Request,
    scope: Annotated[Scope, Depends(current_scope)],
    status: TipStatus | None = None,
    category: Category | None = None,
    urgency: Urgency | None = None,
    grid_id: uuid.UUID | None = None,
    overdue: bool = False,
    limit: PageLimit = 200,
) -> dict[str, Any]:
    service = _service(request)
    where = service.queue_filter(status, category, urgency, grid_id, overdue=overdue)
    # Auditors without a writing role at a tip's station get its coarse (cell centre) point.
    return await service.map(scope, where, limit=limit)


@router.post(
    "/tips/bulk-assign",
    operation_id="bulkAssignTips",
    summary="Assign several tips to one officer of their station (all or nothing)",
    response_model=list[TipOut],
    responses=WRITE_ERRORS,
)
async def bulk_assign(
    request: Request, body: BulkAssignIn, scope: Annotated[Scope, Depends(current_scope)]
) -> Any:
    views = await _service(request).bulk_assign(scope, body.tip_ids, body.officer_id, body.due_at)
    lang = lang_of(request)
    return [TipOut.of(v, lang) for v in views]


@router.get(
    "/tip-feedback-templates",
    operation_id="listTipFeedbackTemplates",
    summary="Feedback templates a station's officers choose from (defaults and its own)",
    response_model=list[FeedbackTemplateOut],
    responses=STAFF_ONLY,
)
async def list_feedback_templates(
    request: Request, station_id: uuid.UUID, scope: Annotated[Scope, Depends(current_scope)]
) -> Any:
    templates = await _service(request).feedback_templates(scope, station_id)
    return [FeedbackTemplateOut.of(t) for t in templates]


@router.put(
    "/tip-feedback-templates/{code}",
    operation_id="saveTipFeedbackTemplate",
    summary="Word a station's feedback template (station or district admin; audited)",
    response_model=FeedbackTemplateOut,
    responses=WRITE_ERRORS,
)
async def save_feedback_template(
    request: Request,
    code: str,
    body: FeedbackTemplateIn,
    scope: Annotated[Scope, Depends(current_scope)],
) -> Any:
    template = await _service(request).save_feedback_template(
        scope, body.station_id, code, body.outcome.value, body.text_zh, body.text_en
    )
    return FeedbackTemplateOut.of(template)


@router.get(
    "/tips/{tip_id}",
    operation_id="getTip",
    summary="A tip as you may see it (your own as reporter, or in your jurisdiction)",
    response_model=TipOut,
    responses=COMMON_ERRORS,
)
async def get_tip(
    request: Request,
    tip_id: str,
    scope: Annotated[Scope, Depends(current_scope)],
    crs: OutputCrs = Crs.WGS84,
) -> Any:
    return _one(request, await _service(request).get(scope, _tid(tip_id)), crs)


@router.post(
    "/tips/{tip_id}/assign",
    operation_id="assignTip",
    summary="Triage: assign to an officer of the tip's station, with a due time",
    response_model=TipOut,
    responses=WRITE_ERRORS,
)
async def assign_tip(
    request: Request, tip_id: str, body: AssignIn, scope: Annotated[Scope, Depends(current_scope)]
) -> Any:
    tid = _tid(tip_id)
    view = await _service(request).assign(
        scope,
        tid,
        body.officer_id,
        body.due_at,
        expected_version=if_match(request, tid, required=False),
    )
    return _one(request, view)


@router.post(
    "/tips/{tip_id}/verify",
    operation_id="startVerifyingTip",
    summary="Start verifying a triaged tip",
    response_model=TipOut,
    responses=WRITE_ERRORS,
)
async def start_verifying(
    request: Request, tip_id: str, scope: Annotated[Scope, Depends(current_scope)]
) -> Any:
    tid = _tid(tip_id)
    view = await _service(request).start_verifying(
        scope, tid, expected_version=if_match(request, tid, required=False)
    )
    return _one(request, view)


@router.post(
    "/tips/{tip_id}/outcome",
    operation_id="recordTipOutcome",
    summary="Record the outcome; the reporter gets the templated feedback",
    response_model=TipOut,
    responses=WRITE_ERRORS,
)
async def record_outcome(
    request: Request, tip_id: str, body: OutcomeIn, scope: Annotated[Scope, Depends(current_scope)]
) -> Any:
    tid = _tid(tip_id)
    view = await _service(request).record_outcome(
        scope,
        tid,
        body.outcome,
        duplicate_of=body.duplicate_of,
        referred_to=body.referred_to,
        referred_to_station=body.referred_to_station_id,
        feedback_template=body.feedback_template,
        expected_version=if_match(request, tid, required=False),
    )
    return _one(request, view)


@router.post(
    "/tips/{tip_id}/close",
    operation_id="closeTip",
    summary="Close a tip that has an outcome",
    response_model=TipOut,
    responses=WRITE_ERRORS,
)
async def close_tip(
    request: Request, tip_id: str, scope: Annotated[Scope, Depends(current_scope)]
) -> Any:
    tid = _tid(tip_id)
    view = await _service(request).close(
        scope, tid, expected_version=if_match(request, tid, required=False)
    )
    return _one(request, view)


@router.post(
    "/tips/{tip_id}/dispute",
    operation_id="disputeTip",
    summary="As its reporter, dispute the outcome: the tip goes back to its handler",
    response_model=TipOut,
    responses=WRITE_ERRORS,
)
async def dispute_tip(
    request: Request, tip_id: str, body: ReasonIn, scope: Annotated[Scope, Depends(current_scope)]
) -> Any:
    unlogged_caller(request)
    return _one(request, await _service(request).dispute(scope, _tid(tip_id), body.reason))


@router.post(
    "/tips/{tip_id}/informant/reveal",
    operation_id="revealTipInformant",
    summary="Who reported a named tip: the handler directly, other staff with a reason (audited)",
    response_model=InformantOut,
    responses=WRITE_ERRORS,
)
async def reveal_informant(
    request: Request,
    tip_id: str,
    body: OptionalReasonIn,
    scope: Annotated[Scope, Depends(current_scope)],
) -> Any:
    revealed = await _service(request).reveal_informant(scope, _tid(tip_id), body.reason)
    return JSONResponse(
        InformantOut.of(revealed).model_dump(mode="json"), headers={"Cache-Control": "no-store"}
    )
