"""The notification inbox without a database: generic templates, deep links, idempotent
creation, and an inbox only its own account reaches."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from app.domain.notifications.model import (
    ME_LINK,
    TEMPLATES,
    Kind,
    Notification,
    NotificationNotFound,
    link_to,
)
from app.domain.notifications.ports import ChannelResult
from app.domain.notifications.services import NotificationService
from app.domain.shared.clock import FixedClock
from app.domain.shared.errors import InvalidInput, Unauthenticated
from app.domain.shared.scope import Role, Scope, system_scope

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


class FakeRepo:
    def __init__(self) -> None:
        self.rows: dict[str, Notification] = {}

    async def add(self, notification: Notification, key: str) -> bool:
        if key in self.rows:
            return False
        self.rows[key] = notification
        return True

    async def by_key(self, key: str) -> Notification | None:
        return self.rows.get(key)

    def _of(self, account_id: uuid.UUID) -> list[Notification]:
        mine = [n for n in self.rows.values() if n.account_id == account_id]
        return sorted(mine, key=lambda n: n.id, reverse=True)

    async def list_for(
        self, account_id: uuid.UUID, limit: int, after: uuid.UUID | None
    ) -> list[Notification]:
        return [n for n in self._of(account_id) if after is None or n.id < after][:limit]

    async def unread_count(self, account_id: uuid.UUID) -> int:
        return sum(n.unread for n in self._of(account_id))

    async def get(self, account_id: uuid.UUID, notification_id: uuid.UUID) -> Notification | None:
        return next((n for n in self._of(account_id) if n.id == notification_id), None)

    async def mark_read(self, notification: Notification) -> None:
        pass  # the entity is the stored object

    async def mark_all_read(self, account_id: uuid.UUID, at: datetime) -> int:
        return sum(n.mark_read(at) for n in self._of(account_id))


class FakeUow:
    def __init__(self, repo: FakeRepo) -> None:
        self.notifications = repo
        self.audits: list[str] = []

    async def __aenter__(self) -> FakeUow:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        pass

    def audit(self, action: str, *args: Any, **kwargs: Any) -> None:
        self.audits.append(action)

    async def commit(self) -> None:
        pass


class RecordingChannel:
    name = "push"

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, notification: Notification, key: str) -> ChannelResult:
        self.sent.append(key)
        return ChannelResult(self.name, sent=True)


def resident() -> Scope:
    return Scope(uuid.uuid4(), frozenset({Role.RESIDENT}))


def make() -> tuple[NotificationService, FakeRepo, RecordingChannel]:
    repo, channel = FakeRepo(), RecordingChannel()
    uow = FakeUow(repo)
    return NotificationService(lambda scope: uow, FixedClock(T0), [channel]), repo, channel


def test_texts_are_generic_in_both_languages() -> None:
    n = Notification(uuid.uuid4(), uuid.uuid4(), Kind.TIP_UPDATE, link_to("tips", uuid.uuid4()), T0)
    assert n.text("zh") == ("您的举报有新进展", "请打开守望查看详情。")
    assert n.text("en")[0] == "Your report has an update"
    assert set(TEMPLATES) == set(Kind)
    assert all(set(t) == {"zh", "en"} for t in TEMPLATES.values())


@pytest.mark.parametrize(
    "link", ["https://evil.example/x", "shouwang://tips/张伟", "shouwang://tips/1?phone=139"]
)
def test_deep_links_carry_a_screen_and_an_id_only(link: str) -> None:
    with pytest.raises(InvalidInput):
        Notification(uuid.uuid4(), uuid.uuid4(), Kind.TIP_UPDATE, link, T0)


async def test_notify_is_idempotent_by_key_and_reaches_the_channels() -> None:
    svc, repo, channel = make()
    me = resident()
    first, _ = await svc.notify(me.account_id, Kind.VOLUNTEER_STATUS, ME_LINK, key="e1:h")
    again, results = await svc.notify(me.account_id, Kind.VOLUNTEER_STATUS, ME_LINK, key="e1:h")
    assert again.id == first.id
    assert len(repo.rows) == 1
    assert results == [ChannelResult("push", sent=True)]
    assert channel.sent == ["e1:h", "e1:h"]  # channels dedupe by key themselves
    assert await svc.unread_count(me) == 1


async def test_only_the_owner_reads_and_marks_their_notifications() -> None:
    svc, _, _ = make()
    me, other = resident(), resident()
    n, _ = await svc.notify(me.account_id, Kind.VOLUNTEER_STATUS, ME_LINK, key="k1")
    await svc.notify(me.account_id, Kind.TIP_UPDATE, ME_LINK, key="k2")
    assert (await svc.list(other)).items == []
    with pytest.raises(NotificationNotFound):
        await svc.mark_read(other, n.id)
    with pytest.raises(Unauthenticated):
        await svc.list(system_scope())
    page = await svc.list(me, limit=1)
    assert page.more
    assert len(page.items) == 1
    assert (await svc.mark_read(me, n.id)).read_at == T0
    assert await svc.unread_count(me) == 1
    assert await svc.mark_all_read(me) == 1
    assert await svc.unread_count(me) == 0
