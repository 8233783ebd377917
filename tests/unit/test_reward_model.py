"""Rules of cash rewards: amounts from the station rule, one or two approvers, the
monthly budget, approving twice, cancellation, payout numbers and settling answers."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import pytest

from app.domain.rewards.errors import BudgetExceeded, RewardInvalidTransition
from app.domain.rewards.model import (
    Approval,
    PayoutStatus,
    Reward,
    RewardRule,
    RewardStatus,
    month_bounds,
    payout_numbers,
)
from app.domain.shared.errors import InvalidInput

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
STATION = uuid.uuid4()
OFFICER, ADMIN, ADMIN2, PAYEE = (uuid.uuid4() for _ in range(4))
RULE = RewardRule(STATION, monthly_budget_fen=3000, second_approval_above_fen=1000)


def proposed(amount: int | None = None, outcome: str = "hazard_verified") -> Reward:
    return Reward.propose(
        id=uuid.uuid4(),
        station_id=STATION,
        district_id=uuid.uuid4(),
        account_id=PAYEE,
        source_type="hazard",
        source_id=uuid.uuid4(),
        outcome=outcome,
        grade=None,
        amount_fen=amount,
        rule=RULE,
        by=OFFICER,
    )


def test_a_tips_reward_names_its_payee_only_to_the_payee() -> None:
    reward = proposed(outcome="tip_valid")
    reward.source_type = "tip"
    assert reward.seen_by(PAYEE) is reward
    seen = reward.seen_by(ADMIN)
    assert (seen.account_id, seen.source_id, seen.amount_fen) == (
        None,
        reward.source_id,
        reward.amount_fen,
    )
    assert reward.payee == PAYEE  # the stored reward is unchanged
    with pytest.raises(ValueError, match="payee"):
        _ = seen.payee
    hazard = proposed()
    assert hazard.seen_by(ADMIN) is hazard  # a hazard's reporter is no secret


def test_amount_comes_from_the_rule_by_outcome_and_grade() -> None:
    assert proposed().amount_fen == 1000
    assert RULE.amount_for("tip_valid", "A") == 2000
    assert RULE.amount_for("tip_valid", None) == 1000
    with pytest.raises(InvalidInput) as none:
        proposed(outcome="unknown_outcome")
    assert none.value.code == "reward.no_rule"
    with pytest.raises(InvalidInput) as big:
        proposed(amount=RULE.max_fen + 1)
    assert big.value.code == "reward.amount_invalid"


def test_one_approval_up_to_the_threshold_and_twice_is_a_no_op() -> None:
    reward = proposed(800)
    assert reward.approve(ADMIN, T0, RULE, 0) == Approval.APPROVED
    assert reward.status == RewardStatus.APPROVED
    assert reward.approved_at == T0
    assert reward.approve(ADMIN, T0, RULE, 0) == Approval.UNCHANGED
    assert reward.approve(ADMIN2, T0, RULE, 0) == Approval.UNCHANGED
    assert reward.second_approved_by is None


def test_above_the_threshold_a_second_different_admin_approves() -> None:
    reward = proposed(1500)
    assert reward.approve(ADMIN, T0, RULE, 0) == Approval.AWAITING_SECOND
    assert reward.status == RewardStatus.PROPOSED
    assert reward.approve(ADMIN, T0, RULE, 0) == Approval.UNCHANGED  # the same admin again
    assert reward.approve(ADMIN2, T0, RULE, 0) == Approval.APPROVED
    assert (reward.first_approved_by, reward.second_approved_by) == (ADMIN, ADMIN2)


def test_budget_is_checked_on_approval() -> None:
    reward = proposed(800)
    with pytest.raises(BudgetExceeded):
        reward.approve(ADMIN, T0, RULE, committed := 2500)
    assert reward.status == RewardStatus.PROPOSED
    assert committed == 2500
    assert reward.approve(ADMIN, T0, RULE, 2200) == Approval.APPROVED  # exactly the budget


def test_cancel_only_unpaid() -> None:
    reward = proposed(800)
    assert reward.cancel("举报不实")
    assert reward.status == RewardStatus.CANCELLED
    assert not reward.cancel("again")  # cancelled already: no change
    paying = proposed(800)
    paying.approve(ADMIN, T0, RULE, 0)
    paying.start_payout(T0)
    with pytest.raises(RewardInvalidTransition):
        paying.cancel("too late")
    with pytest.raises(RewardInvalidTransition):
        proposed(800).start_payout(T0)  # not approved


def test_settle_records_the_providers_answer() -> None:
    reward = proposed(800)
    reward.approve(ADMIN, T0, RULE, 0)
    reward.start_payout(T0)
    assert reward.settle(PayoutStatus.UNKNOWN, T0, None, "timeout") == RewardStatus.UNKNOWN
    assert (
        reward.settle(PayoutStatus.SUCCEEDED, T0, "1030000071100999991182020050700019480001", None)
        == RewardStatus.PAID
    )
    with pytest.raises(RewardInvalidTransition):
        reward.settle(PayoutStatus.SUCCEEDED, T0, None, None)  # paid is final


def test_payout_numbers_are_stable_and_valid_for_wechat_pay() -> None:
    reward_id = uuid.uuid4()
    batch, detail = payout_numbers(reward_id)
    assert payout_numbers(reward_id) == (batch, detail)
    assert batch != detail
    for number in (batch, detail):
        assert re.fullmatch(r"[A-Za-z0-9]{5,32}", number)
    assert payout_numbers(uuid.uuid4())[0] != batch


def test_month_bounds_are_beijing_months() -> None:
    start, end = month_bounds(datetime(2026, 11, 30, 17, 0, tzinfo=UTC))  # 12-01 01:00 CST
    assert start.isoformat().startswith("2026-12-01T00:00:00+08")
    assert end.isoformat().startswith("2027-01-01T00:00:00+08")
