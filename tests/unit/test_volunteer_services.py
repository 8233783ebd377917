"""Use cases of the volunteer archive against in-memory fakes of the ports."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from fakes.volunteer_world import CONSENT, World, activate, make_world, person, resident
from fakes.volunteers import make_resident_id

from app.domain.shared.errors import InvalidInput, NotAllowed, StaleVersion
from app.domain.shared.scope import Role, Scope, system_scope
from app.domain.volunteers.errors import (
    AlreadyRegistered,
    BadgeNotFound,
    VolunteerInvalidTransition,
    VolunteerNotFound,
)
from app.domain.volunteers.glossary import TeamType
from app.domain.volunteers.lifecycle import VolunteerStatus
from app.domain.volunteers.model import CheckResult, ProfileChanges
from app.domain.volunteers.ports import VolunteerFilter
from app.domain.volunteers.recruitment import ConsentInput
from app.domain.volunteers.services import CheckInput
from app.domain.volunteers.team_service import TeamInput

S = VolunteerStatus
NOTICE = "2026-11"


@pytest.fixture
def world() -> World:
    return make_world()


async def test_apply_records_consent_history_audit_and_event(world: World) -> None:
    me = resident()
    v = await world.volunteers.apply(me, person(world.station), CONSENT)
    assert v.status == S.APPLIED
    assert v.is_self
    assert v.full_personal_data
    assert v.phone == "13900001111"
    assert v.consent_notice_version == NOTICE
    stored = world.store.volunteers[v.id]
    assert stored.account_id == me.account_id
    assert [(h.from_status, h.to_status) for h in world.store.history] == [(None, S.APPLIED)]
    assert [e.event_type for e in world.store.events] == ["volunteer.applied"]
    assert "13900001111" not in str(world.store.events[0].payload)
    assert world.store.audits[0]["action"] == "volunteer.applied"


async def test_one_open_record_per_account_and_per_id_number(world: World) -> None:
    me = resident()
    await world.volunteers.apply(me, person(world.station), CONSENT)
    with pytest.raises(AlreadyRegistered):
        await world.volunteers.apply(
            me, person(world.station, make_resident_id(date(1991, 1, 1))), CONSENT
        )
    with pytest.raises(AlreadyRegistered) as err:
        await world.volunteers.apply(resident(), person(world.other), CONSENT)
    assert err.value.code == "volunteer.already_registered"


async def test_a_rejected_applicant_may_apply_again(world: World) -> None:
    me, officer = resident(), world.officer()
    v = await world.volunteers.apply(me, person(world.station), CONSENT)
    await world.volunteers.record_background_check(
        officer, v.id, CheckInput(CheckResult.FAILED, note="有前科")
    )
    assert world.store.volunteers[v.id].status == S.REJECTED
    again = await world.volunteers.apply(me, person(world.station), CONSENT)
    assert again.id != v.id
    assert (await world.volunteers.my_profile(me)).volunteer.id == again.id  # type: ignore[union-attr]


async def test_apply_checks_station_consent_and_age(world: World) -> None:
    with pytest.raises(InvalidInput) as err:
        await world.volunteers.apply(
            resident(), person(world.station, station_id=uuid.uuid4()), CONSENT
        )
    assert err.value.code == "volunteer.unknown_station"
    with pytest.raises(InvalidInput) as err:
        await world.volunteers.apply(resident(), person(world.station), ConsentInput("old", True))
    assert err.value.code == "volunteer.consent_required"
    minor = make_resident_id(date(2010, 1, 1))
    with pytest.raises(InvalidInput) as err:
        await world.volunteers.apply(resident(), person(world.station, minor), CONSENT)
    assert err.value.code == "volunteer.under_age"
    assert world.store.volunteers == {}


async def test_whole_lifecycle_assigns_number_badge_and_roles(world: World) -> None:
    me, officer = resident(), world.officer()
    v = await activate(world, me, officer)
    assert v.status == S.ACTIVE
    assert v.volunteer_number == "WJ-2026-000001"
    assert v.badge_token
    assert len(v.badge_token) >= 22
    assert v.next_recheck_on == date(2027, 5, 1)
    assert world.store.roles[me.account_id] == {"volunteer"}
    types = [e.event_type for e in world.store.events]
    assert types.count("volunteer.status_changed") == 4
    assert "volunteer.activated" in types
    history = await world.volunteers.history(officer, v.id)
    assert [h.to_status for h in history] == [
        S.APPLIED,
        S.VETTED,
        S.TRAINING,
        S.PROBATION,
        S.ACTIVE,
    ]
    badge = await world.badges.check(v.badge_token)
    assert badge.masked_name == "张*"
    assert badge.active
    assert badge.volunteer_number == v.volunteer_number
    assert badge.valid_until == date(2027, 5, 1)


async def test_numbers_follow_the_district_sequence(world: World) -> None:
    officer = world.officer()
    first = await activate(world, resident(), officer)
    v = await world.volunteers.apply(
        resident(), person(world.station, make_resident_id(date(1980, 2, 2))), CONSENT
    )
    await world.volunteers.record_background_check(officer, v.id, CheckInput(CheckResult.PASSED))
    for target in (S.TRAINING, S.PROBATION, S.ACTIVE):
        v = await world.volunteers.change_status(officer, v.id, target)
    assert (first.volunteer_number, v.volunteer_number) == ("WJ-2026-000001", "WJ-2026-000002")


async def test_a_volunteer_never_changes_their_own_status(world: World) -> None:
    me, officer = resident(), world.officer()
    v = await activate(world, me, officer)
    with pytest.raises(NotAllowed):
        await world.volunteers.change_status(me, v.id, S.RETIRED, reason="不想干了")
    with pytest.raises(NotAllowed):
        await world.volunteers.record_background_check(me, v.id, CheckInput(CheckResult.PASSED))
    # Even an officer of the station who is the volunteer themself.
    both = Scope(me.account_id, frozenset({Role.OFFICER}), frozenset({world.station.id}))
    with pytest.raises(NotAllowed):
        await world.volunteers.change_status(both, v.id, S.SUSPENDED, reason="x")


async def test_foreign_station_sees_nothing(world: World) -> None:
    v = await world.volunteers.apply(resident(), person(world.station), CONSENT)
    stranger = world.officer(world.other)
    with pytest.raises(VolunteerNotFound):
        await world.volunteers.get(stranger, v.id)
    with pytest.raises(VolunteerNotFound):
        await world.volunteers.change_status(stranger, v.id, S.RETIRED, reason="x")
    page = await world.volunteers.search(stranger, VolunteerFilter(), limit=50)
    assert page.items == []
    assert await world.volunteers.get_many(stranger, [v.id]) == []


async def test_who_sees_full_personal_data(world: World) -> None:
    me = resident()
    v = await world.volunteers.apply(me, person(world.station), CONSENT)
    officer = world.officer()
    full = await world.volunteers.get(officer, v.id)
    assert (full.name, full.phone, full.full_personal_data) == ("张伟", "13900001111", True)
    assert world.store.audits[-1]["action"] == "volunteer.personal_data_viewed"
    audits = len(world.store.audits)
    assert (await world.volunteers.get(me, v.id)).phone == "13900001111"
    assert len(world.store.audits) == audits  # own data: no privileged read
    for scope in (world.district_admin(), world.auditor()):
        masked = await world.volunteers.get(scope, v.id)
        assert masked.name == "张*"
        assert masked.phone == "139****1111"
        assert masked.resident_id.startswith("320")
        assert "*" in masked.resident_id
        assert masked.address.endswith("****")
        assert not masked.full_personal_data
    listed = await world.volunteers.search(officer, VolunteerFilter(), limit=10)
    assert listed.items[0].name == "张伟"
    assert listed.items[0].phone == "139****1111"
    assert world.store.audits[-1]["action"] == "volunteer.listed"


async def test_district_admin_manages_auditor_only_reads(world: World) -> None:
    v = await world.volunteers.apply(resident(), person(world.station), CONSENT)
    with pytest.raises(NotAllowed):
        await world.volunteers.record_background_check(
            world.auditor(), v.id, CheckInput(CheckResult.PASSED)
        )
    view, check = await world.volunteers.record_background_check(
        world.district_admin(), v.id, CheckInput(CheckResult.PASSED, note="无违法记录")
    )
    assert view.status == S.VETTED
    assert check.note == "无违法记录"


async def test_volunteers_see_only_themselves(world: World) -> None:
    me, officer = resident(), world.officer()
    mine = await activate(world, me, officer)
    other = await world.volunteers.register(
        officer, person(world.station, make_resident_id(date(1970, 3, 3)), name="李娜")
    )
    me_now = Scope(me.account_id, frozenset({Role.RESIDENT, Role.VOLUNTEER}))
    with pytest.raises(VolunteerNotFound):
        await world.volunteers.get(me_now, other.id)
    page = await world.volunteers.search(me_now, VolunteerFilter(), limit=50)
    assert [i.id for i in page.items] == [mine.id]


async def test_suspension_and_retirement_revoke_roles_and_leave_teams(world: World) -> None:
    me, officer = resident(), world.officer()
    v = await activate(world, me, officer)
    team = await world.teams.create(officer, TeamInput("阳湖N警", "湖塘巡逻队", TeamType.PATROL))
    await world.teams.add_member(officer, team.id, v.id)
    await world.teams.set_leader(officer, team.id, v.id)
    assert world.store.roles[me.account_id] == {"volunteer", "team_leader"}
    await world.volunteers.change_status(officer, v.id, S.SUSPENDED, reason="投诉调查")
    assert world.store.roles[me.account_id] == set()
    await world.volunteers.change_status(officer, v.id, S.ACTIVE)
    assert world.store.roles[me.account_id] == {"volunteer", "team_leader"}
    await world.volunteers.change_status(officer, v.id, S.RETIRED, reason="搬家")
    assert world.store.roles[me.account_id] == set()
    assert world.store.teams[team.id].leader_id is None
    assert all(m.left_at is not None for m in world.store.memberships)
    assert "team.member_left" in [e.event_type for e in world.store.events]
    badge = await world.badges.check(v.badge_token or "")
    assert not badge.active
    assert badge.teams == ()


async def test_failed_recheck_suspends_an_active_volunteer(world: World) -> None:
    officer = world.officer()
    v = await activate(world, resident(), officer)
    view, _ = await world.volunteers.record_background_check(
        officer, v.id, CheckInput(CheckResult.FAILED, note="复查发现问题")
    )
    assert view.status == S.SUSPENDED
    assert view.next_recheck_on is None


async def test_rechecks_due(world: World) -> None:
    officer = world.officer()
    v = await activate(world, resident(), officer)
    assert (await world.volunteers.rechecks_due(officer, date(2027, 4, 30), limit=10)).items == []
    due = await world.volunteers.rechecks_due(officer, date(2027, 5, 1), limit=10)
    assert [i.id for i in due.items] == [v.id]
    await world.volunteers.record_background_check(
        officer,
        v.id,
        CheckInput(
            CheckResult.PASSED, checked_on=date(2026, 5, 1), next_recheck_on=date(2028, 1, 1)
        ),
    )
    assert (await world.volunteers.rechecks_due(officer, date(2027, 5, 1), limit=10)).items == []
    stranger = world.officer(world.other)
    assert (await world.volunteers.rechecks_due(stranger, date(2030, 1, 1), limit=10)).items == []
    with pytest.raises(NotAllowed):
        await world.volunteers.rechecks_due(resident(), date(2030, 1, 1), limit=10)


async def test_profile_edits(world: World) -> None:
    me, officer = resident(), world.officer()
    v = await world.volunteers.apply(me, person(world.station), CONSENT)
    edited = await world.volunteers.update_profile(
        me, v.id, ProfileChanges(address="常州市武进区牛塘镇", skills=("fire",)), expected_version=1
    )
    assert edited.address == "常州市武进区牛塘镇"
    assert edited.version == 2
    with pytest.raises(StaleVersion):
        await world.volunteers.update_profile(
            me, v.id, ProfileChanges(has_photo=True), expected_version=1
        )
    with pytest.raises(NotAllowed):
        await world.volunteers.update_profile(
            me, v.id, ProfileChanges(name="张三"), expected_version=2
        )
    staff = await world.volunteers.update_profile(
        officer, v.id, ProfileChanges(name="张伟伟", phone="13700001111"), expected_version=2
    )
    assert (staff.name, staff.phone) == ("张伟伟", "13700001111")


async def test_invalid_transition_is_a_conflict(world: World) -> None:
    v = await world.volunteers.apply(resident(), person(world.station), CONSENT)
    with pytest.raises(VolunteerInvalidTransition):
        await world.volunteers.change_status(world.officer(), v.id, S.ACTIVE)
    assert world.store.counters == {}  # no number consumed by a refused activation


async def test_unknown_badge(world: World) -> None:
    with pytest.raises(BadgeNotFound):
        await world.badges.check("A" * 32)
    with pytest.raises(BadgeNotFound):
        await world.badges.check("../etc")


async def test_system_scope_registers_without_consent(world: World) -> None:
    v = await world.volunteers.register(system_scope(), person(world.other))
    assert v.full_personal_data
    assert v.consent_notice_version is None
    with pytest.raises(NotAllowed):
        await world.volunteers.register(
            world.officer(world.other, Role.AUDITOR),
            person(world.other, make_resident_id(date(1960, 1, 1))),
        )
