"""Ports of the rewards context: repository, unit of work, the payment provider, and the
directories of payees and of the records rewards are for."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from app.domain.rewards.model import PayoutResult, Reward, RewardRule, RewardStatus
from app.domain.shared.scope import Scope
from app.domain.shared.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class Payee:
    account_id: uuid.UUID
    openid: str | None  # the WeChat openid under the merchant's appid, when known


@dataclass(frozen=True, slots=True)
class PayoutRequest:
    """One transfer. ``out_batch_no`` is the request id: the same reward always sends the
    same numbers, and the provider is idempotent on them."""

    out_batch_no: str
    out_detail_no: str
    payee: Payee
    amount_fen: int
    remark: str  # shown to the payee: generic, no case detail


class PaymentGateway(Protocol):
    async def transfer(self, request: PayoutRequest) -> PayoutResult:
        """Send the transfer. SUCCEEDED: paid; FAILED: refused for good (nothing was
        paid); UNKNOWN: no usable answer yet (timeout, 5xx, or accepted and still
        processing: the result comes by callback or by ``query``)."""
        ...

    async def query(self, request: PayoutRequest) -> PayoutResult:
        """What the provider knows about the request: NOT_FOUND when it never arrived."""
        ...


@dataclass(frozen=True, slots=True)
class PayoutNotice:
    """The provider's word, pushed to us, about one transfer (a callback)."""

    out_batch_no: str
    out_detail_no: str | None
    result: PayoutResult  # SUCCEEDED / FAILED are final; UNKNOWN: still processing


class UntrustedNotification(Exception):
    """A callback that cannot be trusted (signature, certificate serial, timestamp) or
    read (not decryptable, malformed): refused, so the provider sends it again.
    ``reason`` is a short machine code, safe to log and to answer."""

    def __init__(self, reason: str, *, authentic: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.authentic = authentic  # the signature held; the content did not


class PaymentNotifications(Protocol):
    async def parse(self, headers: Mapping[str, str], body: bytes) -> PayoutNotice | None:
        """Verify and decrypt a provider callback. UntrustedNotification when it is
        refused; None when it is authentic but not about a transfer result."""
        ...


class PayeeDirectory(Protocol):
    async def payee(self, account_id: uuid.UUID) -> Payee: ...


@dataclass(frozen=True, slots=True)
class SourceRef:
    station_id: uuid.UUID
    district_id: uuid.UUID
    reporter: uuid.UUID | None = None  # the named reporter (tips), when known


class RewardSources(Protocol):
    async def locate(
        self, scope: Scope, source_type: str, source_id: uuid.UUID
    ) -> SourceRef | None:
        """The station of the tip or hazard, when the caller may see it."""
        ...


@dataclass(frozen=True, slots=True)
class RewardSlice:
    items: list[Reward]
    has_more: bool


class RewardRepository(Protocol):
    """Reads are scoped: staff see rewards of their stations; a payee sees their own."""

    async def rule(self, station_id: uuid.UUID, *, for_update: bool = False) -> RewardRule:
        """The station's rule, or the defaults. ``for_update`` serialises approvals of
        one station (the budget check) by locking its rule row (created if absent)."""
        ...

    async def put_rule(self, rule: RewardRule, expected_version: int | None) -> RewardRule: ...

    async def insert(self, reward: Reward) -> None:
        """RewardExists when the source already has a live reward for the account."""
        ...

    async def get(self, reward_id: uuid.UUID, *, for_update: bool = False) -> Reward | None: ...

    async def save(self, reward: Reward) -> None: ...

    async def committed_fen(self, station_id: uuid.UUID, start: datetime, end: datetime) -> int:
        """Sum of rewards approved in [start, end) that are approved, paying, paid or
        unknown."""
        ...

    async def proposed_count(self, station_id: uuid.UUID) -> int:
        """How many of the station's rewards await approval (within the caller's scope)."""
        ...

    async def page(
        self,
        *,
        account_id: uuid.UUID | None,
        statuses: frozenset[RewardStatus] | None,
        limit: int,
        after: uuid.UUID | None,
    ) -> RewardSlice: ...

    async def of_source(self, source_type: str, source_id: uuid.UUID) -> list[uuid.UUID]:
        """Ids of the unpaid rewards of the source (whatever the scope)."""
        ...

    async def unsettled(self, before: datetime, limit: int) -> list[uuid.UUID]:
        """Rewards left ``unknown``, or ``paying`` since before ``before`` (a crashed
        worker whose event was dead-lettered): for reconciliation."""
        ...


class RewardsUnitOfWork(UnitOfWork, Protocol):
    @property
    def rewards(self) -> RewardRepository: ...
