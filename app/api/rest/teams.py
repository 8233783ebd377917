"""/api/v1/teams: volunteer teams (阳湖N警, 彭城义警...), their members and leader."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

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
    parse_path_id,
    required_version,
)
from app.api.rest.common import expected_version as if_match
from app.api.rest.idempotency import run_idempotent
from app.api.rest.volunteer_schemas import (
    COMMON_ERRORS,
    EDIT_ERRORS,
    WRITE_ERRORS,
    TeamDetailOut,
    TeamOut,
)
from app.domain.shared.scope import Scope
from app.domain.volunteers.errors import TeamNotFound, VolunteerNotFound
from app.domain.volunteers.glossary import TeamType
from app.domain.volunteers.ports import TeamFilter
from app.domain.volunteers.team_service import TeamInput, TeamService
from app.domain.volunteers.teams import MAX_BRAND, MAX_TEAM_NAME
from app.domain.volunteers.views import TeamDetail

router = APIRouter(prefix=API_V1, tags=["teams"])


class TeamIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    brand: str = Field(max_length=MAX_BRAND, examples=["阳湖N警"])
    name: str = Field(max_length=MAX_TEAM_NAME, examples=["湖塘平安义巡队"])
    type: TeamType
    station_id: uuid.UUID | None = Field(default=None, description="Default: your station")


class TeamPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    brand: str | None = Field(default=None, max_length=MAX_BRAND)
    name: str | None = Field(default=None, max_length=MAX_TEAM_NAME)
    type: TeamType | None = None


class MemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    volunteer_id: uuid.UUID


def _service(request: Request) -> TeamService:
    return services_of(request).get(TeamService)


def _tid(raw: str) -> uuid.UUID:
    return parse_path_id(raw, TeamNotFound)


def _detail(d: TeamDetail, status: int = 200) -> JSONResponse:
    location = f"/api/v1/teams/{d.team.id}" if status == 201 else ""
    return etag_response(
        TeamDetailOut.of_detail(d), d.team.id, d.team.version, status=status, location=location
    )


@router.post(
    "/teams",
    operation_id="createTeam",
    summary="Create a team of a station (staff)",
    status_code=201,
    response_model=TeamDetailOut,
    responses=WRITE_ERRORS,
)
async def create_team(
    request: Request, body: TeamIn, scope: Annotated[Scope, Depends(current_scope)]
) -> Any:
    async def handler() -> JSONResponse:
        team = await _service(request).create(
            scope, TeamInput(body.brand, body.name, body.type, body.station_id)
        )
        return _detail(TeamDetail(team, ()), 201)

    return await run_idempotent(
        request,
        principal=str(scope.account_id),
        operation="createTeam",
        payload=body.model_dump(mode="json"),
        handler=handler,
    )


@router.get(
    "/teams",
    operation_id="listTeams",
    summary="Teams in your scope (or that you belong to), newest first",
    response_model=Page[TeamOut],
    responses=COMMON_ERRORS,
)
async def list_teams(
    request: Request,
    scope: Annotated[Scope, Depends(current_scope)],
    station_id: uuid.UUID | None = None,
    type: TeamType | None = None,
    brand: str | None = None,
    limit: PageLimit = 50,
    cursor: PageCursor = None,
) -> Any:
    page = await _service(request).search(
        scope,
        TeamFilter(station_id=station_id, type=type, brand=brand),
        limit=limit,
        after=after_id(cursor),
    )
    return Page[TeamOut].keyset(
        [TeamOut.of(t) for t in page.items], more=page.next_after is not None
    )


@router.get(
    "/teams/{team_id}",
    operation_id="getTeam",
    summary="A team with its current members",
    response_model=TeamDetailOut,
    responses=COMMON_ERRORS,
)
async def get_team(
    request: Request, team_id: str, scope: Annotated[Scope, Depends(current_scope)]
) -> Any:
    return _detail(await _service(request).get(scope, _tid(team_id)))


@router.patch(
    "/teams/{team_id}",
    operation_id="updateTeam",
    summary="Rename or retype a team (If-Match required)",
    response_model=TeamOut,
    responses=EDIT_ERRORS,
)
async def update_team(
    request: Request,
    team_id: str,
    body: TeamPatch,
    scope: Annotated[Scope, Depends(current_scope)],
) -> Any:
    tid = _tid(team_id)
    team = await _service(request).update(
        scope,
        tid,
        expected_version=required_version(request, tid),
        brand=body.brand,
        name=body.name,
        type=body.type,
    )
    return etag_response(TeamOut.of(team), team.id, team.version)


@router.post(
    "/teams/{team_id}/members",
    operation_id="addTeamMember",
    summary="Add a serving volunteer of the team's station",
    status_code=201,
    response_model=TeamDetailOut,
    responses=WRITE_ERRORS,
)
async def add_team_member(
    request: Request,
    team_id: str,
    body: MemberIn,
    scope: Annotated[Scope, Depends(current_scope)],
) -> Any:
    detail = await _service(request).add_member(scope, _tid(team_id), body.volunteer_id)
    return _detail(detail, 201)


@router.delete(
    "/teams/{team_id}/members/{volunteer_id}",
    operation_id="removeTeamMember",
    summary="Record that a member left the team (history is kept)",
    response_model=TeamDetailOut,
    responses=WRITE_ERRORS,
)
async def remove_team_member(
    request: Request,
    team_id: str,
    volunteer_id: str,
    scope: Annotated[Scope, Depends(current_scope)],
) -> Any:
    vid = parse_path_id(volunteer_id, VolunteerNotFound)
    return _detail(await _service(request).remove_member(scope, _tid(team_id), vid))


@router.put(
    "/teams/{team_id}/leader",
    operation_id="setTeamLeader",
    summary="Make a current member the team leader (队长); If-Match optional",
    response_model=TeamDetailOut,
    responses=EDIT_ERRORS,
)
async def set_team_leader(
    request: Request,
    team_id: str,
    body: MemberIn,
    scope: Annotated[Scope, Depends(current_scope)],
) -> Any:
    tid = _tid(team_id)
    detail = await _service(request).set_leader(
        scope,
        tid,
        body.volunteer_id,
        expected_version=if_match(request, tid, required=False),
    )
    return _detail(detail)
