"""/api/v1/volunteer-applications and /api/v1/volunteers: recruitment, the archive,
vetting and the lifecycle (统一招募、统一档案、统一管理)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from app.api.container import services_of
from app.api.context import current_scope
from app.api.pagination import after_id, due_after, due_cursor
from app.api.rest import API_V1
from app.api.rest.common import (
    Page,
    PageCursor,
    PageLimit,
    etag_response,
    parse_path_id,
    required_version,
)
from app.api.rest.common import expected_version as if_match
from app.api.rest.idempotency import run_idempotent
from app.api.rest.volunteer_schemas import (
    COMMON_ERRORS,
    EDIT_ERRORS,
    WRITE_ERRORS,
    ApplicationIn,
    BackgroundCheckIn,
    BackgroundCheckOut,
    CheckRecordedOut,
    PersonIn,
    ProfilePatch,
    RegistrationIn,
    StatusChangeIn,
    StatusChangeOut,
    VolunteerOut,
    labels,
)
from app.api.volunteer_forms import person_form, profile_changes, station_or_default
from app.domain.shared.clock import local_date
from app.domain.shared.errors import FieldError, InvalidInput
from app.domain.shared.scope import Scope
from app.domain.volunteers.errors import VolunteerNotFound
from app.domain.volunteers.glossary import SourceCategory
from app.domain.volunteers.lifecycle import VolunteerStatus
from app.domain.volunteers.ports import VolunteerFilter
from app.domain.volunteers.recruitment import PersonForm
from app.domain.volunteers.services import CheckInput, VolunteerService
from app.domain.volunteers.views import VolunteerView

router = APIRouter(prefix=API_V1, tags=["volunteers"])


def _service(request: Request) -> VolunteerService:
    return services_of(request).get(VolunteerService)


def _vid(raw: str) -> uuid.UUID:
    return parse_path_id(raw, VolunteerNotFound)


def _location(volunteer_id: uuid.UUID) -> str:
    return f"/api/v1/volunteers/{volunteer_id}"


def _one(v: VolunteerView, status: int = 200) -> JSONResponse:
    return etag_response(
        VolunteerOut.of(v),
        v.id,
        v.version,
        status=status,
        location=_location(v.id) if status == 201 else "",
    )


def _station_required() -> InvalidInput:
    message = "Choose the police station to join."
    return InvalidInput(
        message,
        "请选择要加入的派出所。",
        code="volunteer.station_required",
        fields=[FieldError("station_id", "required", message)],
    )


def _form(body: PersonIn, scope: Scope) -> PersonForm:
    station_id = station_or_default(scope, body.station_id, _station_required)
    return person_form(body, station_id, body.community_id)


@router.get(
    "/volunteer-glossary",
    operation_id="getVolunteerGlossary",
    summary="Codes and Chinese labels of source categories, roles and team types",
)
async def get_glossary() -> dict[str, dict[str, str]]:
    return labels()


@router.post(
    "/volunteer-applications",
    operation_id="applyAsVolunteer",
    summary="Apply to become a volunteer of a station (signed-in resident)",
    status_code=201,
    response_model=VolunteerOut,
    responses={**WRITE_ERRORS, 409: {"description": "Already applied or registered"}},
)
async def apply_as_volunteer(
    request: Request, body: ApplicationIn, scope: Annotated[Scope, Depends(current_scope)]
) -> Any:
    async def handler() -> JSONResponse:
        view = await _service(request).apply(scope, _form(body, scope), body.consent.to_domain())
        return _one(view, 201)

    return await run_idempotent(
        request,
        principal=str(scope.account_id),
        operation="applyAsVolunteer",
        payload=body.model_dump(mode="json"),
        handler=handler,
    )


@router.post(
    "/volunteers",
    operation_id="registerVolunteer",
    summary="Register a person as a volunteer applicant of your station (staff)",
    status_code=201,
    response_model=VolunteerOut,
    responses=WRITE_ERRORS,
)
async def register_volunteer(
    request: Request, body: RegistrationIn, scope: Annotated[Scope, Depends(current_scope)]
) -> Any:
    async def handler() -> JSONResponse:
        consent = body.consent.to_domain() if body.consent else None
        view = await _service(request).register(scope, _form(body, scope), consent)
        return _one(view, 201)

    return await run_idempotent(
        request,
        principal=str(scope.account_id),
        operation="registerVolunteer",
        payload=body.model_dump(mode="json"),
        handler=handler,
    )


@router.get(
    "/volunteers",
    operation_id="listVolunteers",
    summary="Volunteers in your scope, newest first (names full for your station's staff)",
    response_model=Page[VolunteerOut],
    responses=COMMON_ERRORS,
)
async def list_volunteers(
    request: Request,
    scope: Annotated[Scope, Depends(current_scope)],
    status: VolunteerStatus | None = None,
    team_id: uuid.UUID | None = None,
    station_id: uuid.UUID | None = None,
    source_category: SourceCategory | None = None,
    q: Annotated[str | None, Query(max_length=50, description="Name prefix")] = None,
    phone: Annotated[str | None, Query(max_length=20, description="Exact phone")] = None,
    resident_id: Annotated[
        str | None, Query(max_length=24, description="Exact resident ID number")
    ] = None,
    limit: PageLimit = 50,
    cursor: PageCursor = None,
) -> Any:
    service = _service(request)
    flt = VolunteerFilter.typed(
        today=local_date(service.clock.now()),
        q=q,
        phone=phone,
        resident_id=resident_id,
        status=status,
        team_id=team_id,
        station_id=station_id,
        source_category=source_category,
    )
    page = await service.search(scope, flt, limit=limit, after=after_id(cursor))
    return Page[VolunteerOut].keyset(
        [VolunteerOut.of(v) for v in page.items], more=page.next_after is not None
    )


@router.get(
    "/volunteers/rechecks-due",
    operation_id="listRechecksDue",
    summary="Volunteers whose periodic background re-check is due by a date (staff)",
    response_model=Page[VolunteerOut],
    responses={**COMMON_ERRORS, 403: {"description": "Staff only"}},
)
async def list_rechecks_due(
    request: Request,
    scope: Annotated[Scope, Depends(current_scope)],
    before: Annotated[date, Query(description="Due on or before this date")],
    limit: PageLimit = 50,
    cursor: PageCursor = None,
) -> Any:
    page = await _service(request).rechecks_due(scope, before, limit=limit, after=due_after(cursor))
    return Page[VolunteerOut].keyset(
        [VolunteerOut.of(v) for v in page.items],
        more=page.next_after is not None,
        cursor=lambda v: due_cursor(v.next_recheck_on, v.id),
    )


@router.get(
    "/volunteers/{volunteer_id}",
    operation_id="getVolunteer",
    summary="One volunteer (full personal data for your station's staff, audited)",
    response_model=VolunteerOut,
    responses=COMMON_ERRORS,
)
async def get_volunteer(
    request: Request, volunteer_id: str, scope: Annotated[Scope, Depends(current_scope)]
) -> Any:
    return _one(await _service(request).get(scope, _vid(volunteer_id)))


@router.patch(
    "/volunteers/{volunteer_id}",
    operation_id="updateVolunteer",
    summary="Edit profile fields (If-Match required)",
    response_model=VolunteerOut,
    responses=EDIT_ERRORS,
)
async def update_volunteer(
    request: Request,
    volunteer_id: str,
    body: ProfilePatch,
    scope: Annotated[Scope, Depends(current_scope)],
) -> Any:
    vid = _vid(volunteer_id)
    version = required_version(request, vid)
    changes = profile_changes(body, body.community_id)
    view = await _service(request).update_profile(scope, vid, changes, expected_version=version)
    return _one(view)


@router.post(
    "/volunteers/{volunteer_id}/status",
    operation_id="changeVolunteerStatus",
    summary="Move a volunteer through the lifecycle (If-Match optional)",
    response_model=VolunteerOut,
    responses=EDIT_ERRORS,
)
async def change_volunteer_status(
    request: Request,
    volunteer_id: str,
    body: StatusChangeIn,
    scope: Annotated[Scope, Depends(current_scope)],
) -> Any:
    vid = _vid(volunteer_id)
    view = await _service(request).change_status(
        scope,
        vid,
        body.to,
        reason=body.reason,
        expected_version=if_match(request, vid, required=False),
    )
    return _one(view)


@router.get(
    "/volunteers/{volunteer_id}/history",
    operation_id="listVolunteerStatusHistory",
    summary="Every status change of a volunteer, oldest first",
    response_model=list[StatusChangeOut],
    responses=COMMON_ERRORS,
)
async def list_status_history(
    request: Request, volunteer_id: str, scope: Annotated[Scope, Depends(current_scope)]
) -> Any:
    history = await _service(request).history(scope, _vid(volunteer_id))
    return [StatusChangeOut.of(c) for c in history]


@router.post(
    "/volunteers/{volunteer_id}/background-checks",
    operation_id="recordBackgroundCheck",
    summary="Record a background check or periodic re-check (背景审查) and its outcome",
    status_code=201,
    response_model=CheckRecordedOut,
    responses=WRITE_ERRORS,
)
async def record_background_check(
    request: Request,
    volunteer_id: str,
    body: BackgroundCheckIn,
    scope: Annotated[Scope, Depends(current_scope)],
) -> Any:
    vid = _vid(volunteer_id)

    async def handler() -> JSONResponse:
        view, check = await _service(request).record_background_check(
            scope,
            vid,
            CheckInput(
                result=body.result,
                checked_on=body.checked_on,
                note=body.note,
                next_recheck_on=body.next_recheck_on,
            ),
        )
        out = CheckRecordedOut(check=BackgroundCheckOut.of(check), volunteer=VolunteerOut.of(view))
        return etag_response(out, view.id, view.version, status=201, location=_location(view.id))

    return await run_idempotent(
        request,
        principal=str(scope.account_id),
        operation="recordBackgroundCheck",
        payload={"volunteer_id": str(vid), **body.model_dump(mode="json")},
        handler=handler,
    )


@router.get(
    "/volunteers/{volunteer_id}/background-checks",
    operation_id="listBackgroundChecks",
    summary="Background checks of a volunteer, newest first (staff)",
    response_model=list[BackgroundCheckOut],
    responses={**COMMON_ERRORS, 403: {"description": "Staff only"}},
)
async def list_background_checks(
    request: Request, volunteer_id: str, scope: Annotated[Scope, Depends(current_scope)]
) -> Any:
    checks = await _service(request).checks(scope, _vid(volunteer_id))
    return [BackgroundCheckOut.of(c) for c in checks]
