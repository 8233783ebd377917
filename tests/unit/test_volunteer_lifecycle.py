"""The volunteer state machine: every allowed change and a sample of forbidden ones."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from app.domain.shared.errors import InvalidInput
from app.domain.volunteers.errors import VolunteerInvalidTransition
from app.domain.volunteers.glossary import SourceCategory
from app.domain.volunteers.lifecycle import ALLOWED, FINAL, VolunteerStatus
from app.domain.volunteers.model import (
    CheckResult,
    Identification,
    Origin,
    PersonalData,
    Volunteer,
    new_background_check,
    one_year_after,
)

S = VolunteerStatus
AT = datetime(2026, 5, 1, 2, 0, tzinfo=UTC)
OFFICER = uuid.uuid4()
IDENT = Identification("WJ-2026-000001", "t" * 32)

# Every change staff make by hand, as the product brief describes the lifecycle.
MANUAL = {
    (S.VETTED, S.TRAINING),
    (S.TRAINING, S.PROBATION),
    (S.PROBATION, S.ACTIVE),
    (S.PROBATION, S.SUSPENDED),
    (S.ACTIVE, S.SUSPENDED),
    (S.SUSPENDED, S.ACTIVE),
    (S.SUSPENDED, S.PROBATION),
    *((s, S.RETIRED) for s in S if s not in FINAL),
    *((s, S.EXPELLED) for s in S if s not in FINAL),
}


def volunteer(status: VolunteerStatus, before: VolunteerStatus | None = None) -> Volunteer:
    return Volunteer(
        id=uuid.uuid4(),
        station_id=uuid.uuid4(),
        district_id=uuid.uuid4(),
        name="张伟",
        personal=PersonalData("13800138000", "320412198001011234", "常州市武进区湖塘镇"),
        source_category=SourceCategory.PARTY_MEMBER,
        origin=Origin.APPLICATION,
        created_at=AT,
        status=status,
        status_before_suspension=before,
        # Whoever has been active holds a number and badge.
        identification=IDENT if S.ACTIVE in (status, before) else None,
    )


@pytest.mark.parametrize(("start", "target"), sorted(MANUAL))
def test_every_allowed_manual_change(start: VolunteerStatus, target: VolunteerStatus) -> None:
    before = target if start == S.SUSPENDED else None
    v = volunteer(start, before)
    change = v.change_status(target, reason="因工作调动", by=OFFICER, at=AT, identification=IDENT)
    assert v.status == target
    assert (change.from_status, change.to_status, change.by, change.at) == (
        start,
        target,
        OFFICER,
        AT,
    )
    assert v.new_changes == [change]


def test_table_matches_the_documented_lifecycle() -> None:
    by_check = {(S.APPLIED, S.VETTED), (S.APPLIED, S.REJECTED)}
    failed_rechecks = {(S.VETTED, S.REJECTED), (S.TRAINING, S.REJECTED)}
    table = {(a, b) for a, targets in ALLOWED.items() for b in targets}
    assert table == MANUAL | by_check | failed_rechecks


@pytest.mark.parametrize(
    ("start", "target"),
    [
        (S.APPLIED, S.ACTIVE),
        (S.APPLIED, S.TRAINING),
        (S.VETTED, S.PROBATION),
        (S.TRAINING, S.ACTIVE),
        (S.ACTIVE, S.PROBATION),
        (S.ACTIVE, S.TRAINING),
        (S.APPLIED, S.SUSPENDED),
        (S.RETIRED, S.ACTIVE),
        (S.EXPELLED, S.RETIRED),
        (S.REJECTED, S.APPLIED),
        (S.ACTIVE, S.ACTIVE),
    ],
)
def test_forbidden_changes(start: VolunteerStatus, target: VolunteerStatus) -> None:
    v = volunteer(start)
    with pytest.raises(VolunteerInvalidTransition) as err:
        v.change_status(target, reason="x", by=OFFICER, at=AT, identification=IDENT)
    assert err.value.code == "volunteer.invalid_transition"
    assert v.status == start
    assert v.new_changes == []


@pytest.mark.parametrize("target", [S.VETTED, S.REJECTED])
def test_vetting_outcomes_come_only_from_a_check(target: VolunteerStatus) -> None:
    with pytest.raises(VolunteerInvalidTransition):
        volunteer(S.APPLIED).change_status(target, reason="x", by=OFFICER, at=AT)


@pytest.mark.parametrize("target", [S.SUSPENDED, S.RETIRED, S.EXPELLED])
def test_reason_required(target: VolunteerStatus) -> None:
    with pytest.raises(InvalidInput) as err:
        volunteer(S.ACTIVE).change_status(target, reason="  ", by=OFFICER, at=AT)
    assert err.value.code == "volunteer.reason_required"


def test_suspension_returns_only_to_the_previous_status() -> None:
    v = volunteer(S.PROBATION)
    v.change_status(S.SUSPENDED, reason="投诉调查中", by=OFFICER, at=AT)
    assert v.status_before_suspension == S.PROBATION
    with pytest.raises(VolunteerInvalidTransition):
        v.change_status(S.ACTIVE, reason=None, by=OFFICER, at=AT, identification=IDENT)
    v.change_status(S.PROBATION, reason=None, by=OFFICER, at=AT)
    assert v.status == S.PROBATION
    assert v.status_before_suspension is None


def test_first_activation_takes_the_identification_once() -> None:
    v = volunteer(S.PROBATION)
    with pytest.raises(ValueError, match="first activation"):
        v.change_status(S.ACTIVE, reason=None, by=OFFICER, at=AT)
    v.change_status(S.ACTIVE, reason=None, by=OFFICER, at=AT, identification=IDENT)
    assert v.identification == IDENT
    assert v.activated_at == AT
    v.change_status(S.SUSPENDED, reason="暂停", by=OFFICER, at=AT)
    other = Identification("WJ-2026-000002", "u" * 32)
    v.change_status(S.ACTIVE, reason=None, by=OFFICER, at=AT, identification=other)
    assert v.identification == IDENT  # reinstatement keeps the number and badge


def check(v: Volunteer, result: CheckResult, **kw: object) -> object:
    c = new_background_check(
        volunteer_id=v.id,
        checked_by=OFFICER,
        checked_on=date(2026, 4, 30),
        result=result,
        note=kw.get("note"),  # type: ignore[arg-type]
        next_recheck_on=kw.get("next_recheck_on"),  # type: ignore[arg-type]
        recorded_at=AT,
        check_id=uuid.uuid4(),
    )
    return v.record_check(c)


@pytest.mark.parametrize(
    ("start", "result", "end"),
    [
        (S.APPLIED, CheckResult.PASSED, S.VETTED),
        (S.APPLIED, CheckResult.FAILED, S.REJECTED),
        (S.VETTED, CheckResult.PASSED, S.VETTED),
        (S.TRAINING, CheckResult.FAILED, S.REJECTED),
        (S.PROBATION, CheckResult.FAILED, S.SUSPENDED),
        (S.ACTIVE, CheckResult.PASSED, S.ACTIVE),
        (S.ACTIVE, CheckResult.FAILED, S.SUSPENDED),
        (S.SUSPENDED, CheckResult.FAILED, S.SUSPENDED),
    ],
)
def test_background_check_outcomes(
    start: VolunteerStatus, result: CheckResult, end: VolunteerStatus
) -> None:
    v = volunteer(start, S.ACTIVE if start == S.SUSPENDED else None)
    check(v, result)
    assert v.status == end
    assert len(v.new_checks) == 1
    assert len(v.new_changes) == (0 if start == end else 1)
    expected_due = date(2027, 4, 30) if result == CheckResult.PASSED else None
    assert v.next_recheck_on == expected_due


def test_failed_recheck_suspends_and_can_be_reinstated() -> None:
    v = volunteer(S.ACTIVE)
    check(v, CheckResult.FAILED, note="发现违法记录")
    assert v.status == S.SUSPENDED
    assert v.new_changes[-1].reason
    v.change_status(S.ACTIVE, reason=None, by=OFFICER, at=AT)
    assert v.status == S.ACTIVE


@pytest.mark.parametrize("start", sorted(FINAL))
def test_no_check_on_a_closed_record(start: VolunteerStatus) -> None:
    with pytest.raises(VolunteerInvalidTransition):
        check(volunteer(start), CheckResult.PASSED)


def test_explicit_recheck_date_must_follow_the_check() -> None:
    v = volunteer(S.APPLIED)
    check(v, CheckResult.PASSED, next_recheck_on=date(2026, 10, 30))
    assert v.next_recheck_on == date(2026, 10, 30)
    with pytest.raises(InvalidInput):
        check(volunteer(S.APPLIED), CheckResult.PASSED, next_recheck_on=date(2026, 4, 1))


def test_one_year_after_a_leap_day() -> None:
    assert one_year_after(date(2028, 2, 29)) == date(2029, 2, 28)
    assert one_year_after(date(2026, 4, 30)) == date(2027, 4, 30)
