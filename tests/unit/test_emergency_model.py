"""Emergency units: certified capabilities, equipment, duty and locations, incidents and
responses (最小应急单元)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

import pytest

from app.domain.emergency.access import may_see
from app.domain.emergency.capabilities import HeldCertificate, certified_capabilities
from app.domain.emergency.duty import DutyBasis, MemberDuty, RosterSlot, Shift
from app.domain.emergency.errors import (
    AlreadyAlerted,
    CapabilityNotCertified,
    DrillFlagFixed,
    EquipmentNotFound,
    IncidentInvalidTransition,
    NotAlerted,
    NotAnEmergencyTeam,
    OffDuty,
    ResponseInvalidTransition,
    StepOutOfOrder,
    UnitNeedsLeader,
)
from app.domain.emergency.glossary import (
    CAPABILITY_LABELS,
    INCIDENT_TYPE_LABELS,
    Capability,
    EquipmentKind,
    IncidentType,
    RaisedBy,
    Severity,
)
from app.domain.emergency.incident import (
    Incident,
    IncidentEventKind,
    IncidentRouting,
    IncidentStatus,
)
from app.domain.emergency.locations import (
    LocationSample,
    expired_samples,
    is_expired,
    thin_batch,
)
from app.domain.emergency.model import EmergencyUnit, UnitMember
from app.domain.emergency.responses import ResponseStatus
from app.domain.shared.errors import InvalidInput
from app.domain.shared.geo import GeoPoint
from app.domain.shared.scope import Role, Scope
from app.domain.volunteers.glossary import TeamType
from app.domain.volunteers.teams import Team

T0 = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)  # Sunday 10:00 Beijing
DAY = date(2026, 11, 22)
HERE = GeoPoint(119.95, 31.70)
STATION, DISTRICT = uuid.uuid4(), uuid.uuid4()
OFFICER = uuid.uuid4()
A, B, C = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def s(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


# --- capabilities and certificates ---------------------------------------------------------


def test_labels_are_chinese() -> None:
    assert CAPABILITY_LABELS[Capability.WATER_RESCUE] == "水上救援"
    assert INCIDENT_TYPE_LABELS[IncidentType.LOST_CHILD] == "儿童走失"
    assert Severity.CRITICAL.rank == 4
    assert Severity.from_rank(2) == Severity.MEDIUM
    with pytest.raises(ValueError):
        Severity.from_rank(5)


def test_certificate_counts_up_to_the_day_before_expiry() -> None:
    cert = HeldCertificate("red_cross_first_aid", expires_on=DAY, completed_on=date(2024, 11, 22))
    assert certified_capabilities([cert], DAY - timedelta(days=1)) == {Capability.FIRST_AID}
    assert certified_capabilities([cert], DAY) == frozenset()
    assert certified_capabilities([cert], date(2024, 11, 21)) == frozenset()


def test_course_capability_or_accepted_code_proves_a_capability() -> None:
    declared = HeldCertificate("XZ-2026-07", capability="water_rescue")
    assert certified_capabilities([declared], DAY) == {Capability.WATER_RESCUE}
    assert certified_capabilities([HeldCertificate("摄影培训")], DAY) == frozenset()


def test_member_claims_only_certified_capabilities() -> None:
    member = UnitMember(A, uuid.uuid4())
    certs = [HeldCertificate("cpr_aed", expires_on=DAY + timedelta(days=1))]
    with pytest.raises(CapabilityNotCertified) as missing:
        member.claim([Capability.FIRST_AID, Capability.FIRE], certs, DAY)
    assert missing.value.missing == ("fire",)
    assert member.claimed == frozenset()
    member.claim([Capability.FIRST_AID], certs, DAY)
    assert member.claimed == {Capability.FIRST_AID}
    # On the expiry day the claim no longer counts.
    assert member.capabilities_on(DAY, certs) == {Capability.FIRST_AID}
    assert member.capabilities_on(DAY + timedelta(days=1), certs) == frozenset()


# --- units and equipment -------------------------------------------------------------------


def team(type_: TeamType = TeamType.EMERGENCY_UNIT, leader: uuid.UUID | None = A) -> Team:
    return Team(uuid.uuid4(), STATION, DISTRICT, "阳湖N警", "湖塘一号应急单元", type_, T0, leader)


def test_only_an_emergency_team_with_a_leader_becomes_a_unit() -> None:
    with pytest.raises(NotAnEmergencyTeam):
        EmergencyUnit.from_team(team(TeamType.PATROL), HERE)
    with pytest.raises(UnitNeedsLeader):
        EmergencyUnit.from_team(team(leader=None), HERE)
    unit = EmergencyUnit.from_team(team(), HERE)
    assert unit.leader_id == A
    assert unit.station_id == STATION


def test_equipment_has_locations_and_nearest_usable_item() -> None:
    unit = EmergencyUnit.from_team(team(), HERE)
    near = unit.add_equipment(
        EquipmentKind.AED, GeoPoint(119.951, 31.70), label="小区东门保安亭", service_due=DAY
    )
    far = unit.add_equipment(EquipmentKind.AED, GeoPoint(119.96, 31.70), label="社区服务中心")
    unit.add_equipment(EquipmentKind.LIFE_BUOY, GeoPoint(119.95, 31.71), label="河边步道")
    found = unit.nearest_equipment(EquipmentKind.AED, HERE, DAY)
    assert found is not None
    assert found[0].id == near.id
    assert 90 < found[1] < 100
    # The near AED's pads are past their service day: the far one is offered.
    later = unit.nearest_equipment(EquipmentKind.AED, HERE, DAY + timedelta(days=1))
    assert later is not None
    assert later[0].id == far.id
    assert unit.nearest_equipment(EquipmentKind.EXTINGUISHER, HERE, DAY) is None
    moved = unit.move_equipment(far.id, HERE)
    assert moved.location == HERE
    assert moved.label == "社区服务中心"
    unit.remove_equipment(far.id)
    with pytest.raises(EquipmentNotFound):
        unit.remove_equipment(far.id)
    with pytest.raises(InvalidInput):
        unit.add_equipment(EquipmentKind.OTHER, HERE, label="长" * 101)


def test_unit_capabilities_are_its_members_counted_ones() -> None:
    unit = EmergencyUnit.from_team(team(), HERE)
    medic, swimmer, outsider = (
        UnitMember(A, unit.id),
        UnitMember(B, unit.id),
        UnitMember(C, uuid.uuid4()),
    )
    certs = {
        A: [HeldCertificate("first_aid", expires_on=DAY + timedelta(days=30))],
        B: [HeldCertificate("lifeguard", expires_on=DAY + timedelta(days=1))],
        C: [HeldCertificate("micro_fire_station")],
    }
    medic.claim([Capability.FIRST_AID], certs[A], DAY)
    swimmer.claim([Capability.WATER_RESCUE], certs[B], DAY)
    outsider.claim([Capability.FIRE], certs[C], DAY)
    members = [medic, swimmer, outsider]
    assert unit.capabilities_on(DAY, members, certs) == {
        Capability.FIRST_AID,
        Capability.WATER_RESCUE,
    }
    assert unit.capabilities_on(DAY + timedelta(days=1), members, certs) == {Capability.FIRST_AID}


# --- duty ----------------------------------------------------------------------------------


def duty(**kwargs: object) -> MemberDuty:
    return MemberDuty(A, uuid.uuid4(), **kwargs)  # type: ignore[arg-type]


def test_roster_slot_covers_local_times_and_crosses_midnight() -> None:
    # Sunday (6) 08:00–12:00 Beijing; T0 is Sunday 10:00 Beijing.
    day_slot = RosterSlot(6, time(8), time(12))
    assert day_slot.window_at(T0) is not None
    assert day_slot.window_at(T0 + timedelta(hours=2)) is None  # 12:00 is the end
    night = RosterSlot(5, time(22), time(6))  # Saturday 22:00 → Sunday 06:00
    assert night.window_at(datetime(2026, 11, 21, 21, 59, tzinfo=UTC)) is not None  # 05:59
    assert night.window_at(datetime(2026, 11, 21, 22, 0, tzinfo=UTC)) is None  # 06:00
    with pytest.raises(InvalidInput):
        RosterSlot(7, time(8), time(9))
    with pytest.raises(InvalidInput):
        RosterSlot(1, time(8), time(8))


def test_on_duty_by_roster_shift_or_ad_hoc() -> None:
    member = duty(roster=(RosterSlot(6, time(8), time(12)),))
    assert member.basis(T0) == DutyBasis.ROSTER
    assert not member.is_on_duty(s(3 * 3600))
    member.add_shift(Shift(s(3 * 3600), s(5 * 3600)))
    assert member.basis(s(3 * 3600)) == DutyBasis.SHIFT
    assert not member.is_on_duty(s(5 * 3600))
    member.go_available(s(7 * 3600), at=s(6 * 3600))
    assert member.basis(s(6 * 3600)) == DutyBasis.AD_HOC
    assert not member.is_on_duty(s(7 * 3600))
    with pytest.raises(InvalidInput):
        member.go_available(s(60), at=s(60))
    with pytest.raises(InvalidInput):
        member.go_available(s(13 * 3600), at=T0)
    with pytest.raises(InvalidInput):
        Shift(s(10), s(10))
    assert [e.event_type for e in member.pending] == ["emergency.member_available"]


def test_going_off_duty_suspends_the_current_slot_only() -> None:
    member = duty(roster=(RosterSlot(6, time(8), time(12)), RosterSlot(6, time(14), time(16))))
    member.go_off_duty(at=T0)
    assert not member.is_on_duty(s(60))
    assert member.is_on_duty(s(4 * 3600 + 60))  # 14:01, the next slot
    member.go_available(s(3600), at=s(120))
    assert member.is_on_duty(s(180))


def test_off_duty_no_location_is_accepted() -> None:
    member = duty()
    with pytest.raises(OffDuty):
        member.accept_locations([LocationSample(T0, HERE)], now=T0)
    assert member.last_location is None


def test_points_taken_while_off_duty_are_dropped() -> None:
    member = duty()
    member.go_available(s(3600), at=T0)
    result = member.accept_locations(
        [LocationSample(s(-120), HERE), LocationSample(s(10), HERE)], now=s(20)
    )
    assert result.off_duty == 1
    assert [k.at for k in result.kept] == [s(10)]


# --- location batches ------------------------------------------------------------------------


def test_batch_is_thinned_to_one_point_per_30_s() -> None:
    points = [LocationSample(s(t), HERE) for t in (50, 0, 10, 29, 30, 59, 61)]
    result = thin_batch(points, last_at=None, now=s(70))
    assert [k.at for k in result.kept] == [s(0), s(30), s(61)]
    assert result.thinned == 4
    assert result.last is not None
    assert result.last.at == s(61)


def test_batch_drops_older_than_last_and_rejects_the_future() -> None:
    points = [
        LocationSample(s(-10), HERE),  # before the last kept
        LocationSample(s(0), HERE),  # the last kept itself, sent again
        LocationSample(s(20), HERE),  # < 30 s after the last kept
        LocationSample(s(40), HERE),
        LocationSample(s(109), HERE),  # now + 9 s: inside the skew
        LocationSample(s(111), HERE),  # now + 11 s: refused
    ]
    result = thin_batch(points, last_at=s(0), now=s(100))
    assert [k.at for k in result.kept] == [s(40), s(109)]
    assert (result.stale, result.thinned, result.future) == (2, 1, 1)


def test_member_keeps_the_last_known_location_across_batches() -> None:
    member = duty()
    member.go_available(s(3600), at=T0)
    member.accept_locations([LocationSample(s(0), HERE)], now=s(1))
    first = member.last_location
    result = member.accept_locations([LocationSample(s(10), GeoPoint(120.0, 31.7))], now=s(11))
    assert result.kept == ()
    assert member.last_location == first
    member.accept_locations([LocationSample(s(45), GeoPoint(120.0, 31.7))], now=s(46))
    assert member.last_location is not None
    assert member.last_location.point.lon == 120.0


def test_batch_size_is_limited() -> None:
    with pytest.raises(InvalidInput):
        thin_batch([LocationSample(s(i * 30), HERE) for i in range(501)], last_at=None, now=T0)


def test_retention_expires_samples_older_than_the_setting() -> None:
    now = T0
    old = LocationSample(now - timedelta(days=7, seconds=1), HERE)
    edge = LocationSample(now - timedelta(days=7), HERE)
    fresh = LocationSample(now - timedelta(days=1), HERE)
    assert expired_samples([old, edge, fresh], now, 7) == [old]
    assert is_expired(edge, now + timedelta(seconds=1), 7)
    with pytest.raises(InvalidInput):
        expired_samples([old], now, 0)
    member = duty(last_location=old)
    assert member.forget_expired_location(now, 7)
    assert member.last_location is None
    assert not member.forget_expired_location(now, 7)


# --- incidents and responses -------------------------------------------------------------------


def incident(drill: bool = False, raised_by: RaisedBy = RaisedBy.OFFICER) -> Incident:
    return Incident.raise_new(
        id=uuid.uuid4(),
        type=IncidentType.DROWNING,
        severity=Severity.CRITICAL,
        location=HERE,
        description="湖塘河步行桥下有人落水，已有群众施救",
        raised_by=raised_by,
        raised_by_id=None if raised_by == RaisedBy.COMMAND_CENTRE else OFFICER,
        routing=IncidentRouting(DISTRICT, STATION),
        drill=drill,
        at=T0,
    )


def dispatching(drill: bool = False) -> Incident:
    inc = incident(drill)
    inc.start_dispatch(at=s(1))
    return inc


def test_raising_informs_the_station_first() -> None:
    inc = incident(raised_by=RaisedBy.COMMAND_CENTRE)
    first = inc.pending[0]
    assert first.kind == IncidentEventKind.RAISED
    assert first.detail["notify_station"] is True
    assert first.detail["station_id"] == str(STATION)
    assert inc.status == IncidentStatus.OPEN


def test_incident_input_is_checked() -> None:
    with pytest.raises(InvalidInput):
        Incident.raise_new(
            id=uuid.uuid4(),
            type=IncidentType.FIRE,
            severity=Severity.HIGH,
            location=HERE,
            description="  ",
            raised_by=RaisedBy.VOLUNTEER,
            raised_by_id=A,
            routing=IncidentRouting(DISTRICT, None),
            drill=False,
            at=T0,
        )
    with pytest.raises(InvalidInput):
        Incident.raise_new(
            id=uuid.uuid4(),
            type=IncidentType.FIRE,
            severity=Severity.HIGH,
            location=HERE,
            description="商铺起火",
            raised_by=RaisedBy.VOLUNTEER,
            raised_by_id=None,
            routing=IncidentRouting(DISTRICT, None),
            drill=False,
            at=T0,
        )


def test_drill_flag_is_fixed_and_in_every_event() -> None:
    inc = dispatching(drill=True)
    inc.alert(A, at=s(2))
    inc.accept(A, at=s(10))
    inc.resolve(at=s(60), by=OFFICER, note="演练结束")
    assert inc.pending
    assert all(e.drill for e in inc.pending)
    with pytest.raises(DrillFlagFixed):
        inc.drill = False
    inc.drill = True  # the same value is no change
    real = dispatching()
    real.alert(A, at=s(2))
    assert not any(e.drill for e in real.pending)


def test_full_response_and_timeline() -> None:
    inc = dispatching()
    inc.alert(A, at=s(2), unit_id=uuid.uuid4())
    inc.alert(B, at=s(2))
    inc.accept(A, at=s(15))
    inc.on_my_way(A, at=s(20))
    inc.decline(B, at=s(25))
    inc.widen(1, at=s(61))
    inc.alert(C, at=s(61))
    inc.on_scene(A, at=s(200))
    inc.stand_down(A, at=s(900))
    inc.resolve(at=s(950), by=OFFICER)
    assert inc.accepts == 1
    assert inc.response(C).status == ResponseStatus.STOOD_DOWN
    assert inc.response(C).steps[-1].by_officer
    steps = [(e.kind, e.member_id) for e in inc.timeline()]
    assert steps == [
        (IncidentEventKind.RAISED, None),
        (IncidentEventKind.DISPATCH_STARTED, None),
        (IncidentEventKind.ALERTED, A),
        (IncidentEventKind.ALERTED, B),
        (IncidentEventKind.ACCEPTED, A),
        (IncidentEventKind.ON_MY_WAY, A),
        (IncidentEventKind.DECLINED, B),
        (IncidentEventKind.RING_WIDENED, None),
        (IncidentEventKind.ALERTED, C),
        (IncidentEventKind.ON_SCENE, A),
        (IncidentEventKind.STOOD_DOWN, A),
        (IncidentEventKind.STOOD_DOWN, C),  # stood down by the resolution
        (IncidentEventKind.RESOLVED, None),
    ]
    times = [e.at for e in inc.timeline()]
    assert times == sorted(times)


def test_illegal_response_transitions() -> None:
    inc = dispatching()
    inc.alert(A, at=s(2))
    with pytest.raises(ResponseInvalidTransition):
        inc.on_scene(A, at=s(3))  # not accepted
    with pytest.raises(ResponseInvalidTransition):
        inc.stand_down(A, at=s(3))  # an alerted member declines instead
    inc.decline(A, at=s(4))
    with pytest.raises(ResponseInvalidTransition):
        inc.accept(A, at=s(5))  # declined is final
    inc.alert(B, at=s(5))
    inc.accept(B, at=s(6))
    inc.on_scene(B, at=s(7))  # already there: straight to on scene
    with pytest.raises(ResponseInvalidTransition):
        inc.on_my_way(B, at=s(8))
    with pytest.raises(NotAlerted):
        inc.accept(C, at=s(8))
    with pytest.raises(AlreadyAlerted):
        inc.alert(A, at=s(9))


def test_steps_cannot_go_back_in_time() -> None:
    inc = dispatching()
    inc.alert(A, at=s(10))
    with pytest.raises(StepOutOfOrder):
        inc.accept(A, at=s(9))
    with pytest.raises(StepOutOfOrder):
        inc.alert(B, at=s(-1))


def test_incident_status_machine() -> None:
    inc = incident()
    with pytest.raises(IncidentInvalidTransition):
        inc.alert(A, at=s(1))  # not dispatching yet
    with pytest.raises(IncidentInvalidTransition):
        inc.widen(1, at=s(1))
    inc.start_dispatch(at=s(1))
    with pytest.raises(IncidentInvalidTransition):
        inc.start_dispatch(at=s(2))
    with pytest.raises(IncidentInvalidTransition):
        inc.widen(2, at=s(2))  # one ring at a time
    inc.widen(1, at=s(2))
    inc.exhaust(at=s(3))
    with pytest.raises(IncidentInvalidTransition):
        inc.exhaust(at=s(4))
    with pytest.raises(InvalidInput):
        inc.cancel(at=s(5), by=OFFICER, reason=" ")
    inc.cancel(at=s(5), by=OFFICER, reason="误报，现场无人落水")
    assert inc.status == IncidentStatus.CANCELLED
    with pytest.raises(IncidentInvalidTransition):
        inc.resolve(at=s(6), by=OFFICER)
    with pytest.raises(IncidentInvalidTransition):
        inc.stand_down_all(at=s(6), by=OFFICER)


def test_open_incident_may_be_resolved_without_dispatch() -> None:
    inc = incident()
    inc.resolve(at=s(30), by=OFFICER, note="民警已到场处置")
    assert inc.status == IncidentStatus.RESOLVED
    assert inc.close_note == "民警已到场处置"


def test_officer_stands_everyone_down_and_alerts_stop() -> None:
    inc = dispatching()
    for member in (A, B, C):
        inc.alert(member, at=s(2))
    inc.accept(A, at=s(5))
    inc.decline(C, at=s(6))
    assert inc.stand_down_all(at=s(100), by=OFFICER) == 2
    assert inc.response(A).status == ResponseStatus.STOOD_DOWN
    assert inc.response(B).status == ResponseStatus.STOOD_DOWN
    assert inc.response(C).status == ResponseStatus.DECLINED
    assert inc.accepts == 1
    assert inc.committed == 0
    with pytest.raises(IncidentInvalidTransition):
        inc.alert(uuid.uuid4(), at=s(101))
    with pytest.raises(IncidentInvalidTransition):
        inc.stand_down_all(at=s(102), by=OFFICER)
    with pytest.raises(ResponseInvalidTransition):
        inc.on_my_way(A, at=s(103))
    inc.resolve(at=s(200), by=OFFICER)
    kinds = [e.kind for e in inc.pending]
    assert kinds.count(IncidentEventKind.STOOD_DOWN) == 2
    assert IncidentEventKind.ALL_STOOD_DOWN in kinds


def test_visibility() -> None:
    inc = dispatching()
    unit = uuid.uuid4()
    inc.alert(A, at=s(2), unit_id=unit)
    officer = Scope(OFFICER, frozenset({Role.OFFICER}), station_ids=frozenset({STATION}))
    other = Scope(uuid.uuid4(), frozenset({Role.OFFICER}), station_ids=frozenset({uuid.uuid4()}))
    alerted = Scope(uuid.uuid4(), frozenset({Role.VOLUNTEER}), volunteer_id=A)
    teammate = Scope(uuid.uuid4(), frozenset({Role.VOLUNTEER}), volunteer_id=B)
    assert may_see(officer, inc)
    assert not may_see(other, inc)
    assert may_see(alerted, inc)
    assert not may_see(teammate, inc)
    assert may_see(teammate, inc, unit_ids=[unit])
