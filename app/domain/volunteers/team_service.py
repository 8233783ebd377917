"""Use cases of teams (队伍): create, edit, roster with join/leave history, leader."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.domain.shared.clock import Clock
from app.domain.shared.errors import FieldError, InvalidInput, NotFound, StaleVersion
from app.domain.shared.events import DomainEvent
from app.domain.shared.ids import new_id
from app.domain.shared.personal_data import mask_name
from app.domain.shared.scope import WRITING_STAFF_ROLES, Scope
from app.domain.volunteers.access import is_self, is_station_staff, require_manage
from app.domain.volunteers.errors import TeamNotFound, VolunteerNotFound
from app.domain.volunteers.glossary import TeamType
from app.domain.volunteers.ports import TeamFilter, VolunteersUnitOfWork
from app.domain.volunteers.services import UowFactory, sync_roles, unknown_station
from app.domain.volunteers.teams import Membership, Team, new_team
from app.domain.volunteers.views import MemberView, Page, TeamDetail


@dataclass(frozen=True, slots=True)
class TeamInput:
    brand: str
    name: str
    type: TeamType
    station_id: uuid.UUID | None = None  # default: the caller's only station


def _event(name: str, team: Team, at: datetime, **payload: Any) -> DomainEvent:
    return DomainEvent(name, "team", team.id, at, {"station_id": team.station_id, **payload})


def _sole_station(scope: Scope) -> uuid.UUID:
    writable = scope.stations_as(*WRITING_STAFF_ROLES)
    if len(writable) == 1:
        return next(iter(writable))
    message = "Choose the station of the team."
    raise InvalidInput(
        message,
        "请选择队伍所属派出所。",
        code="team.station_required",
        fields=[FieldError("station_id", "required", message)],
    )


async def _audit_roster(
    uow: VolunteersUnitOfWork, scope: Scope, members: dict[uuid.UUID, list[MemberView]]
) -> None:
    """Staff reading rosters read lists of people: a privileged read, audited (ids and
    counts only). A volunteer sees only their own entry, which needs no record."""
    count = sum(len(views) for views in members.values())
    if not count or not (scope.is_staff or scope.unrestricted):
        return
    team_ids = sorted(team_id for team_id, views in members.items() if views)
    record_id = team_ids[0] if len(team_ids) == 1 else None
    uow.audit("team.members_listed", "team", record_id, {"team_ids": team_ids, "count": count})
    await uow.commit()


class TeamService:
    def __init__(self, uow_factory: UowFactory, clock: Clock) -> None:
        self.uow_factory = uow_factory
        self.clock = clock

    async def create(self, scope: Scope, data: TeamInput) -> Team:
        now = self.clock.now()
        async with self.uow_factory(scope) as uow:
            station = await uow.stations.station(data.station_id or _sole_station(scope))
            if station is None:
                raise unknown_station()
            require_manage(scope, station.id, station.district_id)
            team = new_team(
                team_id=new_id(),
                station_id=station.id,
                district_id=station.district_id,
                brand=data.brand,
                name=data.name,
                type=data.type,
                at=now,
            )
            await uow.teams.add(team)
            uow.audit("team.created", "team", team.id, {"station_id": team.station_id})
            uow.add_event(_event("team.created", team, now))
            await uow.commit()
        return team

    async def get(self, scope: Scope, team_id: uuid.UUID) -> TeamDetail:
        async with self.uow_factory(scope) as uow:
            team = await uow.teams.get(team_id)
            if team is None:
                raise TeamNotFound()
            members = await self._members(uow, scope, [team])
            await _audit_roster(uow, scope, members)
        return TeamDetail(team, tuple(members.get(team.id, [])))

    async def get_many(self, scope: Scope, ids: Sequence[uuid.UUID]) -> list[Team]:
        async with self.uow_factory(scope) as uow:
            return await uow.teams.get_many(ids)

    async def search(
        self, scope: Scope, flt: TeamFilter, *, limit: int, after: uuid.UUID | None = None
    ) -> Page[Team]:
        async with self.uow_factory(scope) as uow:
            rows = await uow.teams.search(flt, limit=limit + 1, after=after)
        more = len(rows) > limit
        rows = rows[:limit]
        return Page(rows, (rows[-1].id,) if more and rows else None)

    async def update(
        self,
        scope: Scope,
        team_id: uuid.UUID,
        *,
        expected_version: int,
        brand: str | None = None,
        name: str | None = None,
        type: TeamType | None = None,
    ) -> Team:
        now = self.clock.now()
        async with self.uow_factory(scope) as uow:
            team = await self._team_to_change(uow, scope, team_id)
            if team.version != expected_version:
                raise StaleVersion()
            team.update(brand=brand, name=name, type=type)
            await uow.teams.update(team, expected_version=expected_version)
            uow.audit("team.updated", "team", team.id)
            uow.add_event(_event("team.updated", team, now))
            await uow.commit()
        return team

    async def _team_to_change(
        self, uow: VolunteersUnitOfWork, scope: Scope, team_id: uuid.UUID
    ) -> Team:
        team = await uow.teams.get(team_id, for_update=True)
        if team is None:
            raise TeamNotFound()
        require_manage(scope, team.station_id, team.district_id)
        return team

    async def add_member(
        self, scope: Scope, team_id: uuid.UUID, volunteer_id: uuid.UUID
    ) -> TeamDetail:
        now = self.clock.now()
        async with self.uow_factory(scope) as uow:
            team = await self._team_to_change(uow, scope, team_id)
            v = await uow.volunteers.get(volunteer_id, for_update=True)
            if v is None:
                raise VolunteerNotFound()
            team.check_can_join(v, await uow.teams.is_member(team.id, v.id))
            await uow.teams.add_membership(
                Membership(new_id(), team.id, v.id, joined_at=now, added_by=scope.account_id)
            )
            uow.audit("team.member_joined", "team", team.id, {"volunteer_id": v.id})
            uow.add_event(_event("team.member_joined", team, now, volunteer_id=v.id))
            members = await self._members(uow, scope, [team])
            await uow.commit()
        return TeamDetail(team, tuple(members.get(team.id, [])))

    async def remove_member(
        self, scope: Scope, team_id: uuid.UUID, volunteer_id: uuid.UUID
    ) -> TeamDetail:
        """Record the member's leave (the membership row keeps joined_at and left_at)."""
        now = self.clock.now()
        async with self.uow_factory(scope) as uow:
            team = await self._team_to_change(uow, scope, team_id)
            v = await uow.volunteers.get(volunteer_id, for_update=True)
            if v is None:
                raise VolunteerNotFound()
            if not await uow.teams.end_membership(team.id, v.id, at=now, by=scope.account_id):
                raise NotFound(
                    "The volunteer is not a member of this team.",
                    "该志愿者不是本队队员。",
                    code="team.not_member",
                )
            if team.member_left(v.id):
                await uow.teams.update(team, expected_version=None)
            await sync_roles(uow, v, scope.account_id)
            uow.audit("team.member_left", "team", team.id, {"volunteer_id": v.id})
            uow.add_event(_event("team.member_left", team, now, volunteer_id=v.id))
            members = await self._members(uow, scope, [team])
            await uow.commit()
        return TeamDetail(team, tuple(members.get(team.id, [])))

    async def set_leader(
        self,
        scope: Scope,
        team_id: uuid.UUID,
        volunteer_id: uuid.UUID,
        *,
        expected_version: int | None = None,
    ) -> TeamDetail:
        now = self.clock.now()
        async with self.uow_factory(scope) as uow:
            team = await self._team_to_change(uow, scope, team_id)
            if expected_version is not None and team.version != expected_version:
                raise StaleVersion()
            v = await uow.volunteers.get(volunteer_id, for_update=True)
            if v is None:
                raise VolunteerNotFound()
            previous = team.set_leader(v, await uow.teams.is_member(team.id, v.id))
            await uow.teams.update(team, expected_version=expected_version)
            await sync_roles(uow, v, scope.account_id)
            if previous is not None and previous != v.id:
                old = await uow.volunteers.get(previous, for_update=True)
                if old is not None:
                    await sync_roles(uow, old, scope.account_id)
            uow.audit(
                "team.leader_changed",
                "team",
                team.id,
                {"volunteer_id": v.id, "previous": previous},
            )
            uow.add_event(_event("team.leader_changed", team, now, volunteer_id=v.id))
            members = await self._members(uow, scope, [team])
            await uow.commit()
        return TeamDetail(team, tuple(members.get(team.id, [])))

    async def members_of(
        self, scope: Scope, team_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[MemberView]]:
        """Current rosters of the given teams (those in scope), for DataLoaders."""
        async with self.uow_factory(scope) as uow:
            teams = await uow.teams.get_many(team_ids)
            members = await self._members(uow, scope, teams)
            await _audit_roster(uow, scope, members)
        return members

    async def teams_of(
        self, scope: Scope, volunteer_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[Team]]:
        """Current teams of each volunteer (volunteers and teams both in scope)."""
        async with self.uow_factory(scope) as uow:
            visible = {v.id for v in await uow.volunteers.get_many(volunteer_ids)}
            teams = await uow.teams.current_teams([i for i in volunteer_ids if i in visible])
        return teams

    async def _members(
        self, uow: VolunteersUnitOfWork, scope: Scope, teams: Sequence[Team]
    ) -> dict[uuid.UUID, list[MemberView]]:
        if not teams:
            return {}
        by_team = {t.id: t for t in teams}
        memberships = await uow.teams.current_members(list(by_team))
        volunteer_ids = {m.volunteer_id for ms in memberships.values() for m in ms}
        volunteers = {v.id: v for v in await uow.volunteers.get_many(list(volunteer_ids))}
        result: dict[uuid.UUID, list[MemberView]] = {}
        for team_id, ms in memberships.items():
            team = by_team[team_id]
            views: list[MemberView] = []
            for m in ms:
                v = volunteers.get(m.volunteer_id)
                if v is None:
                    continue  # a member the caller may not see (e.g. a teammate's record)
                full = is_station_staff(scope, v.station_id) or is_self(scope, v.account_id)
                ident = v.identification
                views.append(
                    MemberView(
                        team_id=team_id,
                        volunteer_id=v.id,
                        name=v.name if full else mask_name(v.name),
                        volunteer_number=ident.number if ident else None,
                        status=v.status,
                        joined_at=m.joined_at,
                        is_leader=team.leader_id == v.id,
                    )
                )
            result[team_id] = views
        return result
