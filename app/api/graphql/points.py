"""GraphQL door of the points ledger (积分): balance and history, staff entries, rules,
catalogue, redeem and reverse (same service as REST)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, cast
from uuid import UUID

import strawberry
from strawberry import relay
from strawberry.dataloader import DataLoader
from strawberry.scalars import JSON

from app.api.graphql.context import Info
from app.api.graphql.errors import MutationProblem, problem_of
from app.api.graphql.relay import first_of, keyset_connection, node_uuid, resolve_scoped
from app.api.pagination import after_id
from app.domain.points.errors import EntryNotFound
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
from app.domain.points.services import PointsService
from app.domain.shared.errors import DomainError, NotFound, field_invalid
from app.domain.shared.scope import Scope

strawberry.enum(EntryKind, name="PointsEntryKind", description="credit / debit / reversal")
strawberry.enum(RuleCode, name="PointRuleCode", description="What earns points")
strawberry.enum(MergePolicy, name="MergePolicy", description="Who earns for merged reports")
strawberry.enum(RedemptionStatus, name="RedemptionStatus", description="Redemption status")


def entry_loader(info: Info) -> DataLoader[UUID, Entry | None]:
    service = info.context.services.get(PointsService)

    async def fetch(scope: Scope, keys: list[UUID]) -> dict[UUID, Entry]:
        found: dict[UUID, Entry] = {}
        for key in keys:
            try:
                found[key] = await service.get_entry(scope, key)
            except NotFound:
                continue
        return found

    return info.context.scoped_loader("points.entry_by_id", fetch)


@strawberry.type(name="PointsEntry", description="One entry of the points ledger (积分).")
class PointsEntryNode(relay.Node):
    id: relay.NodeID[str]
    uuid: UUID
    account_id: UUID
    kind: EntryKind
    amount: int
    reason: str
    source_type: str
    source_id: UUID | None = strawberry.field(
        description="The tip or hazard credited. A tip's is shown only to the account "
        "credited: to staff it would name the tip's informant."
    )
    rule_version: int | None
    reverses_id: UUID | None
    reversed_by: UUID | None
    created_at: datetime | None

    @classmethod
    def of(cls, e: Entry) -> PointsEntryNode:
        return cls(
            id=str(e.id),
            uuid=e.id,
            account_id=e.account_id,
            kind=e.kind,
            amount=e.amount,
            reason=e.reason,
            source_type=e.source_type,
            source_id=e.source_id,
            rule_version=e.rule_version,
            reverses_id=e.reverses_id,
            reversed_by=e.reversed_by,
            created_at=e.created_at,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[PointsEntryNode | None]:
        return await resolve_scoped(node_ids, entry_loader(info), cls.of, EntryNotFound, required)


@strawberry.type(name="PointRule")
class PointRuleType:
    code: RuleCode
    version: int
    amount: int
    grade_amounts: JSON
    merge_policy: MergePolicy

    @classmethod
    def of(cls, r: PointRule) -> PointRuleType:
        return cls(
            code=r.code,
            version=r.version,
            amount=r.amount,
            grade_amounts=cast(JSON, dict(r.grade_amounts)),
            merge_policy=r.merge_policy,
        )


@strawberry.type(name="PointItem")
class PointItemType:
    id: UUID
    station_id: UUID
    name: str
    price: int
    stock: int

    @classmethod
    def of(cls, i: Item) -> PointItemType:
        return cls(id=i.id, station_id=i.station_id, name=i.name, price=i.price, stock=i.stock)


@strawberry.type(name="Redemption")
class RedemptionType:
    id: UUID
    item_id: UUID
    item_name: str | None
    price: int
    status: RedemptionStatus
    created_at: datetime | None

    @classmethod
    def of(cls, r: Redemption) -> RedemptionType:
        return cls(
            id=r.id,
            item_id=r.item_id,
            item_name=r.item_name,
            price=r.price,
            status=r.status,
            created_at=r.created_at,
        )


@strawberry.type
class MyPoints:
    balance: int

    @strawberry.field(description="Your ledger entries, newest first.")
    async def entries(
        self, info: Info, first: int = 50, after: str | None = None
    ) -> relay.Connection[PointsEntryNode]:
        scope = await info.context.scope()
        page = await info.context.services.get(PointsService).my_entries(
            scope, limit=first_of(first), after=after_id(after)
        )
        return keyset_connection(page.items, PointsEntryNode.of, more=page.has_more)


@strawberry.type
class PointsQuery:
    @strawberry.field(description="Your points balance and history.")
    async def my_points(self, info: Info) -> MyPoints:
        scope = await info.context.scope()
        balance = await info.context.services.get(PointsService).balance(scope)
        return MyPoints(balance=balance.balance)

    @strawberry.field(description="Ledger entries in your jurisdiction (staff).")
    async def points_entries(
        self,
        info: Info,
        account_id: UUID | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> relay.Connection[PointsEntryNode]:
        scope = await info.context.scope()
        page = await info.context.services.get(PointsService).entries(
            scope, account_id=account_id, limit=first_of(first), after=after_id(after)
        )
        return keyset_connection(page.items, PointsEntryNode.of, more=page.has_more)

    @strawberry.field(description="The district's point rules in force (staff).")
    async def point_rules(
        self, info: Info, district_id: relay.GlobalID | None = None
    ) -> list[PointRuleType]:
        scope = await info.context.scope()
        district = node_uuid(district_id, "OrgUnit", NotFound) if district_id else None
        rules = await info.context.services.get(PointsService).rules(scope, district)
        return [PointRuleType.of(r) for r in rules]

    @strawberry.field(description="Catalogue items you may redeem (or manage).")
    async def point_items(
        self, info: Info, station_id: relay.GlobalID | None = None
    ) -> list[PointItemType]:
        scope = await info.context.scope()
        station = node_uuid(station_id, "OrgUnit", NotFound) if station_id else None
        items = await info.context.services.get(PointsService).items(scope, station)
        return [PointItemType.of(i) for i in items]


@strawberry.type
class RedeemPayload:
    redemption: RedemptionType


@strawberry.type
class PointsEntryPayload:
    entry: PointsEntryNode


@strawberry.type
class PointRulePayload:
    rule: PointRuleType


RedeemResult = Annotated[RedeemPayload | MutationProblem, strawberry.union("RedeemResult")]
PointsEntryResult = Annotated[
    PointsEntryPayload | MutationProblem, strawberry.union("PointsEntryResult")
]
PointRuleResult = Annotated[PointRulePayload | MutationProblem, strawberry.union("PointRuleResult")]


@strawberry.type
class PointsMutation:
    @strawberry.mutation(description="Redeem a catalogue item with your points.")
    async def redeem_points(self, info: Info, item_id: UUID) -> RedeemResult:
        scope = await info.context.scope()
        try:
            redemption = await info.context.services.get(PointsService).redeem(scope, item_id)
        except DomainError as e:
            return problem_of(e, info.context.lang)
        return RedeemPayload(redemption=RedemptionType.of(redemption))

    @strawberry.mutation(description="Reverse a credit (staff); once only.")
    async def reverse_points_entry(
        self, info: Info, id: relay.GlobalID, reason: str
    ) -> PointsEntryResult:
        scope = await info.context.scope()
        try:
            entry = await info.context.services.get(PointsService).reverse_entry(
                scope, node_uuid(id, "PointsEntry", EntryNotFound), reason
            )
        except DomainError as e:
            return problem_of(e, info.context.lang)
        return PointsEntryPayload(entry=PointsEntryNode.of(entry))

    @strawberry.mutation(description="Edit a point rule (district admins): a new version.")
    async def put_point_rule(
        self,
        info: Info,
        code: RuleCode,
        amount: int,
        grade_amounts: JSON | None = None,
        merge_policy: MergePolicy | None = None,
    ) -> PointRuleResult:
        scope = await info.context.scope()
        raw: dict[object, object] = grade_amounts if isinstance(grade_amounts, dict) else {}
        try:
            grades = {str(k): v for k, v in raw.items() if isinstance(v, int)}
            if len(grades) != len(raw):
                raise field_invalid(
                    "points.grade_invalid",
                    "grade_amounts",
                    "Grade amounts are whole numbers of points.",
                    "价值等级积分须为整数。",
                )
            rule = await info.context.services.get(PointsService).put_rule(
                scope,
                code,
                amount=amount,
                grade_amounts=grades,
                merge_policy=merge_policy,
            )
        except DomainError as e:
            return problem_of(e, info.context.lang)
        return PointRulePayload(rule=PointRuleType.of(rule))
