"""The hazard (隐患) lifecycle as the domain enforces it: report → verify → assign →
rectify → re-inspect → close, merges, reopening, overdue escalation and sub-categories."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from app.domain.hazards.errors import CannotMerge, HazardInvalidTransition, NotReinspector
from app.domain.hazards.model import (
    Category,
    EventKind,
    Hazard,
    HazardStatus,
    Outcome,
    Routing,
    TopCategory,
    escalation_level,
)
from app.domain.shared.errors import InvalidInput
from app.domain.shared.geo import GeoPoint

AT = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)  # 10:00 Beijing
TODAY = date(2026, 11, 22)
ROUTE = Routing(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4())
OFFICER, DEPT_USER, VOLUNTEER = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def reported(
    reporter: uuid.UUID | None = None, media: tuple[uuid.UUID, ...] | None = None
) -> Hazard:
    return Hazard.report(
        id=uuid.uuid4(),
        category=TopCategory.FIRE,
        description="楼道内电动车违规充电，电线私拉乱接",
        location=GeoPoint(119.95, 31.70),
        routing=ROUTE,
        reporter_id=reporter or uuid.uuid4(),
        media_ids=(uuid.uuid4(),) if media is None else media,
        at=AT,
        place="花园小区3幢1单元",
    )


def assigned(deadline: date = TODAY + timedelta(days=7)) -> Hazard:
    hazard = reported()
    hazard.verify(Outcome.REAL, at=AT, by=OFFICER)
    hazard.assign(department_id=uuid.uuid4(), deadline=deadline, at=AT, by=OFFICER)
    return hazard


def kinds(hazard: Hazard) -> list[EventKind]:
    return [e.kind for e in hazard.pending]


def test_a_report_needs_a_photo_and_a_description() -> None:
    with pytest.raises(InvalidInput) as no_photo:
        reported(media=())
    assert no_photo.value.code == "hazard.photo_required"
    with pytest.raises(InvalidInput) as blank:
        Hazard.report(
            id=uuid.uuid4(),
            category=TopCategory.FIRE,
            description="   ",
            location=GeoPoint(119.95, 31.70),
            routing=ROUTE,
            reporter_id=uuid.uuid4(),
            media_ids=(uuid.uuid4(),),
            at=AT,
        )
    assert blank.value.code == "hazard.description_invalid"
    with pytest.raises(InvalidInput) as long_place:
        Hazard.report(
            id=uuid.uuid4(),
            category=TopCategory.FIRE,
            description="消防通道堵塞",
            location=GeoPoint(119.95, 31.70),
            routing=ROUTE,
            reporter_id=uuid.uuid4(),
            media_ids=(uuid.uuid4(),),
            at=AT,
            place="小" * 101,
        )
    assert long_place.value.code == "hazard.place_invalid"


def test_the_full_journey_ends_closed_with_its_history() -> None:
    reporter = uuid.uuid4()
    hazard = reported(reporter)
    assert hazard.status == HazardStatus.REPORTED
    assert hazard.reporters == [reporter]
    hazard.verify(Outcome.REAL, at=AT, by=OFFICER)
    assert hazard.status == HazardStatus.VERIFIED
    assert hazard.verified_at == AT
    hazard.assign(department_id=uuid.uuid4(), deadline=TODAY + timedelta(days=7), at=AT, by=OFFICER)
    assert hazard.status == HazardStatus.ASSIGNED
    hazard.start(at=AT, by=DEPT_USER)
    assert hazard.status == HazardStatus.RECTIFYING
    hazard.rectify((uuid.uuid4(),), "已拆除私拉电线，设置集中充电点", at=AT, by=DEPT_USER)
    assert hazard.status == HazardStatus.RECTIFIED
    assert hazard.rectified_by == DEPT_USER
    hazard.reinspect(True, None, at=AT, by=VOLUNTEER)
    assert hazard.status == HazardStatus.CLOSED
    assert hazard.closed_at == AT
    assert kinds(hazard) == [
        EventKind.REPORTED,
        EventKind.VERIFIED,
        EventKind.ASSIGNED,
        EventKind.STARTED,
        EventKind.RECTIFIED,
        EventKind.REINSPECTED,
        EventKind.CLOSED,
    ]


def test_steps_out_of_order_are_refused() -> None:
    hazard = reported()
    with pytest.raises(HazardInvalidTransition):
        hazard.assign(department_id=uuid.uuid4(), deadline=TODAY, at=AT, by=OFFICER)
    with pytest.raises(HazardInvalidTransition):
        hazard.rectify((uuid.uuid4(),), "已整改", at=AT, by=DEPT_USER)
    with pytest.raises(HazardInvalidTransition):
        hazard.reinspect(True, None, at=AT, by=VOLUNTEER)
    hazard.verify(Outcome.REAL, at=AT, by=OFFICER)
    with pytest.raises(HazardInvalidTransition):
        hazard.verify(Outcome.REAL, at=AT, by=OFFICER)


def test_rectifying_needs_after_photos_and_a_note_and_implies_the_start() -> None:
    hazard = assigned()
    with pytest.raises(InvalidInput) as no_photo:
        hazard.rectify((), "已整改", at=AT, by=DEPT_USER)
    assert no_photo.value.code == "hazard.photo_required"
    with pytest.raises(InvalidInput) as no_note:
        hazard.rectify((uuid.uuid4(),), "  ", at=AT, by=DEPT_USER)
    assert no_note.value.code == "hazard.note_invalid"
    assert hazard.status == HazardStatus.ASSIGNED
    hazard.rectify((uuid.uuid4(),), "已整改", at=AT, by=DEPT_USER)
    assert kinds(hazard)[-2:] == [EventKind.STARTED, EventKind.RECTIFIED]


def test_a_failed_reinspection_returns_it_to_rectifying_and_the_rectifier_cannot_pass_it() -> None:
    hazard = assigned()
    hazard.rectify((uuid.uuid4(),), "已整改", at=AT, by=DEPT_USER)
    with pytest.raises(NotReinspector):
        hazard.reinspect(True, None, at=AT, by=DEPT_USER)
    with pytest.raises(InvalidInput):
        hazard.reinspect(False, None, at=AT, by=VOLUNTEER)  # a fail needs a reason
    hazard.reinspect(
        False, "充电线仍未拆除", at=AT, by=VOLUNTEER, new_deadline=TODAY + timedelta(days=3)
    )
    assert hazard.status == HazardStatus.RECTIFYING
    assert hazard.deadline == TODAY + timedelta(days=3)
    assert hazard.rectified_at is None


def test_not_a_hazard_closes_and_a_duplicate_needs_its_survivor() -> None:
    hazard = reported()
    with pytest.raises(InvalidInput) as dup:
        hazard.verify(Outcome.DUPLICATE, at=AT, by=OFFICER)
    assert dup.value.code == "hazard.duplicate_needs_survivor"
    hazard.verify(Outcome.NOT_HAZARD, at=AT, by=OFFICER)
    assert hazard.status == HazardStatus.CLOSED
    assert hazard.outcome == Outcome.NOT_HAZARD
    assert hazard.verified_at is None  # only real hazards count as verified


def test_merging_closes_the_duplicate_and_its_reporters_follow_the_survivor() -> None:
    first, second = uuid.uuid4(), uuid.uuid4()
    survivor, duplicate = reported(first), reported(second)
    duplicate.merge_into(survivor, at=AT, by=OFFICER)
    assert duplicate.status == HazardStatus.CLOSED
    assert duplicate.outcome == Outcome.DUPLICATE
    assert duplicate.duplicate_of == survivor.id
    assert survivor.reporters == [first, second]
    assert survivor.new_reporters[-1] == (second, duplicate.id)
    assert survivor.status == HazardStatus.REPORTED
    assert kinds(survivor)[-1] == EventKind.ABSORBED
    with pytest.raises(CannotMerge):
        reported().merge_into(duplicate, at=AT, by=OFFICER)  # into a closed hazard
    with pytest.raises(CannotMerge):
        survivor.merge_into(survivor, at=AT, by=OFFICER)
    other = reported()
    other.category = TopCategory.DOGS
    with pytest.raises(CannotMerge):
        other.merge_into(survivor, at=AT, by=OFFICER)


def test_a_reporter_reopens_a_closed_hazard_with_evidence_but_not_a_merged_one() -> None:
    hazard = assigned()
    hazard.rectify((uuid.uuid4(),), "已整改", at=AT, by=DEPT_USER)
    hazard.reinspect(True, None, at=AT, by=VOLUNTEER)
    with pytest.raises(InvalidInput):
        hazard.reopen("又出现了", (), at=AT, by=hazard.reporter_id)
    photo = uuid.uuid4()
    hazard.reopen("整改后又出现私拉电线", (photo,), at=AT, by=hazard.reporter_id)
    assert hazard.status == HazardStatus.REPORTED
    assert hazard.outcome is None
    assert hazard.department_id is None
    assert photo in hazard.media_ids
    survivor, duplicate = reported(), reported()
    duplicate.merge_into(survivor, at=AT, by=OFFICER)
    with pytest.raises(HazardInvalidTransition):
        duplicate.reopen("不是重复", (uuid.uuid4(),), at=AT, by=duplicate.reporter_id)
    with pytest.raises(HazardInvalidTransition):
        survivor.reopen("仍未处理", (uuid.uuid4(),), at=AT, by=survivor.reporter_id)


def test_deadlines_cannot_be_in_the_past_in_beijing() -> None:
    hazard = reported()
    hazard.verify(Outcome.REAL, at=AT, by=OFFICER)
    with pytest.raises(InvalidInput) as past:
        hazard.assign(
            department_id=uuid.uuid4(), deadline=TODAY - timedelta(days=1), at=AT, by=OFFICER
        )
    assert past.value.code == "hazard.deadline_past"
    # 23:30 UTC on the 21st is already the 22nd in Beijing: "today" is the 22nd.
    late_evening = datetime(2026, 11, 21, 23, 30, tzinfo=UTC)
    with pytest.raises(InvalidInput):
        hazard.assign(
            department_id=uuid.uuid4(), deadline=date(2026, 11, 21), at=late_evening, by=OFFICER
        )
    hazard.assign(department_id=uuid.uuid4(), deadline=TODAY, at=late_evening, by=OFFICER)


def test_escalation_follows_the_schedule_and_never_goes_down() -> None:
    deadline = TODAY
    assert escalation_level(deadline, TODAY) == 0
    assert escalation_level(deadline, TODAY + timedelta(days=1)) == 1
    assert escalation_level(deadline, TODAY + timedelta(days=2)) == 1
    assert escalation_level(deadline, TODAY + timedelta(days=3)) == 2
    assert escalation_level(None, TODAY) == 0
    hazard = assigned(deadline)
    assert hazard.escalate(TODAY, at=AT) is None
    assert hazard.escalate(TODAY + timedelta(days=1), at=AT) == 1
    assert hazard.escalate(TODAY + timedelta(days=1), at=AT) is None  # already there
    assert hazard.overdue(TODAY + timedelta(days=1))
    assert hazard.escalate(TODAY + timedelta(days=5), at=AT) == 2
    assert hazard.escalation == 2
    assert kinds(hazard)[-2:] == [EventKind.ESCALATED, EventKind.ESCALATED]
    # Rectified hazards wait for re-inspection: no longer the assignee's delay.
    hazard.rectify((uuid.uuid4(),), "已整改", at=AT, by=DEPT_USER)
    assert hazard.escalate(TODAY + timedelta(days=9), at=AT) is None
    assert not hazard.overdue(TODAY + timedelta(days=9))
    # Reassigning with a new deadline starts the clock again.
    again = assigned(deadline)
    again.escalate(TODAY + timedelta(days=4), at=AT)
    again.assign(department_id=uuid.uuid4(), deadline=TODAY + timedelta(days=5), at=AT, by=OFFICER)
    assert again.escalation == 0


def test_sub_categories_check_their_rules() -> None:
    district = uuid.uuid4()
    category = Category.new(
        district_id=district,
        top=TopCategory.FIRE,
        code="EBike_Charging",
        name_zh="电动车违规充电",
        name_en="Illegal e-bike charging",
    )
    assert category.code == "ebike_charging"
    assert category.duplicate_rule.radius_m == 50
    assert category.duplicate_rule.window_days == 30
    assert category.rectification_days == 7
    for bad, code in (
        ({"code": "电动车"}, "hazard.category_code_invalid"),
        ({"duplicate_radius_m": 0}, "hazard.duplicate_radius_invalid"),
        ({"rectification_days": 400}, "hazard.rectification_days_invalid"),
        ({"name_zh": " "}, "hazard.category_name_invalid"),
    ):
        args: dict[str, object] = {
            "district_id": district,
            "top": TopCategory.FIRE,
            "code": "wires",
            "name_zh": "私拉电线",
            "name_en": "Wires",
            **bad,
        }
        with pytest.raises(InvalidInput) as err:
            Category.new(**args)  # type: ignore[arg-type]
        assert err.value.code == code
