"""Repository and unit of work of the points ledger (积分).

Entries are only ever inserted. Uniqueness is the database's: a credit or debit of the
same (source, account, reason) is skipped by ``ON CONFLICT DO NOTHING`` on the partial
unique index, and a second reversal of one entry by the unique ``reverses_id``. The
balance is ``points_balances`` (kept by a trigger in the entry's transaction). Every
added entry (and the entry a reversal reverses: its ``reversed_by`` changed) is written to
the owner's sync feed in the same transaction.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.points.errors import AlreadyReversed
from app.domain.points.model import (
    Entry,
    EntryKind,
    Item,
    MergePolicy,
    PointRule,
    Redemption,
    RedemptionStatus,
    RuleCode,
)
from app.domain.points.ports import Balance, EntrySlice, PointsRepository
from app.domain.shared.clock import Clock
from app.domain.shared.scope import Scope
from app.domain.sync.model import RecordType
from app.infra.db.scoping import station_scope
from app.infra.db.sync_repo import record_account_changes
from app.infra.db.tables.organisation import org_units
from app.infra.db.tables.points import (
    points_balances,
    points_entries,
    points_items,
    points_redemptions,
    points_rules,
)
from app.infra.db.tables.volunteers import volunteers
from app.infra.db.uow import SqlUnitOfWork

e = points_entries
r = points_rules
i = points_items
d = points_redemptions
SEEING_STATUSES = ("active", "probation")


def _rule(row: Any) -> PointRule:
    return PointRule(
        district_id=row.district_id,
        code=RuleCode(row.code),
        amount=row.amount,
        grade_amounts=dict(row.grade_amounts or {}),
        merge_policy=MergePolicy(row.merge_policy or MergePolicy.FIRST_VERIFIED.value),
        version=row.version,
        id=row.id,
        created_at=row.created_at,
    )


def _entry(row: Any) -> Entry:
    return Entry(
        id=row.id,
        account_id=row.account_id,
        kind=EntryKind(row.kind),
        amount=row.amount,
        reason=row.reason,
        source_type=row.source_type,
        source_id=row.source_id,
        station_id=row.station_id,
        district_id=row.district_id,
        rule_id=row.rule_id,
        rule_version=row.rule_version,
        reverses_id=row.reverses_id,
        note=row.note,
        created_by=row.created_by,
        created_at=row.created_at,
        reversed_by=getattr(row, "reversed_by", None),
    )


def _item(row: Any) -> Item:
    return Item(
        id=row.id,
        station_id=row.station_id,
        district_id=row.district_id,
        name=row.name,
        price=row.price,
        stock=row.stock,
        active=row.active,
        version=row.version,
    )


def _redemption(row: Any) -> Redemption:
    return Redemption(
        id=row.id,
        item_id=row.item_id,
        account_id=row.account_id,
        station_id=row.station_id,
        district_id=row.district_id,
        price=row.price,
        debit_entry_id=row.debit_entry_id,
        status=RedemptionStatus(row.status),
        handled_by=row.handled_by,
        handled_at=row.handled_at,
        version=row.version,
        created_at=row.created_at,
        item_name=row.item_name,
    )


_reversal = e.alias("reversal")
_ENTRY_COLUMNS = [*e.c, _reversal.c.id.label("reversed_by")]
_ENTRIES = e.outerjoin(_reversal, _reversal.c.reverses_id == e.c.id)


class SqlPointsRepository(PointsRepository):
    def __init__(self, session: AsyncSession, scope: Scope) -> None:
        self.session = session
        self.scope = scope

    def _visible(self, station: Any, district: Any, account: Any) -> sa.ColumnElement[bool]:
        """Staff see what is routed into their scope; everyone sees their own."""
        if self.scope.unrestricted:
            return sa.true()
        own: sa.ColumnElement[bool] = account == self.scope.account_id
        if not self.scope.is_staff:
            return own
        return sa.or_(own, station_scope(station, district, self.scope))

    # --- rules ----------------------------------------------------------------------------

    async def latest_rule(self, district_id: uuid.UUID, code: RuleCode) -> PointRule | None:
        query = (
            sa.select(r)
            .where(r.c.district_id == district_id, r.c.code == code.value)
            .order_by(r.c.version.desc())
            .limit(1)
        )
        row = (await self.session.execute(query)).first()
        return _rule(row) if row else None

    async def rules(self, district_id: uuid.UUID) -> list[PointRule]:
        newer = r.alias("newer")
        query = (
            sa.select(r)
            .where(
                r.c.district_id == district_id,
                ~sa.exists().where(
                    newer.c.district_id == r.c.district_id,
                    newer.c.code == r.c.code,
                    newer.c.version > r.c.version,
                ),
            )
            .order_by(r.c.code)
        )
        return [_rule(row) for row in (await self.session.execute(query)).all()]

    async def insert_rule(self, rule: PointRule) -> bool:
        assert rule.id is not None
        stmt = (
            pg_insert(r)
            .values(
                id=rule.id,
                district_id=rule.district_id,
                code=rule.code.value,
                version=rule.version,
                amount=rule.amount,
                grade_amounts=dict(rule.grade_amounts),
                merge_policy=rule.merge_policy.value,
                created_by=self.scope.account_id if not self.scope.unrestricted else None,
            )
            .on_conflict_do_nothing()
            .returning(r.c.id)
        )
        return (await self.session.execute(stmt)).first() is not None

    # --- entries --------------------------------------------------------------------------

    async def add_entry(self, entry: Entry) -> Entry:
        values = {
            "id": entry.id,
            "account_id": entry.account_id,
            "kind": entry.kind.value,
            "amount": entry.amount,
            "reason": entry.reason,
            "source_type": entry.source_type,
            "source_id": entry.source_id,
            "rule_id": entry.rule_id,
            "rule_version": entry.rule_version,
            "reverses_id": entry.reverses_id,
            "station_id": entry.station_id,
            "district_id": entry.district_id,
            "note": entry.note,
            "created_by": entry.created_by,
        }
        if entry.kind == EntryKind.REVERSAL:
            stmt = (
                pg_insert(e).values(values).on_conflict_do_nothing(index_elements=["reverses_id"])
            )
        else:
            stmt = (
                pg_insert(e)
                .values(values)
                .on_conflict_do_nothing(
                    index_elements=["source_type", "source_id", "account_id", "reason"],
                    index_where=sa.text("kind IN ('credit', 'debit')"),
                )
            )
        row = (await self.session.execute(stmt.returning(*e.c))).first()
        if row is not None:
            added = _entry(row)
            changed = [added.id] if added.reverses_id is None else [added.id, added.reverses_id]
            await record_account_changes(
                self.session, RecordType.POINTS_ENTRY, added.account_id, changed
            )
            return added
        if entry.kind == EntryKind.REVERSAL:
            raise AlreadyReversed()
        query = sa.select(*e.c).where(
            e.c.source_type == entry.source_type,
            e.c.source_id == entry.source_id,
            e.c.account_id == entry.account_id,
            e.c.reason == entry.reason,
            e.c.kind.in_(("credit", "debit")),
        )
        return _entry((await self.session.execute(query)).one())

    async def get_entry(self, entry_id: uuid.UUID, *, own_only: bool = False) -> Entry | None:
        visible = (
            e.c.account_id == self.scope.account_id
            if own_only
            else self._visible(e.c.station_id, e.c.district_id, e.c.account_id)
        )
        query = sa.select(*_ENTRY_COLUMNS).select_from(_ENTRIES).where(e.c.id == entry_id, visible)
        row = (await self.session.execute(query)).first()
        return _entry(row) if row else None

    async def credits_of(self, source_type: str, source_id: uuid.UUID) -> list[Entry]:
        query = (
            sa.select(*_ENTRY_COLUMNS)
            .select_from(_ENTRIES)
            .where(
                e.c.source_type == source_type,
                e.c.source_id == source_id,
                e.c.kind == EntryKind.CREDIT.value,
                _reversal.c.id.is_(None),
            )
            .order_by(e.c.id)
        )
        return [_entry(row) for row in (await self.session.execute(query)).all()]

    async def lock_balance(self, account_id: uuid.UUID) -> int:
        await self.session.execute(
            pg_insert(points_balances).values(account_id=account_id).on_conflict_do_nothing()
        )
        query = (
            sa.select(points_balances.c.balance)
            .where(points_balances.c.account_id == account_id)
            .with_for_update()
        )
        return int((await self.session.execute(query)).scalar_one())

    async def balance(self, account_id: uuid.UUID) -> Balance:
        query = sa.select(points_balances.c.balance, points_balances.c.entries).where(
            points_balances.c.account_id == account_id
        )
        row = (await self.session.execute(query)).first()
        if row is None:
            return Balance(account_id, 0, 0)
        return Balance(account_id, int(row.balance), int(row.entries))

    async def entries(
        self, *, account_id: uuid.UUID | None, limit: int, after: uuid.UUID | None
    ) -> EntrySlice:
        query = (
            sa.select(*_ENTRY_COLUMNS)
            .select_from(_ENTRIES)
            .where(self._visible(e.c.station_id, e.c.district_id, e.c.account_id))
        )
        if account_id is not None:
            query = query.where(e.c.account_id == account_id)
        if after is not None:
            query = query.where(e.c.id < after)
        rows = (await self.session.execute(query.order_by(e.c.id.desc()).limit(limit + 1))).all()
        return EntrySlice([_entry(row) for row in rows[:limit]], len(rows) > limit)

    async def station_district(self, station_id: uuid.UUID) -> uuid.UUID | None:
        query = sa.select(org_units.c.district_id).where(
            org_units.c.id == station_id, org_units.c.level == "station"
        )
        found: uuid.UUID | None = (await self.session.execute(query)).scalar_one_or_none()
        return found

    # --- catalogue ------------------------------------------------------------------------

    def _item_visible(self) -> sa.ColumnElement[bool]:
        if self.scope.unrestricted:
            return sa.true()
        mine = sa.select(volunteers.c.station_id).where(
            volunteers.c.account_id == self.scope.account_id,
            volunteers.c.status.in_(SEEING_STATUSES),
        )
        as_volunteer = i.c.station_id.in_(mine)
        if not self.scope.is_staff:
            return as_volunteer
        return sa.or_(as_volunteer, station_scope(i.c.station_id, i.c.district_id, self.scope))

    async def insert_item(self, item: Item) -> None:
        await self.session.execute(
            sa.insert(i).values(
                id=item.id,
                station_id=item.station_id,
                district_id=item.district_id,
                name=item.name,
                price=item.price,
                stock=item.stock,
                active=item.active,
            )
        )

    async def get_item(self, item_id: uuid.UUID) -> Item | None:
        query = sa.select(i).where(i.c.id == item_id, self._item_visible())
        row = (await self.session.execute(query)).first()
        return _item(row) if row else None

    async def items(self, station_id: uuid.UUID | None) -> list[Item]:
        query = sa.select(i).where(self._item_visible(), i.c.active)
        if station_id is not None:
            query = query.where(i.c.station_id == station_id)
        rows = (await self.session.execute(query.order_by(i.c.price, i.c.id).limit(500))).all()
        return [_item(row) for row in rows]

    async def take_stock(self, item_id: uuid.UUID) -> bool:
        stmt = (
            sa.update(i)
            .where(i.c.id == item_id, i.c.stock > 0, i.c.active)
            .values(stock=i.c.stock - 1, version=i.c.version + 1, updated_at=sa.func.now())
            .returning(i.c.id)
        )
        return (await self.session.execute(stmt)).first() is not None

    async def return_stock(self, item_id: uuid.UUID) -> None:
        await self.session.execute(
            sa.update(i)
            .where(i.c.id == item_id)
            .values(stock=i.c.stock + 1, version=i.c.version + 1, updated_at=sa.func.now())
        )

    # --- redemptions ----------------------------------------------------------------------

    async def insert_redemption(self, redemption: Redemption) -> None:
        await self.session.execute(
            sa.insert(d).values(
                id=redemption.id,
                item_id=redemption.item_id,
                account_id=redemption.account_id,
                station_id=redemption.station_id,
                district_id=redemption.district_id,
                price=redemption.price,
                status=redemption.status.value,
                debit_entry_id=redemption.debit_entry_id,
            )
        )

    def _redemption_query(self) -> sa.Select[Any]:
        return (
            sa.select(*d.c, i.c.name.label("item_name"))
            .select_from(d.join(i, i.c.id == d.c.item_id))
            .where(self._visible(d.c.station_id, d.c.district_id, d.c.account_id))
        )

    async def get_redemption(
        self, redemption_id: uuid.UUID, *, for_update: bool = False
    ) -> Redemption | None:
        query = self._redemption_query().where(d.c.id == redemption_id)
        if for_update:
            query = query.with_for_update(of=d)
        row = (await self.session.execute(query)).first()
        return _redemption(row) if row else None

    async def save_redemption(self, redemption: Redemption) -> None:
        await self.session.execute(
            sa.update(d)
            .where(d.c.id == redemption.id)
            .values(
                status=redemption.status.value,
                handled_by=redemption.handled_by,
                handled_at=redemption.handled_at,
                version=d.c.version + 1,
                updated_at=sa.func.now(),
            )
        )
        redemption.version += 1

    async def redemptions(
        self, *, account_id: uuid.UUID | None, limit: int, after: uuid.UUID | None
    ) -> list[Redemption]:
        query = self._redemption_query()
        if account_id is not None:
            query = query.where(d.c.account_id == account_id)
        if after is not None:
            query = query.where(d.c.id < after)
        rows = (await self.session.execute(query.order_by(d.c.id.desc()).limit(limit))).all()
        return [_redemption(row) for row in rows]


class SqlPointsUnitOfWork(SqlUnitOfWork):
    points: PointsRepository

    def __init__(
        self, session_factory: async_sessionmaker[AsyncSession], scope: Scope, clock: Clock
    ) -> None:
        super().__init__(session_factory, scope, clock)

    def _open_repositories(self) -> None:
        self.points = SqlPointsRepository(self.session, self.scope)
