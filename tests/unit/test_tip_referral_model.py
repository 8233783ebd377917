"""Referral of a tip to another police station: the tip moves into that station's queue
(no database)."""

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
    StationRef,
    Tip,
    TipStatus,
    Urgency,
)

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
OFFICER = uuid.uuid4()
DISTRICT, HUTANG, COMMUNITY, GRID = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
XINCHENG = StationRef(uuid.uuid4(), DISTRICT)


def verifying_tip() -> Tip:
    tip = Tip(
        id=uuid.uuid4(),
        category=Category.FRAUD,
        description="有人在菜市场门口冒充民警收取“保证金”",
        location=GeoPoint(119.95, 31.70),
        urgency=Urgency.HIGH,
        anonymous=False,
        routing=Routing(DISTRICT, HUTANG, COMMUNITY, GRID),
        submitted_at=NOW,
    )
    tip.assign(OFFICER, NOW + timedelta(days=2), at=NOW, by=OFFICER)
    tip.start_verifying(at=NOW, by=OFFICER)
    tip.pending.clear()
    return tip


def test_referral_to_a_station_moves_the_tip_into_its_queue() -> None:
    tip = verifying_tip()
    event = tip.record_outcome(
        Outcome.REFERRED, at=NOW, by=OFFICER, referred_station=XINCHENG, referred_to="新城派出所"
    )
    assert tip.routing == Routing(DISTRICT, XINCHENG.station_id, COMMUNITY, GRID)
    assert tip.status == TipStatus.SUBMITTED
    assert (tip.assignee_id, tip.due_at, tip.outcome, tip.referred_to) == (None, None, None, None)
    assert not tip.is_overdue(NOW + timedelta(days=10))
    assert event.kind == EventKind.REFERRED
    assert (event.from_status, event.to_status, event.by) == (
        TipStatus.VERIFYING,
        TipStatus.SUBMITTED,
        OFFICER,
    )
    assert event.detail == {
        "outcome": "referred",
        "from_station_id": str(HUTANG),
        "to_station_id": str(XINCHENG.station_id),
        "referred_to": "新城派出所",
    }
    assert event.feedback == "referred"
    assert event.feedback_text("zh-CN") == DEFAULT_TEMPLATES["referred"].text_zh
    assert tip.pending == [event]


def test_the_new_station_handles_it_from_the_start() -> None:
    tip = verifying_tip()
    tip.record_outcome(Outcome.REFERRED, at=NOW, by=OFFICER, referred_station=XINCHENG)
    other = uuid.uuid4()
    tip.assign(other, NOW + timedelta(days=1), at=NOW, by=other)
    assert (tip.status, tip.assignee_id) == (TipStatus.TRIAGED, other)
    tip.start_verifying(at=NOW, by=other)
    tip.record_outcome(Outcome.VALID, at=NOW, by=other)
    assert tip.status == TipStatus.VALID


def test_referral_into_a_station_from_the_district_queue() -> None:
    tip = verifying_tip()
    tip.routing = Routing(DISTRICT, None, None, None)
    event = tip.record_outcome(Outcome.REFERRED, at=NOW, by=OFFICER, referred_station=XINCHENG)
    assert event.detail["from_station_id"] is None
    assert tip.routing.station_id == XINCHENG.station_id


def test_the_district_follows_the_new_station() -> None:
    tip = verifying_tip()
    elsewhere = StationRef(uuid.uuid4(), uuid.uuid4())
    tip.record_outcome(Outcome.REFERRED, at=NOW, by=OFFICER, referred_station=elsewhere)
    assert (tip.routing.district_id, tip.routing.station_id) == (
        elsewhere.district_id,
        elsewhere.station_id,
    )


def test_referral_to_its_own_station_is_refused_and_changes_nothing() -> None:
    tip = verifying_tip()
    with pytest.raises(InvalidInput) as caught:
        tip.record_outcome(
            Outcome.REFERRED, at=NOW, by=OFFICER, referred_station=StationRef(HUTANG, DISTRICT)
        )
    assert caught.value.code == "tip.referred_to_same_station"
    assert caught.value.fields[0].field == "referred_to_station_id"
    assert tip.status == TipStatus.VERIFYING
    assert tip.routing.station_id == HUTANG
    assert tip.assignee_id == OFFICER
    assert tip.pending == []


def test_only_a_referred_outcome_names_a_station() -> None:
    tip = verifying_tip()
    with pytest.raises(InvalidInput) as caught:
        tip.record_outcome(Outcome.VALID, at=NOW, by=OFFICER, referred_station=XINCHENG)
    assert caught.value.code == "tip.referred_station_unexpected"
    assert tip.status == TipStatus.VERIFYING


def test_referral_needs_a_verifying_tip() -> None:
    tip = verifying_tip()
    tip.record_outcome(Outcome.VALID, at=NOW, by=OFFICER)
    with pytest.raises(TipInvalidTransition):
        tip.record_outcome(Outcome.REFERRED, at=NOW, by=OFFICER, referred_station=XINCHENG)


def test_referral_elsewhere_keeps_its_free_text_rules() -> None:
    tip = verifying_tip()
    with pytest.raises(InvalidInput) as caught:
        tip.record_outcome(Outcome.REFERRED, at=NOW, by=OFFICER)
    assert caught.value.code == "tip.referred_to_required"
    with pytest.raises(InvalidInput) as caught:
        tip.record_outcome(
            Outcome.REFERRED, at=NOW, by=OFFICER, referred_station=XINCHENG, referred_to="新" * 101
        )
    assert caught.value.code == "tip.referred_to_required"
    event = tip.record_outcome(Outcome.REFERRED, at=NOW, by=OFFICER, referred_to="市场监管局")
    assert event.kind == EventKind.OUTCOME
    assert (tip.status, tip.referred_to, tip.routing.station_id) == (
        TipStatus.REFERRED,
        "市场监管局",
        HUTANG,
    )


def test_the_referring_station_words_the_feedback() -> None:
    tip = verifying_tip()
    own = new_template("referred_xc", "referred", "您的线索已移交新城派出所办理。", "Passed on.")
    event = tip.record_outcome(
        Outcome.REFERRED,
        at=NOW,
        by=OFFICER,
        referred_station=XINCHENG,
        feedback_template="referred_xc",
        templates=catalogue([own]),
    )
    assert event.feedback_text("zh-CN") == "您的线索已移交新城派出所办理。"
    with pytest.raises(InvalidInput):
        verifying_tip().record_outcome(
            Outcome.REFERRED,
            at=NOW,
            by=OFFICER,
            referred_station=XINCHENG,
            feedback_template="valid",
        )
