"""Reading lists of people is a privileged read: team rosters and batches of volunteers
read by staff leave an audit entry (ids and counts only, never names)."""

from __future__ import annotations

import pytest
from fakes.volunteer_world import World, activate, make_world, resident

from app.domain.volunteers.glossary import TeamType
from app.domain.volunteers.team_service import TeamInput


@pytest.fixture
def world() -> World:
    return make_world()


def _actions(world: World, action: str) -> list[dict[str, object]]:
    return [a for a in world.store.audits if a["action"] == action]


async def test_staff_reading_a_roster_is_audited(world: World) -> None:
    officer = world.officer()
    v = await activate(world, resident(), officer)
    team = await world.teams.create(officer, TeamInput("阳湖N警", "湖塘队", TeamType.PATROL))
    await world.teams.add_member(officer, team.id, v.id)

    reader = world.officer()
    detail = await world.teams.get(reader, team.id)
    assert [m.volunteer_id for m in detail.members] == [v.id]
    listed = _actions(world, "team.members_listed")
    assert len(listed) == 1
    assert listed[0]["actor_id"] == reader.account_id
    assert listed[0]["record_id"] == team.id
    assert listed[0]["detail"] == {"team_ids": [team.id], "count": 1}
    assert "张" not in str(listed[0])

    await world.teams.members_of(world.district_admin(), [team.id])
    assert len(_actions(world, "team.members_listed")) == 2


async def test_a_member_reading_their_own_team_is_not_a_listing(world: World) -> None:
    officer = world.officer()
    me = resident()
    v = await activate(world, me, officer)
    team = await world.teams.create(officer, TeamInput("阳湖N警", "湖塘队", TeamType.PATROL))
    await world.teams.add_member(officer, team.id, v.id)
    before = len(_actions(world, "team.members_listed"))
    await world.teams.get(me, team.id)
    assert len(_actions(world, "team.members_listed")) == before


async def test_staff_batch_reads_of_volunteers_are_audited(world: World) -> None:
    officer = world.officer()
    v = await activate(world, resident(), officer)
    views = await world.volunteers.get_many(officer, [v.id])
    assert [x.id for x in views] == [v.id]
    listed = [a for a in _actions(world, "volunteer.listed") if a["actor_id"] == officer.account_id]
    assert [a["detail"] for a in listed] == [{"filters": ["ids"], "count": 1}]
    assert await world.volunteers.get_many(world.officer(world.other), [v.id]) == []
