"""GraphQL door of mobile sync: ``myChanges``, the same feed as /api/v1/me/changes."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import strawberry

from app.api.graphql.context import Info
from app.api.graphql.notifications import NotificationNode
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


@strawberry.type(description="A record that was removed or is no longer visible to you.")
class Tombstone:
    type: SyncRecordType  # type: ignore[valid-type]
    uuid: UUID


Change = Annotated[TipChange | NotificationChange | Tombstone, strawberry.union("SyncChange")]


@strawberry.type
class MyChanges:
    changes: list[Change]
    next: str = strawberry.field(description="The token to pass as ``since`` next time")
    has_more: bool


def _change(item: SyncItem, lang: str) -> TipChange | NotificationChange | Tombstone:
    if item.tip is not None:
        return TipChange(tip=TipNode.of(item.tip))
    if item.notification is not None:
        return NotificationChange(notification=NotificationNode.of(item.notification, lang))
    return Tombstone(type=item.record_type, uuid=item.record_id)


@strawberry.type
class SyncQuery:
    @strawberry.field(
        description="Your tips and notifications changed since a sync token (none: all)."
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
