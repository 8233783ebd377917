"""/api/v1/officers: police staff accounts, managed by station and district admins."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Self

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from app.api.container import services_of
from app.api.context import current_scope
from app.api.pagination import after_id
from app.api.rest import API_V1
from app.api.rest.common import (
    Page,
    PageCursor,
    PageLimit,
    etag_response,
    expected_version,
    parse_path_id,
)
from app.api.rest.idempotency import run_idempotent
from app.domain.identity.errors import OfficerNotFound
from app.domain.identity.model import AccountStatus, OfficerView, RoleView
from app.domain.identity.officers import NewOfficer, OfficerService
from app.domain.shared.scope import Scope

router = APIRouter(prefix=f"{API_V1}/officers", tags=["officers"])

_PROBLEM: dict[str, Any] = {"application/problem+json": {}}
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not signed in", "content": _PROBLEM},
    403: {"description": "Not an admin allowed to do this", "content": _PROBLEM},
    404: {"description": "No such officer (or unit) in your scope", "content": _PROBLEM},
    422: {"description": "Invalid input", "content": _PROBLEM},
}


class NewOfficerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=3, max_length=64, examples=["wang.jun"])
    password: str = Field(min_length=1, max_length=1024, description="12+ characters")
    unit_code: str = Field(min_length=1, max_length=64, description="Unit the role is bound to")
    role: str = Field(
        examples=["officer"], description="officer | station_admin | district_admin | auditor"
    )
    display_name: str | None = Field(default=None, max_length=64, examples=["王军"])


class RoleOut(BaseModel):
    role: str
    unit_id: uuid.UUID | None
    unit_code: str | None
    unit_name: str | None
    unit_level: str | None

    @classmethod
    def of(cls, role: RoleView) -> Self:
        return cls(
            role=role.role.value,
            unit_id=role.unit_id,
            unit_code=role.unit_code,
            unit_name=role.unit_name,
            unit_level=role.unit_level.value if role.unit_level else None,
        )


class OfficerOut(BaseModel):
    id: uuid.UUID
    username: str
    display_name: str | None
    status: AccountStatus
    roles: list[RoleOut]
    created_at: datetime
    version: int

    @classmethod
    def of(cls, officer: OfficerView) -> OfficerOut:
        return cls(
            id=officer.id,
            username=officer.username,
            display_name=officer.display_name,
            status=officer.status,
            roles=[RoleOut.of(r) for r in officer.roles],
            created_at=officer.created_at,
            version=officer.version,
        )


def _service(request: Request) -> OfficerService:
    return services_of(request).get(OfficerService)


def _officer_id(raw: str) -> uuid.UUID:
    return parse_path_id(raw, OfficerNotFound)


def _one(officer: OfficerView, status: int = 200, location: str = "") -> JSONResponse:
    return etag_response(
        OfficerOut.of(officer), officer.id, officer.version, status=status, location=location
    )


@router.post(
    "",
    operation_id="createOfficer",
    summary="Create an officer account bound to a unit",
    status_code=201,
    response_model=OfficerOut,
    responses={**ERRORS, 409: {"description": "Username taken", "content": _PROBLEM}},
)
async def create_officer(
    body: NewOfficerIn, request: Request, scope: Scope = Depends(current_scope)
) -> Any:
    async def handler() -> JSONResponse:
        officer = await _service(request).create_officer(
            scope,
            NewOfficer(
                username=body.username,
                password=body.password,
                unit_code=body.unit_code,
                role=body.role,
                display_name=body.display_name,
            ),
        )
        return _one(officer, 201, location=f"/api/v1/officers/{officer.id}")

    # The password stays out of the request fingerprint: it is stored in the idempotency
    # table, and a fast hash of a password is crackable.
    return await run_idempotent(
        request,
        principal=str(scope.account_id),
        operation="createOfficer",
        payload=body.model_dump(exclude={"password"}),
        handler=handler,
    )


@router.get(
    "",
    operation_id="listOfficers",
    summary="Officers in your jurisdiction, newest first",
    response_model=Page[OfficerOut],
    responses=ERRORS,
)
async def list_officers(
    request: Request,
    limit: PageLimit = 50,
    cursor: PageCursor = None,
    scope: Scope = Depends(current_scope),
) -> Page[OfficerOut]:
    page = await _service(request).list_officers(scope, limit=limit, before=after_id(cursor))
    return Page[OfficerOut].keyset(
        [OfficerOut.of(o) for o in page.items], more=page.next_before is not None
    )


@router.get(
    "/{officer_id}",
    operation_id="getOfficer",
    summary="One officer",
    response_model=OfficerOut,
    responses=ERRORS,
)
async def get_officer(
    officer_id: str, request: Request, scope: Scope = Depends(current_scope)
) -> JSONResponse:
    return _one(await _service(request).get_officer(scope, _officer_id(officer_id)))


@router.post(
    "/{officer_id}/disable",
    operation_id="disableOfficer",
    summary="Disable an officer account and end all its sessions",
    description="If-Match is optional here; when sent it must match the current ETag.",
    response_model=OfficerOut,
    responses={
        **ERRORS,
        409: {"description": "Already disabled", "content": _PROBLEM},
        412: {"description": "ETag does not match", "content": _PROBLEM},
    },
)
async def disable_officer(
    officer_id: str, request: Request, scope: Scope = Depends(current_scope)
) -> JSONResponse:
    target = _officer_id(officer_id)
    version = expected_version(request, target, required=False)
    officer = await _service(request).disable_officer(scope, target, expected_version=version)
    return _one(officer)
