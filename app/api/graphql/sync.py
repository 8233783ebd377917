"""GraphQL door of mobile sync: ``myChanges``, the same feed as /api/v1/me/changes (tips,
notifications, hazards, points entries, rewards, tombstones)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import strawberry

from app.api.graphql.context import Info
from app.api.graphql.hazards import HazardNode
from app.api.graphql.notifications import NotificationNode
from app.api.graphql.points import PointsEntryNode
from app.api.graphql.rewards import RewardNode
from app.api.graphql.tips import TipNode
from app.domain.sync.model import RecordType
from app.domain.sync.services import DEFAULT_LIMIT, SyncItem, SyncService

SyncRecordType = strawberry.enum(RecordType, name="SyncRecordType")


@strawberry.type(description="A tip of yours that was created or changed.")
class TipChange:
    tip: TipNode


@strawberry.type(description="A notification of yours that was created or changed.")
class NotificationChange:
    notification: NotificationNode


@strawberry.type(description="A hazard you reported (or follow) that was created or changed.")
class HazardChange:
    hazard: HazardNode


@strawberry.type(description="A points entry of yours that was added or reversed.")
class PointsEntryChange:
    points_entry: PointsEntryNode


@strawberry.type(description="A reward of yours that was proposed or changed.")
class RewardChange:
    reward: RewardNode


@strawberry.type(description="A record that was removed or is no longer visible to you.")
class Tombstone:
    type: SyncRecordType  # type: ignore[valid-type]
    uuid: UUID


AnyChange = (
    TipChange | NotificationChange | HazardChange | PointsEntryChange | RewardChange | Tombstone
)
Change = Annotated[AnyChange, strawberry.union("SyncChange")]


@strawberry.type
class MyChanges:
    changes: list[Change]
    next: str = strawberry.field(description="The token to pass as ``since`` next time")
    has_more: bool


def _change(item: SyncItem, lang: str) -> AnyChange:
    if item.tip is not None:
        return TipChange(tip=TipNode.of(item.tip))
    if item.notification is not None:
        return NotificationChange(notification=NotificationNode.of(item.notification, lang))
    if item.hazard is not None:
        return HazardChange(hazard=HazardNode.of(item.hazard))
    if item.points_entry is not None:
        return PointsEntryChange(points_entry=PointsEntryNode.of(item.points_entry))
    if item.reward is not None:
        return RewardChange(reward=RewardNode.of(item.reward))
    return Tombstone(type=item.record_type, uuid=item.record_id)


@strawberry.type
class SyncQuery:
    @strawberry.field(
        description=(
            "Your tips, notifications, hazards, points entries and rewards changed since a"
            " sync token (none: all)."
        )
    )
    async def my_changes(
        self, info: Info, since: str | None = None, first: int = DEFAULT_LIMIT
    ) -> MyChanges:
        scope = await info.context.scope()
        page = await info.context.services.get(SyncService).changes(scope, since, first)
        lang = info.context.lang
        return MyChanges(
            changes=[_change(i, lang) for i in page.items], next=page.next, has_more=page.has_more
        )
