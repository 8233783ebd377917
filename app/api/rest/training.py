"""/api/v1/courses and /api/v1/volunteers/{id}/trainings: unified training (统一培训)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from app.api.container import services_of
from app.api.context import current_scope
from app.api.pagination import after_id
from app.api.rest import API_V1
from app.api.rest.common import Page, PageCursor, PageLimit, parse_path_id
from app.api.rest.idempotency import run_idempotent
from app.api.rest.volunteer_schemas import COMMON_ERRORS, WRITE_ERRORS, CourseOut, TrainingOut
from app.domain.shared.scope import Scope
from app.domain.volunteers.errors import CourseNotFound, VolunteerNotFound
from app.domain.volunteers.training import MAX_VALIDITY_MONTHS
from app.domain.volunteers.training_service import CourseInput, TrainingService

router = APIRouter(prefix=API_V1, tags=["training"])


class CourseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(max_length=40, examples=["JWLM-FA-01"])
    title: str = Field(max_length=200, examples=["警物联盟大学堂·急救培训"])
    capability: str | None = Field(
        default=None, max_length=40, description="What it certifies: first_aid, fire..."
    )
    validity_months: int | None = Field(
        default=None, ge=1, le=MAX_VALIDITY_MONTHS, description="Null: never expires"
    )
    station_id: uuid.UUID | None = Field(
        default=None, description="A station course; omit for a district-wide course"
    )
    district_id: uuid.UUID | None = None


class TrainingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    course_id: uuid.UUID
    completed_on: date


def _service(request: Request) -> TrainingService:
    return services_of(request).get(TrainingService)


@router.post(
    "/courses",
    operation_id="createCourse",
    summary="Create a course of a station, or of the district (district admin)",
    status_code=201,
    response_model=CourseOut,
    responses={**WRITE_ERRORS, 409: {"description": "Code already used in the district"}},
)
async def create_course(
    request: Request, body: CourseIn, scope: Annotated[Scope, Depends(current_scope)]
) -> Any:
    async def handler() -> JSONResponse:
        course = await _service(request).create_course(
            scope,
            CourseInput(
                code=body.code,
                title=body.title,
                capability=body.capability,
                validity_months=body.validity_months,
                station_id=body.station_id,
                district_id=body.district_id,
            ),
        )
        return JSONResponse(
            CourseOut.of(course).model_dump(mode="json"),
            status_code=201,
            headers={"Location": f"/api/v1/courses/{course.id}"},
        )

    return await run_idempotent(
        request,
        principal=str(scope.account_id),
        operation="createCourse",
        payload=body.model_dump(mode="json"),
        handler=handler,
    )


@router.get(
    "/courses",
    operation_id="listCourses",
    summary="Courses of your station(s) and district-wide courses of your district",
    response_model=Page[CourseOut],
    responses=COMMON_ERRORS,
)
async def list_courses(
    request: Request,
    scope: Annotated[Scope, Depends(current_scope)],
    limit: PageLimit = 50,
    cursor: PageCursor = None,
) -> Any:
    page = await _service(request).list_courses(scope, limit=limit, after=after_id(cursor))
    return Page[CourseOut].keyset(
        [CourseOut.of(c) for c in page.items], more=page.next_after is not None
    )


@router.get(
    "/courses/{course_id}",
    operation_id="getCourse",
    summary="One course",
    response_model=CourseOut,
    responses=COMMON_ERRORS,
)
async def get_course(
    request: Request, course_id: str, scope: Annotated[Scope, Depends(current_scope)]
) -> Any:
    course = await _service(request).get_course(scope, parse_path_id(course_id, CourseNotFound))
    return CourseOut.of(course)


@router.post(
    "/volunteers/{volunteer_id}/trainings",
    operation_id="recordTraining",
    summary="Record that a volunteer completed a course; the certificate expiry is computed",
    status_code=201,
    response_model=TrainingOut,
    responses=WRITE_ERRORS,
)
async def record_training(
    request: Request,
    volunteer_id: str,
    body: TrainingIn,
    scope: Annotated[Scope, Depends(current_scope)],
) -> Any:
    vid = parse_path_id(volunteer_id, VolunteerNotFound)

    async def handler() -> JSONResponse:
        certificate = await _service(request).record_training(
            scope, vid, body.course_id, body.completed_on
        )
        return JSONResponse(
            TrainingOut.of(certificate).model_dump(mode="json"),
            status_code=201,
            headers={"Location": f"/api/v1/volunteers/{vid}/trainings"},
        )

    return await run_idempotent(
        request,
        principal=str(scope.account_id),
        operation="recordTraining",
        payload={"volunteer_id": str(vid), **body.model_dump(mode="json")},
        handler=handler,
    )


@router.get(
    "/volunteers/{volunteer_id}/trainings",
    operation_id="listTrainings",
    summary="A volunteer's completed courses; with valid_on, only certificates valid that day",
    response_model=list[TrainingOut],
    responses=COMMON_ERRORS,
)
async def list_trainings(
    request: Request,
    volunteer_id: str,
    scope: Annotated[Scope, Depends(current_scope)],
    valid_on: Annotated[date | None, Query(description="Only certificates valid on")] = None,
) -> Any:
    vid = parse_path_id(volunteer_id, VolunteerNotFound)
    service = _service(request)
    if valid_on is None:
        certificates = await service.trainings(scope, vid)
    else:
        certificates = await service.valid_certificates(scope, vid, valid_on)
    return [TrainingOut.of(c) for c in certificates]
