"""Mobile sync: the caller's changed tips, notifications, hazards, points entries and
rewards since a token, with tombstones for records that are gone or no longer visible to
them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from app.domain.hazards.services import HazardService, HazardView
from app.domain.notifications.model import Notification, own_account
from app.domain.notifications.services import NotificationService
from app.domain.points.model import Entry
from app.domain.rewards.model import Reward
from app.domain.shared.scope import Scope
from app.domain.sync.model import Change, Op, RecordType, decode_token, encode_token
from app.domain.sync.ports import ChangeFeed, OwnRecords
from app.domain.tips.services import TipService, TipView

DEFAULT_LIMIT = 100
MAX_LIMIT = 500


@dataclass(frozen=True, slots=True)
class SyncItem:
    """One record's latest state in the page: for an upsert, the field of its type is
    set (``tip``, ``notification``, ``hazard``, ``points_entry`` or ``reward``); none for
    a delete tombstone."""

    record_type: RecordType
    record_id: uuid.UUID
    op: Op
    tip: TipView | None = None
    notification: Notification | None = None
    hazard: HazardView | None = None
    points_entry: Entry | None = None
    reward: Reward | None = None


@dataclass(frozen=True, slots=True)
class SyncPage:
    items: list[SyncItem]
    next: str
    has_more: bool


class SyncService:
    def __init__(
        self,
        feed: ChangeFeed,
        tips: TipService,
        notifications: NotificationService,
        hazards: HazardService,
        own: OwnRecords,
    ) -> None:
        self.feed = feed
        self.tips = tips
        self.notifications = notifications
        self.hazards = hazards
        self.own = own

    async def changes(
        self, scope: Scope, since: str | None, limit: int = DEFAULT_LIMIT
    ) -> SyncPage:
        own_account(scope)  # a feed belongs to a signed-in account
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
        wanted: dict[RecordType, list[uuid.UUID]] = {t: [] for t in RecordType}
        for c in latest.values():
            if c.op == Op.UPSERT:
                wanted[c.record_type].append(c.record_id)
        tips = await self.tips.mine_by_ids(scope, wanted[RecordType.TIP])
        notes = await self.notifications.get_many(scope, wanted[RecordType.NOTIFICATION])
        hazards = await self.hazards.mine_by_ids(scope, wanted[RecordType.HAZARD])
        entries = await self.own.points_entries(scope, wanted[RecordType.POINTS_ENTRY])
        rewards = await self.own.rewards(scope, wanted[RecordType.REWARD])
        items = []
        for c in latest.values():
            t, rid = c.record_type, c.record_id
            item = SyncItem(
                t,
                rid,
                Op.UPSERT,
                tip=tips.get(rid) if t == RecordType.TIP else None,
                notification=notes.get(rid) if t == RecordType.NOTIFICATION else None,
                hazard=hazards.get(rid) if t == RecordType.HAZARD else None,
                points_entry=entries.get(rid) if t == RecordType.POINTS_ENTRY else None,
                reward=rewards.get(rid) if t == RecordType.REWARD else None,
            )
            found = (item.tip, item.notification, item.hazard, item.points_entry, item.reward)
            if c.op == Op.UPSERT and any(x is not None for x in found):
                items.append(item)
            else:  # removed, or no longer visible to the caller
                items.append(SyncItem(t, rid, Op.DELETE))
        return SyncPage(items, encode_token(page.changes[-1].seq), page.has_more)
