"""Ports of the points context: its repository and unit of work, and the two ways it
learns about the records that earn points (tips, hazards)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Protocol

from app.domain.points.model import Entry, Item, PointRule, Redemption, Report, RuleCode
from app.domain.shared.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class EntrySlice:
    items: list[Entry]
    has_more: bool


@dataclass(frozen=True, slots=True)
class Balance:
    account_id: uuid.UUID
    balance: int
    entries: int


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """A record that may earn points: where it is routed and its named reporters."""

    station_id: uuid.UUID | None
    district_id: uuid.UUID
    reports: tuple[Report, ...] = ()


class TipSources(Protocol):
    async def tip(self, tip_id: uuid.UUID) -> SourceRecord | None:
        """The tip's routing and, unless it is anonymous, its reporter (whatever the
        caller's scope: the worker asks on the tip's behalf)."""
        ...


class HazardReporters(Protocol):
    """Provided by the hazards context: the reports merged into a hazard (the survivor
    and its duplicates), each with its reporter. Until it is wired, ``NoHazardReporters``
    answers nothing and verified hazards earn nobody anything."""

    async def reporters(self, hazard_id: uuid.UUID) -> list[Report]: ...

    async def locate(self, hazard_id: uuid.UUID) -> tuple[uuid.UUID | None, uuid.UUID] | None:
        """(station_id, district_id) of the hazard, or None when there is no such hazard."""
        ...


class NoHazardReporters:
    async def reporters(self, hazard_id: uuid.UUID) -> list[Report]:
        return []

    async def locate(self, hazard_id: uuid.UUID) -> tuple[uuid.UUID | None, uuid.UUID] | None:
        return None


class PointsRepository(Protocol):
    """Reads of entries and redemptions are scoped: staff see those routed to their
    stations (or district); everyone sees their own. Writes are decided by the service."""

    async def latest_rule(self, district_id: uuid.UUID, code: RuleCode) -> PointRule | None: ...

    async def rules(self, district_id: uuid.UUID) -> list[PointRule]:
        """The latest version of each stored rule of the district."""
        ...

    async def insert_rule(self, rule: PointRule) -> bool:
        """Store a rule version; False when that version exists already (a race)."""
        ...

    async def add_entry(self, entry: Entry) -> Entry:
        """Append an entry. A credit or debit whose (source, account, reason) exists
        already is not added: the stored one is returned (the database decides, by its
        unique index). A reversal of an entry reversed already raises AlreadyReversed."""
        ...

    async def get_entry(self, entry_id: uuid.UUID, *, own_only: bool = False) -> Entry | None: ...

    async def credits_of(self, source_type: str, source_id: uuid.UUID) -> list[Entry]:
        """Credits of the source not yet reversed (whatever the scope)."""
        ...

    async def lock_balance(self, account_id: uuid.UUID) -> int:
        """The account's balance, its row locked until the transaction ends."""
        ...

    async def balance(self, account_id: uuid.UUID) -> Balance: ...

    async def entries(
        self, *, account_id: uuid.UUID | None, limit: int, after: uuid.UUID | None
    ) -> EntrySlice:
        """Newest first; ``account_id`` None: every account in the scope (staff)."""
        ...

    async def station_district(self, station_id: uuid.UUID) -> uuid.UUID | None: ...

    async def insert_item(self, item: Item) -> None: ...

    async def get_item(self, item_id: uuid.UUID) -> Item | None:
        """An item the caller may see: staff of its station, or its volunteers."""
        ...

    async def items(self, station_id: uuid.UUID | None) -> list[Item]: ...

    async def take_stock(self, item_id: uuid.UUID) -> bool:
        """Reserve one unit (stock > 0 and active); False when none is left."""
        ...

    async def return_stock(self, item_id: uuid.UUID) -> None: ...

    async def insert_redemption(self, redemption: Redemption) -> None: ...

    async def get_redemption(
        self, redemption_id: uuid.UUID, *, for_update: bool = False
    ) -> Redemption | None: ...

    async def save_redemption(self, redemption: Redemption) -> None: ...

    async def redemptions(
        self, *, account_id: uuid.UUID | None, limit: int, after: uuid.UUID | None
    ) -> list[Redemption]: ...


class PointsUnitOfWork(UnitOfWork, Protocol):
    @property
    def points(self) -> PointsRepository: ...
