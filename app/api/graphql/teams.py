"""GraphQL door of teams: list, create, edit, roster and leader (same services as REST)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Annotated
from uuid import UUID

import strawberry
from strawberry import relay

from app.api.graphql.context import Info
from app.api.graphql.errors import MutationProblem, problem_of
from app.api.graphql.relay import first_of, keyset_connection, node_uuid, optional_node_uuid
from app.api.graphql.volunteer_types import TeamNode
from app.api.pagination import after_id
from app.domain.shared.errors import DomainError
from app.domain.shared.scope import Scope
from app.domain.volunteers.errors import TeamNotFound, VolunteerNotFound
from app.domain.volunteers.glossary import TeamType
from app.domain.volunteers.ports import TeamFilter
from app.domain.volunteers.team_service import TeamInput, TeamService
from app.domain.volunteers.views import TeamDetail


@strawberry.type
class TeamsQuery:
    @strawberry.field(description="Teams in your scope (or that you belong to), newest first.")
    async def teams(
        self,
        info: Info,
        station_id: relay.GlobalID | None = None,
        type: TeamType | None = None,
        brand: str | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> relay.Connection[TeamNode]:
        scope = await info.context.scope()
        flt = TeamFilter(
            station_id=optional_node_uuid(station_id, "OrgUnit", TeamNotFound),
            type=type,
            brand=brand,
        )
        page = await info.context.services.get(TeamService).search(
            scope, flt, limit=first_of(first), after=after_id(after)
        )
        return keyset_connection(page.items, TeamNode.of, more=page.next_after is not None)


@strawberry.input
class CreateTeamInput:
    brand: str
    name: str
    type: TeamType
    station_id: relay.GlobalID | None = None


@strawberry.input
class UpdateTeamInput:
    brand: str | None = None
    name: str | None = None
    type: TeamType | None = None


@strawberry.type
class TeamPayload:
    team: TeamNode


TeamResult = Annotated[TeamPayload | MutationProblem, strawberry.union("TeamResult")]


async def _change_roster(
    info: Info,
    team_id: relay.GlobalID,
    volunteer_id: relay.GlobalID,
    change: Callable[[Scope, UUID, UUID], Awaitable[TeamDetail]],
) -> TeamResult:
    """A change of a team's roster: the team as it is afterwards, or a typed problem."""
    scope = await info.context.scope()
    try:
        detail = await change(
            scope,
            node_uuid(team_id, "Team", TeamNotFound),
            node_uuid(volunteer_id, "Volunteer", VolunteerNotFound),
        )
    except DomainError as e:
        return problem_of(e, info.context.lang)
    return TeamPayload(team=TeamNode.of(detail.team))


@strawberry.type
class TeamsMutation:
    @strawberry.mutation(description="Create a team of a station.")
    async def create_team(self, info: Info, input: CreateTeamInput) -> TeamResult:
        scope = await info.context.scope()
        try:
            station = optional_node_uuid(input.station_id, "OrgUnit", TeamNotFound)
            team = await info.context.services.get(TeamService).create(
                scope, TeamInput(input.brand, input.name, input.type, station)
            )
        except DomainError as e:
            return problem_of(e, info.context.lang)
        return TeamPayload(team=TeamNode.of(team))

    @strawberry.mutation(description="Rename or retype a team (optimistic: expectedVersion).")
    async def update_team(
        self, info: Info, id: relay.GlobalID, input: UpdateTeamInput, expected_version: int
    ) -> TeamResult:
        scope = await info.context.scope()
        try:
            team = await info.context.services.get(TeamService).update(
                scope,
                node_uuid(id, "Team", TeamNotFound),
                expected_version=expected_version,
                brand=input.brand,
                name=input.name,
                type=input.type,
            )
        except DomainError as e:
            return problem_of(e, info.context.lang)
        return TeamPayload(team=TeamNode.of(team))

    @strawberry.mutation(description="Add a serving volunteer of the team's station.")
    async def add_team_member(
        self, info: Info, team_id: relay.GlobalID, volunteer_id: relay.GlobalID
    ) -> TeamResult:
        service = info.context.services.get(TeamService)
        return await _change_roster(info, team_id, volunteer_id, service.add_member)

    @strawberry.mutation(description="Record that a member left the team.")
    async def remove_team_member(
        self, info: Info, team_id: relay.GlobalID, volunteer_id: relay.GlobalID
    ) -> TeamResult:
        service = info.context.services.get(TeamService)
        return await _change_roster(info, team_id, volunteer_id, service.remove_member)

    @strawberry.mutation(description="Make a current member the team leader (队长).")
    async def set_team_leader(
        self,
        info: Info,
        team_id: relay.GlobalID,
        volunteer_id: relay.GlobalID,
        expected_version: int | None = None,
    ) -> TeamResult:
        service = info.context.services.get(TeamService)
        set_leader = partial(service.set_leader, expected_version=expected_version)
        return await _change_roster(info, team_id, volunteer_id, set_leader)
