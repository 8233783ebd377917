"""Teams: roster rules, leader rules, join/leave history, scope."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from fakes.volunteer_world import CONSENT, World, activate, make_world, person, resident
from fakes.volunteers import make_resident_id

from app.domain.shared.errors import InvalidInput, NotAllowed, NotFound, StaleVersion
from app.domain.volunteers.errors import TeamConflict, TeamNotFound
from app.domain.volunteers.glossary import TeamType
from app.domain.volunteers.ports import TeamFilter
from app.domain.volunteers.team_service import TeamInput


@pytest.fixture
def world() -> World:
    return make_world()


async def test_create_and_update_team(world: World) -> None:
    officer = world.officer()
    team = await world.teams.create(
        officer, TeamInput(" 江东大妈 ", "湖塘 巡防队", TeamType.PREVENTION_PUBLICITY)
    )
    assert (team.brand, team.name, team.station_id) == ("江东大妈", "湖塘 巡防队", world.station.id)
    updated = await world.teams.update(officer, team.id, expected_version=1, name="湖塘巡防一队")
    assert updated.name == "湖塘巡防一队"
    assert updated.version == 2
    with pytest.raises(StaleVersion):
        await world.teams.update(officer, team.id, expected_version=1, name="x")
    with pytest.raises(InvalidInput):
        await world.teams.create(officer, TeamInput("", "队", TeamType.PATROL))
    with pytest.raises(TeamNotFound):
        await world.teams.get(world.officer(world.other), team.id)
    page = await world.teams.search(world.officer(world.other), TeamFilter(), limit=10)
    assert page.items == []


async def test_only_serving_volunteers_of_the_station_join(world: World) -> None:
    officer = world.officer()
    team = await world.teams.create(officer, TeamInput("阳湖N警", "湖塘队", TeamType.PATROL))
    applicant = await world.volunteers.apply(resident(), person(world.station), CONSENT)
    with pytest.raises(TeamConflict) as err:
        await world.teams.add_member(officer, team.id, applicant.id)
    assert err.value.code == "team.volunteer_not_serving"
    other = await world.volunteers.register(
        officer, person(world.station, make_resident_id(date(1966, 6, 6)), name="王芳")
    )
    with pytest.raises(TeamConflict):
        await world.teams.add_member(officer, team.id, other.id)


async def test_roster_history_and_leader(world: World) -> None:
    officer = world.officer()
    me = resident()
    v = await activate(world, me, officer)
    team = await world.teams.create(
        officer, TeamInput("阳湖N警", "湖塘队", TeamType.EMERGENCY_UNIT)
    )
    with pytest.raises(TeamConflict) as err:
        await world.teams.set_leader(officer, team.id, v.id)
    assert err.value.code == "team.leader_not_member"
    detail = await world.teams.add_member(officer, team.id, v.id)
    assert [m.volunteer_id for m in detail.members] == [v.id]
    with pytest.raises(TeamConflict):
        await world.teams.add_member(officer, team.id, v.id)
    detail = await world.teams.set_leader(officer, team.id, v.id)
    assert detail.team.leader_id == v.id
    assert detail.members[0].is_leader
    assert "team_leader" in world.store.roles[me.account_id]
    detail = await world.teams.remove_member(officer, team.id, v.id)
    assert detail.members == ()
    assert detail.team.leader_id is None
    assert world.store.roles[me.account_id] == {"volunteer"}
    [membership] = world.store.memberships
    assert membership.left_at is not None
    assert membership.joined_at <= membership.left_at
    with pytest.raises(NotFound) as nf:
        await world.teams.remove_member(officer, team.id, v.id)
    assert nf.value.code == "team.not_member"
    again = await world.teams.add_member(officer, team.id, v.id)
    assert len(again.members) == 1
    assert len(world.store.memberships) == 2
    types = [e.event_type for e in world.store.events if e.aggregate_type == "team"]
    assert types.count("team.member_joined") == 2
    assert "team.member_left" in types


async def test_other_station_volunteer_cannot_join(world: World) -> None:
    officer = world.officer()
    other_officer = world.officer(world.other)
    team = await world.teams.create(officer, TeamInput("阳湖N警", "湖塘队", TeamType.PATROL))
    v = await world.volunteers.apply(
        resident(), person(world.other, make_resident_id(date(1975, 7, 7))), CONSENT
    )
    with pytest.raises(TeamNotFound):
        await world.teams.add_member(other_officer, team.id, v.id)
    district = world.district_admin()
    with pytest.raises(NotAllowed):
        await world.teams.add_member(district, team.id, v.id)


async def test_member_view_masks_names_for_non_station_staff(world: World) -> None:
    officer = world.officer()
    v = await activate(world, resident(), officer)
    team = await world.teams.create(officer, TeamInput("彭城义警", "一队", TeamType.PATROL))
    await world.teams.add_member(officer, team.id, v.id)
    staff = await world.teams.members_of(officer, [team.id])
    district = await world.teams.members_of(world.district_admin(), [team.id])
    assert staff[team.id][0].name == "张伟"
    assert district[team.id][0].name == "张*"
    assert await world.teams.members_of(world.officer(world.other), [team.id]) == {}
    teams = await world.teams.teams_of(officer, [v.id, uuid.uuid4()])
    assert [t.id for t in teams[v.id]] == [team.id]
