"""/api/v1/hazards (隐患排查整改), /api/v1/me/hazards, /api/v1/hazard-departments and
/api/v1/hazard-categories: report with photos (offered duplicates nearby), verify, merge,
assign with a deadline, rectify with after-photos, re-inspect, reopen; rectification
statistics; departments with member accounts and per-district sub-categories."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from app.api.container import services_of
from app.api.context import current_scope
from app.api.pagination import after_id
from app.api.rest import API_V1
from app.api.rest.common import (
    OutputCrs,
    Page,
    PageCursor,
    PageLimit,
    etag_response,
    parse_path_id,
)
from app.api.rest.common import expected_version as if_match
from app.api.rest.hazard_schemas import (
    ADMIN_ERRORS,
    COMMON_ERRORS,
    CREATE_ERRORS,
    WRITE_ERRORS,
    AssignIn,
    CategoryIn,
    CategoryOut,
    DepartmentIn,
    DepartmentOut,
    HazardIn,
    HazardOut,
    MemberIn,
    MemberOut,
    MergeIn,
    NearbyHazardOut,
    NearbyOut,
    RectifyIn,
    ReinspectIn,
    ReopenIn,
    StatsOut,
    StatsRowOut,
    VerifyIn,
)
from app.api.rest.idempotency import KeyedRequest, run_idempotent
from app.domain.hazards.errors import DepartmentNotFound, HazardNotFound
from app.domain.hazards.model import HazardStatus, TopCategory
from app.domain.hazards.ports import StatsLevel
from app.domain.hazards.services import (
    HazardService,
    HazardSetupService,
    HazardView,
    NewCategory,
    NewHazard,
)
from app.domain.shared.geo import Crs, to_wgs84
from app.domain.shared.scope import Scope

router = APIRouter(prefix=API_V1, tags=["hazards"])
BASE = "/api/v1/hazards"


def _service(request: Request) -> HazardService:
    return services_of(request).get(HazardService)


def _setup(request: Request) -> HazardSetupService:
    return services_of(request).get(HazardSetupService)


def _hid(raw: str) -> uuid.UUID:
    return parse_path_id(raw, HazardNotFound)


def _one(view: HazardView, crs: Crs = Crs.WGS84, status: int = 200) -> JSONResponse:
    return etag_response(
        HazardOut.of(view, crs),
        view.hazard.id,
        view.hazard.version,
        status=status,
        location=f"{BASE}/{view.hazard.id}" if status == 201 else "",
    )


@router.post(
    "/hazards",
    operation_id="reportHazard",
    summary="Report a hazard with at least one photo (any signed-in account); the answer "
    "offers open hazards of the category nearby; a retry with the same id answers 200",
    status_code=201,
    response_model=HazardOut,
    responses={**CREATE_ERRORS, 200: {"description": "A retry: the hazard already stored"}},
)
async def report_hazard(
    request: Request, body: HazardIn, scope: Annotated[Scope, Depends(current_scope)]
) -> Any:
    service = _service(request)
    new = NewHazard(
        category=body.category,
        description=body.description,
        location=body.location.to_point(),
        media_ids=tuple(body.media_ids),
        place=body.place,
        subcategory_id=body.subcategory_id,
        id=body.id,
    )

    def respond(view: HazardView) -> JSONResponse:
        return _one(view, status=201 if view.created else 200)

    async def handler() -> JSONResponse:
        return respond(await service.report(scope, new))

    async def at_once(keyed: KeyedRequest) -> Response:
        view = await service.report(scope, new, receipt=keyed.receipt(respond))
        return keyed.respond(view, respond)

    return await run_idempotent(
        request,
        principal=str(scope.account_id),
        operation="reportHazard",
        payload=body.model_dump(mode="json"),
        handler=handler,
        at_once=at_once if service.writes_at_once(new) else None,
    )


@router.get(
    "/hazards/nearby",
    operation_id="listNearbyHazards",
    summary="While reporting: open hazards of the category within its duplicate radius and "
    "window (ids, status, coarse distance, one photo id; nothing about reporters)",
    response_model=NearbyOut,
    responses={401: {"description": "Not signed in"}, 422: {"description": "Invalid input"}},
)
async def nearby_hazards(
    request: Request,
    scope: Annotated[Scope, Depends(current_scope)],
    category: TopCategory,
    lon: Annotated[float, Query(ge=-180, le=180)],
    lat: Annotated[float, Query(ge=-90, le=90)],
    crs: Annotated[Crs, Query(description="Coordinate system of lon/lat")] = Crs.WGS84,
    subcategory_id: uuid.UUID | None = None,
) -> Any:
    found = await _service(request).nearby(scope, category, to_wgs84(lon, lat, crs), subcategory_id)
    return NearbyOut(items=[NearbyHazardOut.of(n) for n in found])


@router.get(
    "/hazards/stats",
    operation_id="hazardStats",
    summary="Staff: rectification rate (rectified and closed ÷ verified real in the period), "
    "median hours to rectify and overdue counts per unit of the level, in your jurisdiction",
    response_model=StatsOut,
    responses={**COMMON_ERRORS, 403: {"description": "Not staff"}},
)
async def hazard_stats(
    request: Request,
    scope: Annotated[Scope, Depends(current_scope)],
    level: StatsLevel = StatsLevel.STATION,
    from_: Annotated[date | None, Query(alias="from", description="Beijing date")] = None,
    to: Annotated[date | None, Query(description="Beijing date, inclusive")] = None,
) -> Any:
    rows = await _service(request).stats(scope, level, from_, to)
    return StatsOut(level=level, items=[StatsRowOut.of(r) for r in rows])


@router.get(
    "/me/hazards",
    operation_id="listMyHazards",
    summary="Hazards you reported (or follow after a merge), newest first",
    response_model=Page[HazardOut],
    responses=COMMON_ERRORS,
)
async def list_my_hazards(
    request: Request,
    scope: Annotated[Scope, Depends(current_scope)],
    crs: OutputCrs = Crs.WGS84,
    limit: PageLimit = 50,
    cursor: PageCursor = None,
) -> Any:
    views, more = await _service(request).mine(scope, limit=limit, after=after_id(cursor))
    return Page[HazardOut].keyset([HazardOut.of(v, crs) for v in views], more=more)


@router.get(
    "/hazards",
    operation_id="listHazards",
    summary="The work queue: staff see their jurisdiction, departments the hazards assigned "
    "to them, volunteers those awaiting re-inspection in their stations",
    response_model=Page[HazardOut],
    responses=COMMON_ERRORS,
)
async def list_hazards(
    request: Request,
    scope: Annotated[Scope, Depends(current_scope)],
    status: HazardStatus | None = None,
    category: TopCategory | None = None,
    overdue: Annotated[bool, Query(description="Only hazards past their deadline")] = False,
    crs: OutputCrs = Crs.WGS84,
    limit: PageLimit = 50,
    cursor: PageCursor = None,
) -> Any:
    service = _service(request)
    where = service.queue_filter(status, category, overdue=overdue)
    views, more = await service.queue(scope, where, limit=limit, after=after_id(cursor))
    return Page[HazardOut].keyset([HazardOut.of(v, crs) for v in views], more=more)


@router.get(
    "/hazards/{hazard_id}",
    operation_id="getHazard",
    summary="A hazard as you may see it",
    response_model=HazardOut,
    responses=COMMON_ERRORS,
)
async def get_hazard(
    request: Request,
    hazard_id: str,
    scope: Annotated[Scope, Depends(current_scope)],
    crs: OutputCrs = Crs.WGS84,
) -> Any:
    return _one(await _service(request).get(scope, _hid(hazard_id)), crs)


@router.post(
    "/hazards/{hazard_id}/verify",
    operation_id="verifyHazard",
    summary="Staff: real, not a hazard (closes it) or a duplicate (with duplicate_of: merges)",
    response_model=HazardOut,
    responses=WRITE_ERRORS,
)
async def verify_hazard(
    request: Request,
    hazard_id: str,
    body: VerifyIn,
    scope: Annotated[Scope, Depends(current_scope)],
    crs: OutputCrs = Crs.WGS84,
) -> Any:
    hid = _hid(hazard_id)
    view = await _service(request).verify(
        scope,
        hid,
        body.outcome,
        duplicate_of=body.duplicate_of,
        expected_version=if_match(request, hid, required=False),
    )
    return _one(view, crs)


@router.post(
    "/hazards/{hazard_id}/merge",
    operation_id="mergeHazard",
    summary="Staff: close this hazard as a duplicate of `into` (linked both ways; its "
    "reporters follow the survivor); answers the survivor",
    response_model=HazardOut,
    responses=WRITE_ERRORS,
)
async def merge_hazard(
    request: Request,
    hazard_id: str,
    body: MergeIn,
    scope: Annotated[Scope, Depends(current_scope)],
    crs: OutputCrs = Crs.WGS84,
) -> Any:
    hid = _hid(hazard_id)
    view = await _service(request).merge(
        scope, hid, body.into, expected_version=if_match(request, hid, required=False)
    )
    return _one(view, crs)


@router.post(
    "/hazards/{hazard_id}/assign",
    operation_id="assignHazard",
    summary="Staff: assign a verified hazard to a department or responsible party with a "
    "deadline (整改期限)",
    response_model=HazardOut,
    responses=WRITE_ERRORS,
)
async def assign_hazard(
    request: Request,
    hazard_id: str,
    body: AssignIn,
    scope: Annotated[Scope, Depends(current_scope)],
    crs: OutputCrs = Crs.WGS84,
) -> Any:
    hid = _hid(hazard_id)
    view = await _service(request).assign(
        scope,
        hid,
        department_id=body.department_id,
        deadline=body.deadline,
        assignee_account_id=body.assignee_account_id,
        expected_version=if_match(request, hid, required=False),
    )
    return _one(view, crs)


@router.post(
    "/hazards/{hazard_id}/start",
    operation_id="startHazardRectification",
    summary="The responsible party: start rectifying",
    response_model=HazardOut,
    responses=WRITE_ERRORS,
)
async def start_rectification(
    request: Request,
    hazard_id: str,
    scope: Annotated[Scope, Depends(current_scope)],
    crs: OutputCrs = Crs.WGS84,
) -> Any:
    hid = _hid(hazard_id)
    view = await _service(request).start(
        scope, hid, expected_version=if_match(request, hid, required=False)
    )
    return _one(view, crs)


@router.post(
    "/hazards/{hazard_id}/rectify",
    operation_id="rectifyHazard",
    summary="The responsible party: report it fixed with after-photos and a note",
    response_model=HazardOut,
    responses=WRITE_ERRORS,
)
async def rectify_hazard(
    request: Request,
    hazard_id: str,
    body: RectifyIn,
    scope: Annotated[Scope, Depends(current_scope)],
    crs: OutputCrs = Crs.WGS84,
) -> Any:
    hid = _hid(hazard_id)
    view = await _service(request).rectify(
        scope,
        hid,
        tuple(body.after_media_ids),
        body.note,
        expected_version=if_match(request, hid, required=False),
    )
    return _one(view, crs)


@router.post(
    "/hazards/{hazard_id}/reinspect",
    operation_id="reinspectHazard",
    summary="An officer or a volunteer of the station (not the rectifying party): pass "
    "closes it, fail returns it to rectifying",
    response_model=HazardOut,
    responses=WRITE_ERRORS,
)
async def reinspect_hazard(
    request: Request,
    hazard_id: str,
    body: ReinspectIn,
    scope: Annotated[Scope, Depends(current_scope)],
    crs: OutputCrs = Crs.WGS84,
) -> Any:
    hid = _hid(hazard_id)
    view = await _service(request).reinspect(
        scope,
        hid,
        body.passed,
        body.note,
        new_deadline=body.new_deadline,
        expected_version=if_match(request, hid, required=False),
    )
    return _one(view, crs)


@router.post(
    "/hazards/{hazard_id}/reopen",
    operation_id="reopenHazard",
    summary="A reporter: reopen a closed hazard with a photo and a reason",
    response_model=HazardOut,
    responses=WRITE_ERRORS,
)
async def reopen_hazard(
    request: Request,
    hazard_id: str,
    body: ReopenIn,
    scope: Annotated[Scope, Depends(current_scope)],
    crs: OutputCrs = Crs.WGS84,
) -> Any:
    hid = _hid(hazard_id)
    view = await _service(request).reopen(
        scope,
        hid,
        body.reason,
        tuple(body.media_ids),
        expected_version=if_match(request, hid, required=False),
    )
    return _one(view, crs)


# --- departments and sub-categories ----------------------------------------------------


@router.post(
    "/hazard-departments",
    operation_id="createHazardDepartment",
    summary="District admin: a department or responsible party (消防、住建、物业公司…)",
    status_code=201,
    response_model=DepartmentOut,
    responses=ADMIN_ERRORS,
)
async def create_department(
    request: Request, body: DepartmentIn, scope: Annotated[Scope, Depends(current_scope)]
) -> Any:
    dep = await _setup(request).create_department(scope, body.district_id, body.name, body.kind)
    return DepartmentOut.of(dep)


@router.get(
    "/hazard-departments",
    operation_id="listHazardDepartments",
    summary="Departments of the districts you work in (department accounts: their own)",
    response_model=list[DepartmentOut],
    responses={401: {"description": "Not signed in"}},
)
async def list_departments(
    request: Request, scope: Annotated[Scope, Depends(current_scope)]
) -> Any:
    return [DepartmentOut.of(d) for d in await _setup(request).departments(scope)]


@router.post(
    "/hazard-departments/{department_id}/members",
    operation_id="addHazardDepartmentMember",
    summary="District admin: make an account a member (it gets the department role)",
    response_model=MemberOut,
    responses=ADMIN_ERRORS,
)
async def add_member(
    request: Request,
    department_id: str,
    body: MemberIn,
    scope: Annotated[Scope, Depends(current_scope)],
) -> Any:
    did = parse_path_id(department_id, DepartmentNotFound)
    added = await _setup(request).add_member(scope, did, body.account_id)
    return MemberOut(department_id=did, account_id=body.account_id, added=added)


@router.post(
    "/hazard-categories",
    operation_id="createHazardCategory",
    summary="District admin: a sub-category with its department, rectification days and "
    "duplicate rule",
    status_code=201,
    response_model=CategoryOut,
    responses=ADMIN_ERRORS,
)
async def create_category(
    request: Request, body: CategoryIn, scope: Annotated[Scope, Depends(current_scope)]
) -> Any:
    cat = await _setup(request).create_category(
        scope,
        NewCategory(
            district_id=body.district_id,
            top=body.category,
            code=body.code,
            name_zh=body.name_zh,
            name_en=body.name_en,
            department_id=body.department_id,
            rectification_days=body.rectification_days,
            duplicate_radius_m=body.duplicate_radius_m,
            duplicate_window_days=body.duplicate_window_days,
        ),
    )
    return CategoryOut.of(cat)


@router.get(
    "/hazard-categories",
    operation_id="listHazardCategories",
    summary="Sub-categories to choose from when reporting (of one district, or all)",
    response_model=list[CategoryOut],
    responses={401: {"description": "Not signed in"}},
)
async def list_categories(
    request: Request,
    scope: Annotated[Scope, Depends(current_scope)],
    district_id: uuid.UUID | None = None,
) -> Any:
    return [CategoryOut.of(c) for c in await _setup(request).categories(scope, district_id)]
