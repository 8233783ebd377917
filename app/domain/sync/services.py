"""Mobile sync: the caller's changed tips and notifications since a token, with
tombstones for records that are gone or no longer visible to them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from app.domain.notifications.model import Notification
from app.domain.notifications.services import NotificationService
from app.domain.shared.errors import Unauthenticated
from app.domain.shared.scope import SYSTEM_ACCOUNT_ID, Scope
from app.domain.sync.model import Change, Op, RecordType, decode_token, encode_token
from app.domain.sync.ports import ChangeFeed
from app.domain.tips.services import TipService, TipView

DEFAULT_LIMIT = 100
MAX_LIMIT = 500


@dataclass(frozen=True, slots=True)
class SyncItem:
    """One record's latest state in the page: ``tip`` or ``notification`` set for an
    upsert, neither for a delete tombstone."""

    record_type: RecordType
    record_id: uuid.UUID
    op: Op
    tip: TipView | None = None
    notification: Notification | None = None


@dataclass(frozen=True, slots=True)
class SyncPage:
    items: list[SyncItem]
    next: str
    has_more: bool


class SyncService:
    def __init__(
        self, feed: ChangeFeed, tips: TipService, notifications: NotificationService
    ) -> None:
        self.feed = feed
        self.tips = tips
        self.notifications = notifications

    async def changes(
        self, scope: Scope, since: str | None, limit: int = DEFAULT_LIMIT
    ) -> SyncPage:
        if scope.unrestricted or scope.account_id == SYSTEM_ACCOUNT_ID:
            raise Unauthenticated()  # a feed belongs to a signed-in account
        start = decode_token(since)
        limit = max(1, min(limit, MAX_LIMIT))
        page = await self.feed.read(scope, start, limit)
        if not page.changes:
            return SyncPage([], encode_token(start), False)
        # Several changes of one record in a page collapse to the latest.
        latest: dict[tuple[RecordType, uuid.UUID], Change] = {}
        for change in page.changes:
            latest.pop((change.record_type, change.record_id), None)
            latest[(change.record_type, change.record_id)] = change
        wanted = [c for c in latest.values() if c.op == Op.UPSERT]
        tips = await self.tips.mine_by_ids(
            scope, [c.record_id for c in wanted if c.record_type == RecordType.TIP]
        )
        notes = await self.notifications.get_many(
            scope, [c.record_id for c in wanted if c.record_type == RecordType.NOTIFICATION]
        )
        items = []
        for c in latest.values():
            tip = tips.get(c.record_id) if c.record_type == RecordType.TIP else None
            note = notes.get(c.record_id) if c.record_type == RecordType.NOTIFICATION else None
            if c.op == Op.UPSERT and (tip or note):
                items.append(SyncItem(c.record_type, c.record_id, Op.UPSERT, tip, note))
            else:  # removed, or no longer visible to the caller
                items.append(SyncItem(c.record_type, c.record_id, Op.DELETE))
        return SyncPage(items, encode_token(page.changes[-1].seq), page.has_more)
