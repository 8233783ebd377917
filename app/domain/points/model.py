"""The points ledger (积分) and its rules.

Every entry is immutable: a credit for a verified report, a debit for a redemption, or a
reversal that references (and negates) exactly one earlier entry. Balances are derived
from the entries, never edited. Rules are per district and versioned: editing a rule
adds a version, and each entry keeps the rule id and version it was computed with.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from app.domain.points.errors import RedemptionInvalidTransition
from app.domain.shared.errors import field_invalid
from app.domain.shared.text import storable

NAME_MAX = 100
REASON_MAX = 500
MAX_AMOUNT = 100_000
GRADES = ("A", "B", "C")


class EntryKind(StrEnum):
    CREDIT = "credit"
    DEBIT = "debit"
    REVERSAL = "reversal"


class RuleCode(StrEnum):
    """Pinned codes: district admins edit the amounts, not the codes."""

    TIP_VALID = "tip_valid"  # 有效线索
    HAZARD_VERIFIED = "hazard_verified"  # 隐患核实
    HAZARD_REINSPECTION = "hazard_reinspection"  # 隐患复查


class SourceType(StrEnum):
    TIP = "tip"
    HAZARD = "hazard"
    REDEMPTION = "redemption"


REDEMPTION_REASON = "redemption"


class MergePolicy(StrEnum):
    """Who earns when duplicate reports were merged into one."""

    FIRST_VERIFIED = "first_verified"  # the reporter whose report was verified first
    FIRST_REPORTED = "first_reported"  # the earliest report
    SPLIT = "split"  # shared equally among the named reporters


@dataclass(frozen=True, slots=True)
class PointRule:
    district_id: uuid.UUID
    code: RuleCode
    amount: int
    grade_amounts: Mapping[str, int] = field(default_factory=dict)
    merge_policy: MergePolicy = MergePolicy.FIRST_VERIFIED
    version: int = 0  # 0: the domain default, not yet stored for the district
    id: uuid.UUID | None = None
    created_at: datetime | None = None

    def amount_for(self, grade: str | None) -> int:
        """The grade's amount when the rule has one, else the rule's amount."""
        if grade is not None and grade in self.grade_amounts:
            return self.grade_amounts[grade]
        return self.amount

    def revised(
        self,
        *,
        amount: int,
        grade_amounts: Mapping[str, int],
        merge_policy: MergePolicy | None,
        id: uuid.UUID,
    ) -> PointRule:
        check_amounts(amount, grade_amounts)
        return PointRule(
            district_id=self.district_id,
            code=self.code,
            amount=amount,
            grade_amounts=dict(grade_amounts),
            merge_policy=merge_policy or self.merge_policy,
            version=self.version + 1,
            id=id,
        )


def check_amounts(amount: int, grade_amounts: Mapping[str, int]) -> None:
    if not 0 <= amount <= MAX_AMOUNT:
        raise field_invalid(
            "points.amount_invalid",
            "amount",
            f"The amount must be 0 to {MAX_AMOUNT} points.",
            f"积分应为0至{MAX_AMOUNT}。",
        )
    for grade, value in grade_amounts.items():
        if grade not in GRADES or not 0 <= value <= MAX_AMOUNT:
            raise field_invalid(
                "points.grade_invalid",
                "grade_amounts",
                f"Grades are A, B or C with 0 to {MAX_AMOUNT} points each.",
                f"价值等级为A、B、C，每级积分为0至{MAX_AMOUNT}。",
            )


# Used while a district has not edited a rule (first use stores it as version 1).
DEFAULT_RULES: dict[RuleCode, tuple[int, dict[str, int]]] = {
    RuleCode.TIP_VALID: (20, {"A": 50, "B": 20, "C": 5}),
    RuleCode.HAZARD_VERIFIED: (10, {}),
    RuleCode.HAZARD_REINSPECTION: (5, {}),
}


def default_rule(district_id: uuid.UUID, code: RuleCode) -> PointRule:
    amount, grades = DEFAULT_RULES[code]
    return PointRule(district_id, code, amount, dict(grades))


@dataclass(frozen=True, slots=True)
class Report:
    """One reporter's report among merged duplicates (the hazards context provides them).
    ``account_id`` is None for anonymous reports, which earn nothing."""

    account_id: uuid.UUID | None
    reported_at: datetime
    verified_at: datetime | None = None


def earners(
    reports: Sequence[Report], policy: MergePolicy, amount: int
) -> list[tuple[uuid.UUID, int]]:
    """Who earns how much for a verified hazard whose duplicate reports were merged.

    - first_verified: the named reporter verified first (ties: reported first); when no
      report carries a verification time, the first reported;
    - first_reported: the named reporter who reported first;
    - split: ``amount`` shared equally among the distinct named reporters, the remainder
      (integer points) to the earliest reporters, one point each.
    Anonymous reports are skipped; an account reporting twice counts once."""
    named = sorted(
        (r for r in reports if r.account_id is not None),
        key=lambda r: (r.reported_at, str(r.account_id)),
    )
    if not named or amount <= 0:
        return []
    if policy == MergePolicy.SPLIT:
        accounts = list(dict.fromkeys(r.account_id for r in named if r.account_id))
        share, rest = divmod(amount, len(accounts))
        out = [(a, share + (1 if i < rest else 0)) for i, a in enumerate(accounts)]
        return [(a, n) for a, n in out if n > 0]
    first = named[0]
    if policy == MergePolicy.FIRST_VERIFIED:
        verified = [r for r in named if r.verified_at is not None]
        if verified:
            first = min(verified, key=lambda r: (r.verified_at, r.reported_at, str(r.account_id)))
    assert first.account_id is not None
    return [(first.account_id, amount)]


@dataclass(frozen=True, slots=True)
class Entry:
    id: uuid.UUID
    account_id: uuid.UUID
    kind: EntryKind
    amount: int
    reason: str
    source_type: str
    source_id: uuid.UUID | None  # None only as seen by others than the account (seen_by)
    station_id: uuid.UUID | None
    district_id: uuid.UUID | None
    rule_id: uuid.UUID | None = None
    rule_version: int | None = None
    reverses_id: uuid.UUID | None = None
    note: str | None = None
    created_by: uuid.UUID | None = None
    created_at: datetime | None = None
    reversed_by: uuid.UUID | None = None  # the reversal entry, when read with it

    def seen_by(self, viewer: uuid.UUID) -> Entry:
        """The entry as ``viewer`` may read it. A tip's credit (or its reversal) names the
        tip only to the account it credits: to staff, account and tip together would name
        the tip's informant, whom only the handler may know, or others through an audited
        reveal. Staff still see the account, the amount and the reason."""
        if self.source_type != SourceType.TIP.value or viewer == self.account_id:
            return self
        return dataclasses.replace(self, source_id=None)

    def reversal(self, *, id: uuid.UUID, note: str, by: uuid.UUID | None) -> Entry:
        """The entry that negates this one (kept on the same source and scope)."""
        return Entry(
            id=id,
            account_id=self.account_id,
            kind=EntryKind.REVERSAL,
            amount=-self.amount,
            reason=f"reversal:{self.reason}",
            source_type=self.source_type,
            source_id=self.source_id,
            station_id=self.station_id,
            district_id=self.district_id,
            reverses_id=self.id,
            note=note,
            created_by=by,
        )


def reason_text(value: str) -> str:
    text = value.strip()
    if not text or len(text) > REASON_MAX or not storable(text):
        raise field_invalid(
            "points.reason_invalid",
            "reason",
            f"Give a reason of 1 to {REASON_MAX} characters.",
            f"请填写1至{REASON_MAX}字的原因。",
        )
    return text


@dataclass(slots=True)
class Item:
    """A catalogue item of a station (兑换商品): name, point price and stock."""

    id: uuid.UUID
    station_id: uuid.UUID
    district_id: uuid.UUID
    name: str
    price: int
    stock: int
    active: bool = True
    version: int = 1

    @classmethod
    def new(
        cls,
        *,
        id: uuid.UUID,
        station_id: uuid.UUID,
        district_id: uuid.UUID,
        name: str,
        price: int,
        stock: int,
    ) -> Item:
        text = name.strip()
        if not text or len(text) > NAME_MAX or not storable(text):
            raise field_invalid(
                "points.item_name_invalid",
                "name",
                f"The name must be 1 to {NAME_MAX} characters.",
                f"名称应为1至{NAME_MAX}字。",
            )
        if not 0 < price <= MAX_AMOUNT:
            raise field_invalid(
                "points.price_invalid",
                "price",
                f"The price must be 1 to {MAX_AMOUNT} points.",
                f"兑换积分应为1至{MAX_AMOUNT}。",
            )
        if not 0 <= stock <= 1_000_000:
            raise field_invalid(
                "points.stock_invalid", "stock", "The stock must be 0 or more.", "库存不能为负。"
            )
        return cls(id, station_id, district_id, text, price, stock)


class RedemptionStatus(StrEnum):
    RESERVED = "reserved"  # points debited, stock reserved, waiting to be handed over
    FULFILLED = "fulfilled"
    CANCELLED = "cancelled"  # points credited back by a reversal, stock returned


@dataclass(slots=True)
class Redemption:
    id: uuid.UUID
    item_id: uuid.UUID
    account_id: uuid.UUID
    station_id: uuid.UUID
    district_id: uuid.UUID
    price: int
    debit_entry_id: uuid.UUID
    status: RedemptionStatus = RedemptionStatus.RESERVED
    handled_by: uuid.UUID | None = None
    handled_at: datetime | None = None
    version: int = 1
    created_at: datetime | None = None
    item_name: str | None = None

    def fulfil(self, by: uuid.UUID, at: datetime) -> None:
        self._handle(RedemptionStatus.FULFILLED, by, at)

    def cancel(self, by: uuid.UUID, at: datetime) -> None:
        self._handle(RedemptionStatus.CANCELLED, by, at)

    def _handle(self, to: RedemptionStatus, by: uuid.UUID, at: datetime) -> None:
        if self.status != RedemptionStatus.RESERVED:
            raise RedemptionInvalidTransition()
        self.status = to
        self.handled_by = by
        self.handled_at = at
