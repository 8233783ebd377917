"""REST shapes of the points ledger (积分) and cash rewards (奖励)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.domain.points.model import (
    MAX_AMOUNT,
    NAME_MAX,
    REASON_MAX,
    Entry,
    EntryKind,
    Item,
    MergePolicy,
    PointRule,
    Redemption,
    RedemptionStatus,
    RuleCode,
)
from app.domain.rewards.model import Reward, RewardRule, RewardStatus
from app.domain.rewards.services import Budget


class EntryOut(BaseModel):
    id: uuid.UUID
    account_id: uuid.UUID
    kind: EntryKind
    amount: int
    reason: str
    source_type: str
    source_id: uuid.UUID | None = Field(
        description="The tip or hazard credited. A tip's is shown only to the account "
        "credited: to staff it would name the tip's informant"
    )
    rule_id: uuid.UUID | None
    rule_version: int | None
    reverses_id: uuid.UUID | None
    reversed_by: uuid.UUID | None
    station_id: uuid.UUID | None
    created_at: datetime | None

    @classmethod
    def of(cls, e: Entry) -> EntryOut:
        return cls(
            id=e.id,
            account_id=e.account_id,
            kind=e.kind,
            amount=e.amount,
            reason=e.reason,
            source_type=e.source_type,
            source_id=e.source_id,
            rule_id=e.rule_id,
            rule_version=e.rule_version,
            reverses_id=e.reverses_id,
            reversed_by=e.reversed_by,
            station_id=e.station_id,
            created_at=e.created_at,
        )


class MyPointsOut(BaseModel):
    balance: int
    items: list[EntryOut]
    next_cursor: str | None = None


class ReverseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=REASON_MAX, examples=["经复核该线索不实"])


class RuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: int = Field(ge=0, le=MAX_AMOUNT, examples=[20])
    grade_amounts: dict[str, int] = Field(default_factory=dict, examples=[{"A": 50, "B": 20}])
    merge_policy: MergePolicy | None = None
    district_id: uuid.UUID | None = None


class RuleOut(BaseModel):
    id: uuid.UUID | None
    district_id: uuid.UUID
    code: RuleCode
    version: int = Field(description="0: the default, not yet edited or used")
    amount: int
    grade_amounts: dict[str, int]
    merge_policy: MergePolicy

    @classmethod
    def of(cls, r: PointRule) -> RuleOut:
        return cls(
            id=r.id,
            district_id=r.district_id,
            code=r.code,
            version=r.version,
            amount=r.amount,
            grade_amounts=dict(r.grade_amounts),
            merge_policy=r.merge_policy,
        )


class ItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    station_id: uuid.UUID
    name: str = Field(min_length=1, max_length=NAME_MAX, examples=["反诈宣传帆布袋"])
    price: int = Field(ge=1, le=MAX_AMOUNT, examples=[100])
    stock: int = Field(ge=0, le=1_000_000, examples=[20])


class ItemOut(BaseModel):
    id: uuid.UUID
    station_id: uuid.UUID
    name: str
    price: int
    stock: int

    @classmethod
    def of(cls, i: Item) -> ItemOut:
        return cls(id=i.id, station_id=i.station_id, name=i.name, price=i.price, stock=i.stock)


class RedeemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    item_id: uuid.UUID


class RedemptionOut(BaseModel):
    id: uuid.UUID
    item_id: uuid.UUID
    item_name: str | None
    account_id: uuid.UUID
    station_id: uuid.UUID
    price: int
    status: RedemptionStatus
    debit_entry_id: uuid.UUID
    handled_at: datetime | None
    created_at: datetime | None

    @classmethod
    def of(cls, r: Redemption) -> RedemptionOut:
        return cls(
            id=r.id,
            item_id=r.item_id,
            item_name=r.item_name,
            account_id=r.account_id,
            station_id=r.station_id,
            price=r.price,
            status=r.status,
            debit_entry_id=r.debit_entry_id,
            handled_at=r.handled_at,
            created_at=r.created_at,
        )


class RewardIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source_type: str = Field(pattern="^(tip|hazard)$", examples=["tip"])
    source_id: uuid.UUID
    account_id: uuid.UUID | None = Field(
        default=None, description="Who is rewarded; default: the report's named reporter"
    )
    outcome: str = Field(min_length=1, max_length=50, examples=["tip_valid"])
    grade: str | None = Field(default=None, pattern="^[ABC]$")
    amount_fen: int | None = Field(default=None, ge=1, le=100_000)


class CancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=200, examples=["经核实举报不实"])


class RewardOut(BaseModel):
    id: uuid.UUID
    station_id: uuid.UUID
    account_id: uuid.UUID | None = Field(
        description="The payee. A tip's reward names it only to the payee: to staff it "
        "would name the tip's informant"
    )
    source_type: str
    source_id: uuid.UUID
    outcome: str
    grade: str | None
    amount_fen: int
    status: RewardStatus
    proposed_by: uuid.UUID
    first_approved_by: uuid.UUID | None
    second_approved_by: uuid.UUID | None
    approved_at: datetime | None
    paid_at: datetime | None
    cancelled_reason: str | None
    version: int

    @classmethod
    def of(cls, r: Reward) -> RewardOut:
        return cls(
            id=r.id,
            station_id=r.station_id,
            account_id=r.account_id,
            source_type=r.source_type,
            source_id=r.source_id,
            outcome=r.outcome,
            grade=r.grade,
            amount_fen=r.amount_fen,
            status=r.status,
            proposed_by=r.proposed_by,
            first_approved_by=r.first_approved_by,
            second_approved_by=r.second_approved_by,
            approved_at=r.approved_at,
            paid_at=r.paid_at,
            cancelled_reason=r.cancelled_reason,
            version=r.version,
        )


class MyRewardOut(BaseModel):
    """What the payee sees: amount and status, not who proposed or approved."""

    id: uuid.UUID
    source_type: str
    source_id: uuid.UUID
    amount_fen: int
    status: RewardStatus
    paid_at: datetime | None

    @classmethod
    def of(cls, r: Reward) -> MyRewardOut:
        return cls(
            id=r.id,
            source_type=r.source_type,
            source_id=r.source_id,
            amount_fen=r.amount_fen,
            status=r.status,
            paid_at=r.paid_at,
        )


class RewardRuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amounts: dict[str, int] = Field(examples=[{"hazard_verified": 1000, "tip_valid:A": 2000}])
    monthly_budget_fen: int = Field(ge=0, le=100_000_000)
    second_approval_above_fen: int = Field(ge=0, le=100_000)
    max_fen: int = Field(ge=1, le=100_000)


class RewardRuleOut(BaseModel):
    station_id: uuid.UUID
    amounts: dict[str, int]
    monthly_budget_fen: int
    second_approval_above_fen: int
    max_fen: int
    version: int

    @classmethod
    def of(cls, r: RewardRule) -> RewardRuleOut:
        return cls(
            station_id=r.station_id,
            amounts=dict(r.amounts),
            monthly_budget_fen=r.monthly_budget_fen,
            second_approval_above_fen=r.second_approval_above_fen,
            max_fen=r.max_fen,
            version=r.version,
        )


class BudgetOut(BaseModel):
    station_id: uuid.UUID
    month_start: str
    budget_fen: int
    committed_fen: int
    remaining_fen: int
    pending_approvals: int
    rule: RewardRuleOut

    @classmethod
    def of(cls, b: Budget) -> BudgetOut:
        return cls(
            station_id=b.station_id,
            month_start=b.month_start,
            budget_fen=b.budget_fen,
            committed_fen=b.committed_fen,
            remaining_fen=b.remaining_fen,
            pending_approvals=b.pending_count,
            rule=RewardRuleOut.of(b.rule),
        )
