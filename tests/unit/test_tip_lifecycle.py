"""The tip lifecycle as the domain enforces it (no database)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from app.domain.shared.errors import InvalidInput
from app.domain.shared.geo import GeoPoint
from app.domain.tips.errors import TipInvalidTransition
from app.domain.tips.feedback import DEFAULT_TEMPLATES, catalogue, new_template
from app.domain.tips.model import (
    Category,
    EventKind,
    Outcome,
    Routing,
    Tip,
    TipStatus,
    Urgency,
)

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
OFFICER = uuid.uuid4()


def new_tip() -> Tip:
    return Tip(
        id=uuid.uuid4(),
        category=Category.THEFT,
        description="小区东门有人多次拉拽车门，疑似盗窃",
        location=GeoPoint(119.95, 31.70),
        urgency=Urgency.HIGH,
        anonymous=False,
        routing=Routing(uuid.uuid4(), uuid.uuid4(), None, None),
        submitted_at=NOW,
    )


def verifying_tip() -> Tip:
    tip = new_tip()
    tip.assign(OFFICER, NOW + timedelta(days=2), at=NOW, by=OFFICER)
    tip.start_verifying(at=NOW, by=OFFICER)
    return tip


def test_full_path_records_history_and_feedback() -> None:
    tip = verifying_tip()
    event = tip.record_outcome(Outcome.VALID, at=NOW, by=OFFICER)
    assert tip.status == TipStatus.VALID
    assert event.feedback == "valid"
    tip.close(at=NOW, by=OFFICER)
    assert tip.status == TipStatus.CLOSED
    assert [e.kind for e in tip.pending] == [
        EventKind.ASSIGNED,
        EventKind.VERIFYING,
        EventKind.OUTCOME,
        EventKind.CLOSED,
    ]
    assert [e.from_status for e in tip.pending] == [
        TipStatus.SUBMITTED,
        TipStatus.TRIAGED,
        TipStatus.VERIFYING,
        TipStatus.VALID,
    ]


def test_cannot_skip_steps() -> None:
    tip = new_tip()
    with pytest.raises(TipInvalidTransition):
        tip.start_verifying(at=NOW, by=OFFICER)
    with pytest.raises(TipInvalidTransition):
        tip.record_outcome(Outcome.VALID, at=NOW, by=OFFICER)
    with pytest.raises(TipInvalidTransition):
        tip.close(at=NOW, by=OFFICER)
    with pytest.raises(TipInvalidTransition):
        tip.dispute("结果不对", at=NOW)


def test_reassignment_keeps_status_and_due_must_be_future() -> None:
    tip = verifying_tip()
    other = uuid.uuid4()
    tip.assign(other, NOW + timedelta(hours=5), at=NOW, by=OFFICER)
    assert tip.status == TipStatus.VERIFYING
    assert tip.assignee_id == other
    with pytest.raises(InvalidInput) as caught:
        tip.assign(other, NOW, at=NOW, by=OFFICER)
    assert caught.value.code == "tip.due_in_past"


def test_overdue_only_while_worked_on() -> None:
    tip = new_tip()
    tip.assign(OFFICER, NOW + timedelta(hours=1), at=NOW, by=OFFICER)
    assert not tip.is_overdue(NOW)
    assert tip.is_overdue(NOW + timedelta(hours=2))
    tip.start_verifying(at=NOW, by=OFFICER)
    tip.record_outcome(Outcome.UNFOUNDED, at=NOW, by=OFFICER)
    assert not tip.is_overdue(NOW + timedelta(hours=2))


def test_duplicate_needs_other_tip_and_referral_needs_target() -> None:
    tip = verifying_tip()
    with pytest.raises(InvalidInput) as caught:
        tip.record_outcome(Outcome.DUPLICATE, at=NOW, by=OFFICER)
    assert caught.value.code == "tip.duplicate_of_required"
    with pytest.raises(InvalidInput):
        tip.record_outcome(Outcome.DUPLICATE, at=NOW, by=OFFICER, duplicate_of=tip.id)
    with pytest.raises(InvalidInput) as caught:
        tip.record_outcome(Outcome.REFERRED, at=NOW, by=OFFICER, referred_to="  ")
    assert caught.value.code == "tip.referred_to_required"
    with pytest.raises(InvalidInput) as caught:
        tip.record_outcome(Outcome.VALID, at=NOW, by=OFFICER, referred_to="禁毒大队")
    assert caught.value.code == "tip.referred_to_unexpected"
    assert tip.status == TipStatus.VERIFYING
    tip.record_outcome(Outcome.REFERRED, at=NOW, by=OFFICER, referred_to="武进分局禁毒大队")
    assert tip.referred_to == "武进分局禁毒大队"


def test_feedback_template_must_fit_the_outcome() -> None:
    tip = verifying_tip()
    with pytest.raises(InvalidInput) as caught:
        tip.record_outcome(Outcome.UNFOUNDED, at=NOW, by=OFFICER, feedback_template="valid")
    assert caught.value.code == "tip.unknown_feedback_template"
    event = tip.record_outcome(Outcome.VALID, at=NOW, by=OFFICER, feedback_template="valid_ongoing")
    assert event.feedback == "valid_ongoing"


def test_dispute_reopens_to_handler_without_naming_reporter() -> None:
    tip = verifying_tip()
    tip.record_outcome(Outcome.UNFOUNDED, at=NOW, by=OFFICER)
    tip.close(at=NOW, by=OFFICER)
    with pytest.raises(InvalidInput):
        tip.dispute("   ", at=NOW)
    tip.dispute("我昨晚又看到那个人在撬车门", at=NOW)
    assert tip.status == TipStatus.TRIAGED
    assert tip.assignee_id == OFFICER
    assert tip.outcome is None
    assert tip.disputes == 1
    last = tip.pending[-1]
    assert last.kind == EventKind.DISPUTED
    assert last.by is None


def test_templates_exist_in_both_languages_for_every_outcome() -> None:
    for template in DEFAULT_TEMPLATES.values():
        assert template.text_zh
        assert template.text_en
        assert "{" not in template.text_zh + template.text_en  # no placeholders to fill in
    assert {t.outcome for t in DEFAULT_TEMPLATES.values()} == {o.value for o in Outcome}


def test_station_wording_is_sent_and_kept_as_sent() -> None:
    own = new_template("valid", "valid", " 感谢您！线索已核实。 ", "Thanks! Verified.")
    extra = new_template(
        "valid_reward", "valid", "感谢您，可申领奖励。", "Thanks; a reward applies."
    )
    templates = catalogue([own, extra])
    tip = verifying_tip()
    event = tip.record_outcome(Outcome.VALID, at=NOW, by=OFFICER, templates=templates)
    assert event.feedback == "valid"
    assert event.feedback_text("zh-CN") == "感谢您！线索已核实。"
    assert event.feedback_text("en") == "Thanks! Verified."
    other = verifying_tip()
    chosen = other.record_outcome(
        Outcome.VALID, at=NOW, by=OFFICER, feedback_template="valid_reward", templates=templates
    )
    assert chosen.feedback_en == "Thanks; a reward applies."


@pytest.mark.parametrize(
    ("code", "outcome", "zh", "field"),
    [
        ("Bad Code", "valid", "感谢", "code"),
        ("valid", "unfounded", "感谢", "outcome"),
        ("mine", "closed", "感谢", "outcome"),
        ("mine", "valid", "  ", "text_zh"),
        ("mine", "valid", "长" * 301, "text_zh"),
    ],
)
def test_station_templates_are_checked(code: str, outcome: str, zh: str, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        new_template(code, outcome, zh, "Thanks")
    assert caught.value.fields[0].field == field


def test_category_codes_are_pinned() -> None:
    assert [c.value for c in Category] == [
        "suspicious_person",
        "suspicious_vehicle",
        "suspicious_object",
        "theft",
        "fraud",
        "drugs",
        "gambling",
        "public_order",
        "missing_person",
        "other",
    ]
