"""The cash reward (奖励) and its rules.

proposed (by an officer) → approved (by a station admin; above the station's threshold a
second, different admin must approve too; the monthly budget is checked on the final
approval) → paying (the payout was recorded as started, before the provider is called)
→ paid / failed / unknown (the provider's answer was lost: reconciled later by a query).
Unpaid rewards (proposed or approved) are cancelled when the report is found false.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from app.domain.rewards.errors import (
    BudgetExceeded,
    RewardInvalidTransition,
)
from app.domain.shared.clock import CHINA_TZ as BEIJING
from app.domain.shared.errors import field_invalid

MAX_FEN = 100_000  # 1,000 yuan: far above any rule; a typo guard


class RewardStatus(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    PAYING = "paying"
    PAID = "paid"
    FAILED = "failed"
    UNKNOWN = "unknown"
    CANCELLED = "cancelled"


UNPAID = frozenset({RewardStatus.PROPOSED, RewardStatus.APPROVED})
# What counts against the month's budget: everything approved and not cancelled/failed.
COMMITTED = frozenset(
    {RewardStatus.APPROVED, RewardStatus.PAYING, RewardStatus.PAID, RewardStatus.UNKNOWN}
)


class Approval(StrEnum):
    APPROVED = "approved"  # final: the payout follows
    AWAITING_SECOND = "awaiting_second"  # first of two approvals recorded
    UNCHANGED = "unchanged"  # already approved (or this admin already approved): no-op


@dataclass(frozen=True, slots=True)
class RewardRule:
    """Per station: amount in fen by outcome or outcome:grade, monthly budget, and the
    amount above which a second approver is needed."""

    station_id: uuid.UUID
    amounts: Mapping[str, int] = field(
        default_factory=lambda: {
            "tip_valid": 1000,
            "tip_valid:A": 2000,
            "tip_valid:B": 1000,
            "tip_valid:C": 500,
            "hazard_verified": 1000,
        }
    )
    monthly_budget_fen: int = 100_000
    second_approval_above_fen: int = 1000
    max_fen: int = 2000
    version: int = 0  # 0: the defaults, not stored for the station yet

    def amount_for(self, outcome: str, grade: str | None) -> int | None:
        if grade is not None and f"{outcome}:{grade}" in self.amounts:
            return self.amounts[f"{outcome}:{grade}"]
        return self.amounts.get(outcome)

    def check(self) -> None:
        if not (
            0 <= self.monthly_budget_fen <= 100_000_000
            and 0 < self.max_fen <= MAX_FEN
            and 0 <= self.second_approval_above_fen <= MAX_FEN
            and all(0 < v <= self.max_fen for v in self.amounts.values())
        ):
            raise field_invalid(
                "reward.rule_invalid",
                "amounts",
                "Amounts must be positive and at most the maximum; the budget not negative.",
                "金额须为正数且不超过上限，预算不能为负。",
            )


def payout_numbers(reward_id: uuid.UUID) -> tuple[str, str]:
    """(out_batch_no, out_detail_no): stable for the reward, so a retried payout reuses
    them and the provider sees the same request (WeChat Pay: [A-Za-z0-9]{5,32})."""
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    n, text = reward_id.int, ""
    while n:
        n, rest = divmod(n, 36)
        text = digits[rest] + text
    return f"swb{text}", f"swd{text}"


def month_bounds(at: datetime) -> tuple[datetime, datetime]:
    """The Beijing calendar month containing ``at``, as [start, end) instants."""
    local = at.astimezone(BEIJING)
    first = date(local.year, local.month, 1)
    following = (first + timedelta(days=32)).replace(day=1)
    return (
        datetime.combine(first, time(), BEIJING),
        datetime.combine(following, time(), BEIJING),
    )


@dataclass(slots=True)
class Reward:
    id: uuid.UUID
    station_id: uuid.UUID
    district_id: uuid.UUID
    account_id: uuid.UUID | None  # None only as seen by others than the payee (seen_by)
    source_type: str
    source_id: uuid.UUID
    outcome: str
    grade: str | None
    amount_fen: int
    proposed_by: uuid.UUID
    out_batch_no: str
    out_detail_no: str
    status: RewardStatus = RewardStatus.PROPOSED
    first_approved_by: uuid.UUID | None = None
    second_approved_by: uuid.UUID | None = None
    approved_at: datetime | None = None
    payout_started_at: datetime | None = None
    paid_at: datetime | None = None
    provider_ref: str | None = None
    failure: str | None = None
    cancelled_reason: str | None = None
    version: int = 1
    created_at: datetime | None = None

    @property
    def payee(self) -> uuid.UUID:
        """The account paid: every reward read from the store has it."""
        if self.account_id is None:
            raise ValueError("a reward as seen by staff does not name its payee")
        return self.account_id

    def seen_by(self, viewer: uuid.UUID) -> Reward:
        """The reward as ``viewer`` may read it. A tip's reward names its payee only to the
        payee: the payee of a tip's reward is, unless the proposer named someone else, the
        tip's informant, whom only the handler may know, or others through an audited
        reveal. Staff still see the tip, the amount and the state."""
        if self.source_type != "tip" or viewer == self.account_id:
            return self
        return dataclasses.replace(self, account_id=None)

    @classmethod
    def propose(
        cls,
        *,
        id: uuid.UUID,
        station_id: uuid.UUID,
        district_id: uuid.UUID,
        account_id: uuid.UUID,
        source_type: str,
        source_id: uuid.UUID,
        outcome: str,
        grade: str | None,
        amount_fen: int | None,
        rule: RewardRule,
        by: uuid.UUID,
    ) -> Reward:
        amount = amount_fen if amount_fen is not None else rule.amount_for(outcome, grade)
        if amount is None:
            raise field_invalid(
                "reward.no_rule",
                "outcome",
                "The station has no reward amount for this outcome; give the amount.",
                "本所未设置该结果的奖励金额，请填写金额。",
            )
        if not 0 < amount <= rule.max_fen:
            raise field_invalid(
                "reward.amount_invalid",
                "amount_fen",
                f"The amount must be 1 to {rule.max_fen} fen.",
                f"奖励金额应为1至{rule.max_fen}分。",
            )
        batch, detail = payout_numbers(id)
        return cls(
            id=id,
            station_id=station_id,
            district_id=district_id,
            account_id=account_id,
            source_type=source_type,
            source_id=source_id,
            outcome=outcome,
            grade=grade,
            amount_fen=amount,
            proposed_by=by,
            out_batch_no=batch,
            out_detail_no=detail,
        )

    def needs_second(self, rule: RewardRule) -> bool:
        return self.amount_fen > rule.second_approval_above_fen

    def approve(
        self, by: uuid.UUID, at: datetime, rule: RewardRule, month_committed_fen: int
    ) -> Approval:
        """Record one approval. Approving an approved (or paid...) reward again, or the
        same admin approving twice, changes nothing. The final approval checks the
        station's monthly budget (``month_committed_fen``: approved and later this month)."""
        if self.status != RewardStatus.PROPOSED:
            if self.status in COMMITTED:
                return Approval.UNCHANGED
            raise RewardInvalidTransition()
        if self.first_approved_by == by:
            return Approval.UNCHANGED
        if self.needs_second(rule) and self.first_approved_by is None:
            self._check_budget(rule, month_committed_fen)
            self.first_approved_by = by
            return Approval.AWAITING_SECOND
        self._check_budget(rule, month_committed_fen)
        if self.first_approved_by is None:
            self.first_approved_by = by
        else:
            self.second_approved_by = by
        self.status = RewardStatus.APPROVED
        self.approved_at = at
        return Approval.APPROVED

    def _check_budget(self, rule: RewardRule, committed: int) -> None:
        if committed + self.amount_fen > rule.monthly_budget_fen:
            raise BudgetExceeded()

    def cancel(self, reason: str) -> bool:
        """Cancel an unpaid reward; False (no change) when cancelled already."""
        if self.status == RewardStatus.CANCELLED:
            return False
        if self.status not in UNPAID:
            raise RewardInvalidTransition()
        self.status = RewardStatus.CANCELLED
        self.cancelled_reason = reason
        return True

    def start_payout(self, at: datetime) -> None:
        if self.status != RewardStatus.APPROVED:
            raise RewardInvalidTransition()
        self.status = RewardStatus.PAYING
        self.payout_started_at = at

    def settle(
        self, outcome: PayoutStatus, at: datetime, ref: str | None, failure: str | None
    ) -> RewardStatus:
        """Record the provider's answer to a started payout (paying or unknown)."""
        if self.status not in (RewardStatus.PAYING, RewardStatus.UNKNOWN):
            raise RewardInvalidTransition()
        if outcome == PayoutStatus.SUCCEEDED:
            self.status = RewardStatus.PAID
            self.paid_at = at
        elif outcome == PayoutStatus.FAILED:
            self.status = RewardStatus.FAILED
            self.failure = failure
        else:
            self.status = RewardStatus.UNKNOWN
        self.provider_ref = ref or self.provider_ref
        return self.status


class PayoutStatus(StrEnum):
    """The provider's answer about one transfer."""

    SUCCEEDED = "succeeded"  # accepted and final (or accepted where nothing can undo it)
    FAILED = "failed"  # refused or failed for good: nothing was paid
    UNKNOWN = "unknown"  # no answer (timeout) or still processing: ask again later
    NOT_FOUND = "not_found"  # (query only) the provider never received the request


@dataclass(frozen=True, slots=True)
class PayoutResult:
    status: PayoutStatus
    provider_ref: str | None = None
    failure: str | None = None
