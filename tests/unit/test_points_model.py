"""Rules of the points ledger: rule amounts by grade, versioned edits, reversals, and who
earns when duplicate reports were merged (``earners``)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from app.domain.points.model import (
    Entry,
    EntryKind,
    Item,
    MergePolicy,
    PointRule,
    Redemption,
    Report,
    RuleCode,
    default_rule,
    earners,
    reason_text,
)
from app.domain.shared.errors import Conflict, InvalidInput

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
A, B, C = (uuid.UUID(int=n) for n in (1, 2, 3))
DISTRICT = uuid.uuid4()


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_default_tip_rule_pays_by_value_grade() -> None:
    rule = default_rule(DISTRICT, RuleCode.TIP_VALID)
    assert (rule.amount_for("A"), rule.amount_for("B"), rule.amount_for("C")) == (50, 20, 5)
    assert rule.amount_for(None) == 20
    assert rule.amount_for("Z") == 20  # unknown grade: the rule's base amount
    assert rule.version == 0
    assert rule.merge_policy == MergePolicy.FIRST_VERIFIED


def test_editing_a_rule_adds_a_version_and_checks_amounts() -> None:
    v1 = PointRule(DISTRICT, RuleCode.HAZARD_VERIFIED, 10, version=1, id=uuid.uuid4())
    v2 = v1.revised(amount=15, grade_amounts={}, merge_policy=MergePolicy.SPLIT, id=uuid.uuid4())
    assert (v2.version, v2.amount, v2.merge_policy) == (2, 15, MergePolicy.SPLIT)
    assert v1.amount == 10  # the old version is untouched
    with pytest.raises(InvalidInput) as bad:
        v1.revised(amount=-1, grade_amounts={}, merge_policy=None, id=uuid.uuid4())
    assert bad.value.code == "points.amount_invalid"
    with pytest.raises(InvalidInput) as grade:
        v1.revised(amount=5, grade_amounts={"D": 3}, merge_policy=None, id=uuid.uuid4())
    assert grade.value.code == "points.grade_invalid"


def test_first_verified_reporter_earns_by_default() -> None:
    reports = [
        Report(A, reported_at=at(0), verified_at=at(30)),
        Report(B, reported_at=at(5), verified_at=at(10)),  # reported later, verified first
        Report(None, reported_at=at(-5), verified_at=at(1)),  # anonymous: never earns
    ]
    assert earners(reports, MergePolicy.FIRST_VERIFIED, 10) == [(B, 10)]


def test_first_verified_falls_back_to_first_reported() -> None:
    reports = [Report(B, reported_at=at(5)), Report(A, reported_at=at(0))]
    assert earners(reports, MergePolicy.FIRST_VERIFIED, 10) == [(A, 10)]


def test_first_reported_policy() -> None:
    reports = [
        Report(A, reported_at=at(3), verified_at=at(4)),
        Report(B, reported_at=at(1), verified_at=at(9)),
    ]
    assert earners(reports, MergePolicy.FIRST_REPORTED, 10) == [(B, 10)]


def test_split_shares_equally_with_remainder_to_the_earliest() -> None:
    reports = [
        Report(C, reported_at=at(2)),
        Report(A, reported_at=at(0)),
        Report(B, reported_at=at(1)),
        Report(A, reported_at=at(7)),  # the same person twice counts once
        Report(None, reported_at=at(-1)),
    ]
    assert earners(reports, MergePolicy.SPLIT, 10) == [(A, 4), (B, 3), (C, 3)]
    assert sum(n for _, n in earners(reports, MergePolicy.SPLIT, 10)) == 10
    assert earners(reports, MergePolicy.SPLIT, 2) == [(A, 1), (B, 1)]  # no zero shares


def test_nobody_earns_without_named_reporters_or_points() -> None:
    assert earners([Report(None, reported_at=at(0))], MergePolicy.FIRST_VERIFIED, 10) == []
    assert earners([Report(A, reported_at=at(0))], MergePolicy.SPLIT, 0) == []
    assert earners([], MergePolicy.FIRST_REPORTED, 10) == []


def test_reversal_negates_and_references_the_entry() -> None:
    credit = Entry(
        id=uuid.uuid4(),
        account_id=A,
        kind=EntryKind.CREDIT,
        amount=20,
        reason="tip_valid",
        source_type="tip",
        source_id=uuid.uuid4(),
        station_id=uuid.uuid4(),
        district_id=DISTRICT,
        rule_id=uuid.uuid4(),
        rule_version=3,
    )
    reversal = credit.reversal(id=uuid.uuid4(), note="经复核线索不实", by=B)
    assert reversal.kind == EntryKind.REVERSAL
    assert reversal.amount == -20
    assert reversal.reverses_id == credit.id
    assert (reversal.source_type, reversal.source_id) == (credit.source_type, credit.source_id)
    assert reversal.station_id == credit.station_id


def test_a_tips_entry_names_the_tip_only_to_the_account_credited() -> None:
    tip = uuid.uuid4()
    credit = Entry(uuid.uuid4(), A, EntryKind.CREDIT, 20, "tip_valid", "tip", tip, None, DISTRICT)
    assert credit.seen_by(A) is credit
    hidden = credit.seen_by(B)
    assert (hidden.account_id, hidden.amount, hidden.source_type, hidden.source_id) == (
        A,
        20,
        "tip",
        None,
    )
    reversal = credit.reversal(id=uuid.uuid4(), note="经复核线索不实", by=B)
    assert reversal.seen_by(B).source_id is None
    hazard = Entry(uuid.uuid4(), A, EntryKind.CREDIT, 5, "hazard", "hazard", tip, None, DISTRICT)
    assert hazard.seen_by(B) is hazard  # a hazard's reporter is no secret


def test_reason_text_is_required() -> None:
    assert reason_text("  经复核线索不实 ") == "经复核线索不实"
    with pytest.raises(InvalidInput):
        reason_text("   ")


def test_catalogue_item_and_redemption_lifecycle() -> None:
    with pytest.raises(InvalidInput):
        Item.new(id=A, station_id=B, district_id=C, name="帆布袋", price=0, stock=1)
    item = Item.new(id=A, station_id=B, district_id=C, name=" 反诈宣传帆布袋 ", price=100, stock=3)
    assert item.name == "反诈宣传帆布袋"
    redemption = Redemption(uuid.uuid4(), item.id, A, B, C, 100, uuid.uuid4())
    redemption.fulfil(B, T0)
    with pytest.raises(Conflict):
        redemption.cancel(B, T0)  # handed over: no more changes
