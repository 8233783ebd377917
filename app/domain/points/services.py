"""Use cases of the points ledger: credit a verified report exactly once, reverse a
credit, redeem catalogue items, edit the district's rules, read balances and history.

Credits come from the outbox worker (``PointsHandlers``); the same source never credits
the same account twice for one reason, and the database decides that (unique index), so
an event delivered twice credits once. Reversals emit ``points.reversed`` (thin: source
and scope only), on which the rewards context cancels unpaid rewards of the source.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.domain.points.errors import (
    AlreadyReversed,
    EntryNotFound,
    InsufficientPoints,
    ItemNotFound,
    NotReversible,
    OutOfStock,
    RedemptionNotFound,
)
from app.domain.points.model import (
    REDEMPTION_REASON,
    Entry,
    EntryKind,
    Item,
    MergePolicy,
    PointRule,
    Redemption,
    RuleCode,
    SourceType,
    check_amounts,
    default_rule,
    reason_text,
)
from app.domain.points.ports import (
    Balance,
    EntrySlice,
    PointsUnitOfWork,
)
from app.domain.shared.clock import Clock
from app.domain.shared.errors import NotAllowed, StaleVersion, field_invalid
from app.domain.shared.events import DomainEvent
from app.domain.shared.ids import new_id
from app.domain.shared.scope import WRITING_STAFF_ROLES, Role, Scope, system_scope

UowFactory = Callable[[Scope], PointsUnitOfWork]


@dataclass(frozen=True, slots=True)
class Credit:
    """A credit to make: who, for which source, under which rule and grade."""

    account_id: uuid.UUID
    source_type: SourceType
    source_id: uuid.UUID
    code: RuleCode
    station_id: uuid.UUID | None
    district_id: uuid.UUID
    grade: str | None = None
    amount: int | None = None  # fixed by the caller (a split share); else from the rule


def _event(name: str, entry: Entry, at: datetime, **extra: Any) -> DomainEvent:
    payload = {
        "station_id": entry.station_id,
        "district_id": entry.district_id,
        "source_type": entry.source_type,
        "source_id": entry.source_id,
        "kind": entry.kind.value,
        **extra,
    }
    return DomainEvent(name, "points_entry", entry.id, at, payload)


async def current_rule(uow: PointsUnitOfWork, district_id: uuid.UUID, code: RuleCode) -> PointRule:
    """The district's latest rule; the domain default is stored as version 1 on first
    use, so every entry names a stored rule version."""
    rule = await uow.points.latest_rule(district_id, code)
    if rule is not None:
        return rule
    default = default_rule(district_id, code)
    stored = PointRule(
        district_id,
        code,
        default.amount,
        default.grade_amounts,
        default.merge_policy,
        version=1,
        id=new_id(),
    )
    await uow.points.insert_rule(stored)  # a concurrent first use may have won: re-read
    found = await uow.points.latest_rule(district_id, code)
    assert found is not None
    return found


class PointsService:
    def __init__(self, uow_factory: UowFactory, clock: Clock) -> None:
        self.uow_factory = uow_factory
        self.clock = clock

    # --- credits and reversals (the worker, and staff) -----------------------------------

    async def credit(self, credit: Credit) -> tuple[Entry | None, bool]:
        """Credit once: (entry, True) when added now, (the existing entry, False) when the
        source had credited the account for this reason already, (None, False) when the
        rule gives no points (an event must not fail and retry for that)."""
        now = self.clock.now()
        async with self.uow_factory(system_scope()) as uow:
            rule = await current_rule(uow, credit.district_id, credit.code)
            amount = credit.amount if credit.amount is not None else rule.amount_for(credit.grade)
            if amount <= 0:  # a rule of 0 points credits nothing
                return None, False
            entry = Entry(
                id=new_id(),
                account_id=credit.account_id,
                kind=EntryKind.CREDIT,
                amount=amount,
                reason=credit.code.value,
                source_type=credit.source_type.value,
                source_id=credit.source_id,
                station_id=credit.station_id,
                district_id=credit.district_id,
                rule_id=rule.id,
                rule_version=rule.version,
                note=credit.grade,
            )
            stored = await uow.points.add_entry(entry)
            added = stored.id == entry.id
            if added:
                uow.audit(
                    "points.credit",
                    "points_entry",
                    stored.id,
                    {"reason": stored.reason, "amount": stored.amount},
                )
                uow.add_event(_event("points.credited", stored, now, reason=stored.reason))
                await uow.commit()
        return stored, added

    async def reverse_source(
        self, source_type: SourceType, source_id: uuid.UUID, note: str
    ) -> list[Entry]:
        """Reverse every credit of the source not reversed yet (the report was found
        false or its outcome disputed); idempotent."""
        now = self.clock.now()
        reversals: list[Entry] = []
        async with self.uow_factory(system_scope()) as uow:
            for credit in await uow.points.credits_of(source_type.value, source_id):
                try:
                    reversal = await uow.points.add_entry(
                        credit.reversal(id=new_id(), note=note, by=None)
                    )
                except AlreadyReversed:
                    continue
                reversals.append(reversal)
                uow.audit("points.reverse", "points_entry", reversal.id, {"reverses": credit.id})
                uow.add_event(_event("points.reversed", reversal, now, note=note))
            if reversals:
                await uow.commit()
        return reversals

    async def reverse_entry(self, scope: Scope, entry_id: uuid.UUID, reason: str) -> Entry:
        """Staff of the entry's station (or district) reverse a credit."""
        note = reason_text(reason)
        now = self.clock.now()
        async with self.uow_factory(scope) as uow:
            entry = await uow.points.get_entry(entry_id)
            if entry is None or not (scope.is_staff or scope.unrestricted):
                raise EntryNotFound()
            if not _writes_at(scope, entry.station_id, entry.district_id):
                raise NotAllowed()
            if entry.kind != EntryKind.CREDIT:
                raise NotReversible()
            reversal = await uow.points.add_entry(
                entry.reversal(id=new_id(), note=note, by=scope.account_id)
            )
            uow.audit("points.reverse", "points_entry", reversal.id, {"reverses": entry.id})
            uow.add_event(_event("points.reversed", reversal, now, note="staff"))
            await uow.commit()
        return reversal.seen_by(scope.account_id)

    # --- reads --------------------------------------------------------------------------

    async def balance(self, scope: Scope) -> Balance:
        async with self.uow_factory(scope) as uow:
            return await uow.points.balance(scope.account_id)

    async def my_entries(self, scope: Scope, *, limit: int, after: uuid.UUID | None) -> EntrySlice:
        async with self.uow_factory(scope) as uow:
            return await uow.points.entries(account_id=scope.account_id, limit=limit, after=after)

    async def entries(
        self,
        scope: Scope,
        *,
        account_id: uuid.UUID | None,
        limit: int,
        after: uuid.UUID | None,
    ) -> EntrySlice:
        """Staff: entries routed into their scope, optionally of one account."""
        if not (scope.is_staff or scope.unrestricted):
            raise NotAllowed()
        async with self.uow_factory(scope) as uow:
            page = await uow.points.entries(account_id=account_id, limit=limit, after=after)
        return EntrySlice([e.seen_by(scope.account_id) for e in page.items], page.has_more)

    async def get_entry(self, scope: Scope, entry_id: uuid.UUID) -> Entry:
        async with self.uow_factory(scope) as uow:
            entry = await uow.points.get_entry(entry_id)
        if entry is None:
            raise EntryNotFound()
        return entry.seen_by(scope.account_id)

    # --- rules --------------------------------------------------------------------------

    def _district_of(
        self, scope: Scope, wanted: uuid.UUID | None, roles: tuple[Role, ...]
    ) -> uuid.UUID:
        districts = scope.districts_as(*roles)
        if wanted is not None:
            if wanted in districts or scope.unrestricted:
                return wanted
            raise NotAllowed()
        if len(districts) == 1:
            return next(iter(districts))
        if not districts:
            raise NotAllowed()
        raise field_invalid(
            "points.district_required",
            "district_id",
            "Name the district.",
            "请指定分局。",
        )

    async def rules(self, scope: Scope, district_id: uuid.UUID | None = None) -> list[PointRule]:
        """The rules in force (stored versions, or the defaults), for staff."""
        if not (scope.is_staff or scope.unrestricted):
            raise NotAllowed()
        async with self.uow_factory(scope) as uow:
            districts = set(scope.district_ids)
            if not districts:  # station staff: the district of their station(s)
                for station in scope.station_ids:
                    found = await uow.points.station_district(station)
                    if found is not None:
                        districts.add(found)
            if district_id is None:
                if len(districts) != 1:
                    raise field_invalid(
                        "points.district_required",
                        "district_id",
                        "Name the district.",
                        "请指定分局。",
                    )
                district_id = next(iter(districts))
            elif not (scope.unrestricted or district_id in districts):
                raise NotAllowed()
            stored = {r.code: r for r in await uow.points.rules(district_id)}
        return [stored.get(code) or default_rule(district_id, code) for code in RuleCode]

    async def put_rule(
        self,
        scope: Scope,
        code: RuleCode,
        *,
        amount: int,
        grade_amounts: Mapping[str, int],
        merge_policy: MergePolicy | None = None,
        district_id: uuid.UUID | None = None,
    ) -> PointRule:
        """District admins edit a rule: a new version; entries keep theirs."""
        check_amounts(amount, grade_amounts)
        district = self._district_of(scope, district_id, (Role.DISTRICT_ADMIN,))
        async with self.uow_factory(scope) as uow:
            current = await current_rule(uow, district, code)
            rule = current.revised(
                amount=amount, grade_amounts=grade_amounts, merge_policy=merge_policy, id=new_id()
            )
            if not await uow.points.insert_rule(rule):
                raise StaleVersion()
            uow.audit(
                "points.rule_put",
                "points_rule",
                rule.id,
                {"code": code.value, "version": rule.version, "amount": amount},
            )
            await uow.commit()
        return rule

    # --- catalogue and redemption ---------------------------------------------------------

    async def add_item(
        self, scope: Scope, *, station_id: uuid.UUID, name: str, price: int, stock: int
    ) -> Item:
        if not (station_id in scope.stations_as(*WRITING_STAFF_ROLES) or scope.unrestricted):
            raise NotAllowed()
        async with self.uow_factory(scope) as uow:
            district = await uow.points.station_district(station_id)
            if district is None:
                raise NotAllowed()
            item = Item.new(
                id=new_id(),
                station_id=station_id,
                district_id=district,
                name=name,
                price=price,
                stock=stock,
            )
            await uow.points.insert_item(item)
            uow.audit("points.item_add", "points_item", item.id, {"price": price, "stock": stock})
            await uow.commit()
        return item

    async def items(self, scope: Scope, station_id: uuid.UUID | None = None) -> list[Item]:
        async with self.uow_factory(scope) as uow:
            return await uow.points.items(station_id)

    async def redeem(self, scope: Scope, item_id: uuid.UUID) -> Redemption:
        """Debit the price and reserve one unit, in one transaction. The account's balance
        row is locked first, so two redemptions of one account cannot both spend the same
        points; the stock is taken by a guarded UPDATE (stock > 0)."""
        now = self.clock.now()
        async with self.uow_factory(scope) as uow:
            item = await uow.points.get_item(item_id)
            if item is None or not item.active:
                raise ItemNotFound()
            balance = await uow.points.lock_balance(scope.account_id)
            if balance < item.price:
                raise InsufficientPoints()
            if not await uow.points.take_stock(item.id):
                raise OutOfStock()
            redemption_id = new_id()
            debit = await uow.points.add_entry(
                Entry(
                    id=new_id(),
                    account_id=scope.account_id,
                    kind=EntryKind.DEBIT,
                    amount=-item.price,
                    reason=REDEMPTION_REASON,
                    source_type=SourceType.REDEMPTION.value,
                    source_id=redemption_id,
                    station_id=item.station_id,
                    district_id=item.district_id,
                    created_by=scope.account_id,
                )
            )
            redemption = Redemption(
                id=redemption_id,
                item_id=item.id,
                account_id=scope.account_id,
                station_id=item.station_id,
                district_id=item.district_id,
                price=item.price,
                debit_entry_id=debit.id,
                created_at=now,
                item_name=item.name,
            )
            await uow.points.insert_redemption(redemption)
            uow.audit("points.redeem", "points_redemption", redemption.id, {"item": item.id})
            uow.add_event(
                DomainEvent(
                    "points.redeemed",
                    "points_redemption",
                    redemption.id,
                    now,
                    {"station_id": item.station_id, "district_id": item.district_id},
                )
            )
            await uow.commit()
        return redemption

    async def redemptions(
        self, scope: Scope, *, mine: bool, limit: int, after: uuid.UUID | None
    ) -> list[Redemption]:
        if not mine and not (scope.is_staff or scope.unrestricted):
            raise NotAllowed()
        async with self.uow_factory(scope) as uow:
            return await uow.points.redemptions(
                account_id=scope.account_id if mine else None, limit=limit, after=after
            )

    async def fulfil(self, scope: Scope, redemption_id: uuid.UUID) -> Redemption:
        return await self._handle(scope, redemption_id, cancel=False)

    async def cancel(self, scope: Scope, redemption_id: uuid.UUID) -> Redemption:
        """Station staff cancel a reserved redemption: the debit is reversed (the points
        come back) and the unit returns to stock."""
        return await self._handle(scope, redemption_id, cancel=True)

    async def _handle(self, scope: Scope, redemption_id: uuid.UUID, *, cancel: bool) -> Redemption:
        now = self.clock.now()
        async with self.uow_factory(scope) as uow:
            redemption = await uow.points.get_redemption(redemption_id, for_update=True)
            if redemption is None or not (scope.is_staff or scope.unrestricted):
                raise RedemptionNotFound()
            if not _writes_at(scope, redemption.station_id, redemption.district_id):
                raise NotAllowed()
            if cancel:
                redemption.cancel(scope.account_id, now)
                debit = await uow.points.get_entry(redemption.debit_entry_id)
                assert debit is not None
                await uow.points.add_entry(
                    debit.reversal(id=new_id(), note="redemption_cancelled", by=scope.account_id)
                )
                await uow.points.return_stock(redemption.item_id)
            else:
                redemption.fulfil(scope.account_id, now)
            await uow.points.save_redemption(redemption)
            uow.audit(
                "points.redemption_" + redemption.status.value,
                "points_redemption",
                redemption.id,
            )
            await uow.commit()
        return redemption


def _writes_at(scope: Scope, station_id: uuid.UUID | None, district_id: uuid.UUID | None) -> bool:
    return scope.writes_at(station_id, district_id)
