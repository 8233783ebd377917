"""Push and SMS fallback for members who are not connected, without a database: skipped
when answered or over, drills marked, one push and one SMS per event however often it is
redelivered, a failed SMS retried."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import pytest

from app.domain.delivery.model import OutboxEvent
from app.domain.emergency.alert_delivery import (
    ALERT_PUSH,
    ALERT_SMS,
    PUSH_HANDLER,
    SMS_HANDLER,
    AlertDelivery,
    AlertSms,
    AlertSmsFailed,
    AlertTarget,
    short_code,
)
from app.domain.emergency.glossary import IncidentType
from app.domain.notifications.model import Kind, Notification
from app.domain.notifications.ports import ChannelResult
from app.domain.notifications.services import NotificationService
from app.domain.shared.clock import FixedClock
from app.domain.shared.ids import new_id

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
PHONE = "13800138000"


class FakeInbox:
    def __init__(self) -> None:
        self.rows: dict[str, Notification] = {}

    async def add(self, notification: Notification, key: str) -> bool:
        if key in self.rows:
            return False
        self.rows[key] = notification
        return True

    async def by_key(self, key: str) -> Notification | None:
        return self.rows.get(key)


class FakeUow:
    def __init__(self, inbox: FakeInbox) -> None:
        self.notifications = inbox

    async def __aenter__(self) -> FakeUow:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        pass

    def audit(self, *args: Any, **kwargs: Any) -> None:
        pass

    async def commit(self) -> None:
        pass


class FakePush:
    """A channel that, like the real ones, delivers once per key."""

    name = "push"

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []  # (title, body, link)
        self._keys: set[str] = set()

    async def send(self, notification: Notification, key: str) -> ChannelResult:
        if key in self._keys:
            return ChannelResult(self.name, False, "already handled")
        self._keys.add(key)
        title, body = notification.text("zh")
        self.sent.append((title, body, notification.link))
        return ChannelResult(self.name, True)


class FakeTargets:
    def __init__(self) -> None:
        self.targets: dict[tuple[uuid.UUID, uuid.UUID], AlertTarget] = {}
        self.claimed: set[tuple[uuid.UUID, str]] = set()

    async def target(self, incident_id: uuid.UUID, member_id: uuid.UUID) -> AlertTarget | None:
        return self.targets.get((incident_id, member_id))

    @asynccontextmanager
    async def claim_send(self, event_id: uuid.UUID, handler: str) -> AsyncIterator[bool]:
        if (event_id, handler) in self.claimed:
            yield False
            return
        yield True  # an exception in the block leaves nothing claimed, as a rollback does
        self.claimed.add((event_id, handler))


class FakeTexter:
    def __init__(self) -> None:
        self.sent: list[tuple[str, AlertSms]] = []
        self.failures = 0

    async def send_alert(self, phone: str, alert: AlertSms) -> None:
        if self.failures:
            self.failures -= 1
            raise AlertSmsFailed()
        self.sent.append((phone, alert))


class World:
    def __init__(self) -> None:
        self.inbox = FakeInbox()
        self.push_channel = FakePush()
        self.targets = FakeTargets()
        self.texter = FakeTexter()
        notifications = NotificationService(
            lambda scope: FakeUow(self.inbox), FixedClock(T0), channels=[self.push_channel]
        )
        self.delivery = AlertDelivery(self.targets, notifications, self.texter)
        self.incident_id = new_id()
        self.member_id = new_id()
        self.account_id: uuid.UUID | None = new_id()

    def target(self, **overrides: Any) -> AlertTarget:
        values: dict[str, Any] = {
            "account_id": self.account_id,
            "phone": PHONE,
            "drill": False,
            "incident_type": IncidentType.FIRE,
            "pending": True,
        }
        values.update(overrides)
        found = AlertTarget(**values)
        self.targets.targets[(self.incident_id, self.member_id)] = found
        return found

    def event(self, event_type: str, **payload: Any) -> OutboxEvent:
        body: dict[str, Any] = {
            "incident_id": str(self.incident_id),
            "member_id": str(self.member_id),
            "drill": False,
            "type": "fire",
            "severity": "high",
        }
        body.update(payload)
        return OutboxEvent(
            seq=1,
            id=new_id(),
            event_type=event_type,
            aggregate_type="emergency_incident",
            aggregate_id=self.incident_id,
            payload=body,
            occurred_at=T0,
            attempts=1,
        )


@pytest.fixture
def world() -> World:
    return World()


# --- push ------------------------------------------------------------------------------


async def test_push_writes_the_inbox_and_pushes_a_generic_alert(world: World) -> None:
    world.target()
    event = world.event(ALERT_PUSH)

    await world.delivery.push(event, event.key(PUSH_HANDLER))

    [stored] = world.inbox.rows.values()
    assert stored.account_id == world.account_id
    assert stored.kind is Kind.EMERGENCY_ALERT
    assert stored.link == f"shouwang://emergency-incidents/{world.incident_id}"
    assert world.push_channel.sent == [
        ("紧急调派：附近有警情需要支援", "请立即打开守望查看并响应。", stored.link)
    ]
    assert list(world.inbox.rows) == [event.key(PUSH_HANDLER)]
    assert world.texter.sent == []


async def test_push_of_a_drill_is_marked_as_a_drill(world: World) -> None:
    # The flag is read from the incident, not from the payload.
    world.target(drill=True)
    event = world.event(ALERT_PUSH, drill=False)

    await world.delivery.push(event, event.key(PUSH_HANDLER))

    [stored] = world.inbox.rows.values()
    assert stored.kind is Kind.EMERGENCY_DRILL_ALERT
    [(title, body, _)] = world.push_channel.sent
    assert title.startswith("【演练】")
    assert "演练" in body
    assert stored.text("en")[0].startswith("[Drill]")


async def test_push_redelivered_notifies_once(world: World) -> None:
    world.target()
    event = world.event(ALERT_PUSH)

    for _ in range(3):
        await world.delivery.push(event, event.key(PUSH_HANDLER))

    assert len(world.inbox.rows) == 1
    assert len(world.push_channel.sent) == 1


@pytest.mark.parametrize("kind", ["answered_or_over", "gone"])
async def test_push_late_after_an_answer_sends_nothing(world: World, kind: str) -> None:
    if kind == "answered_or_over":
        world.target(pending=False)
    event = world.event(ALERT_PUSH)

    await world.delivery.push(event, event.key(PUSH_HANDLER))

    assert world.inbox.rows == {}
    assert world.push_channel.sent == []


async def test_push_without_an_account_is_skipped_but_sms_still_goes(world: World) -> None:
    world.account_id = None
    world.target()
    push, sms = world.event(ALERT_PUSH), world.event(ALERT_SMS)

    await world.delivery.push(push, push.key(PUSH_HANDLER))
    await world.delivery.sms(sms, sms.key(SMS_HANDLER))

    assert world.inbox.rows == {}
    assert [phone for phone, _ in world.texter.sent] == [PHONE]


async def test_malformed_event_fails_to_be_dead_lettered(world: World) -> None:
    event = world.event(ALERT_PUSH, member_id="not-a-uuid")
    with pytest.raises(ValueError, match="member_id"):
        await world.delivery.push(event, event.key(PUSH_HANDLER))


# --- SMS -------------------------------------------------------------------------------


async def test_sms_names_the_type_and_a_code_only(world: World) -> None:
    world.target(incident_type=IncidentType.DROWNING)
    event = world.event(ALERT_SMS)

    await world.delivery.sms(event, event.key(SMS_HANDLER))

    [(phone, alert)] = world.texter.sent
    assert phone == PHONE
    code = short_code(world.incident_id)
    assert alert.params() == ["紧急", "落水", code]
    assert alert.text() == (
        f"【守望】紧急调派：您附近有警情需要支援（落水），请立即打开守望查看并响应。编号{code}"
    )
    assert "演练" not in alert.text()
    assert world.targets.claimed == {(event.id, SMS_HANDLER)}


async def test_sms_of_a_drill_is_marked_as_a_drill(world: World) -> None:
    world.target(drill=True, incident_type=IncidentType.LOST_CHILD)
    event = world.event(ALERT_SMS)

    await world.delivery.sms(event, event.key(SMS_HANDLER))

    [(_, alert)] = world.texter.sent
    assert alert.params()[:2] == ["演练", "儿童走失"]
    assert alert.text().startswith("【守望】演练调派：")


async def test_sms_redelivered_texts_once(world: World) -> None:
    world.target()
    event = world.event(ALERT_SMS)

    for _ in range(3):
        await world.delivery.sms(event, event.key(SMS_HANDLER))

    assert len(world.texter.sent) == 1


async def test_sms_failure_is_retried_and_then_sent_once(world: World) -> None:
    world.target()
    world.texter.failures = 2
    event = world.event(ALERT_SMS)

    for _ in range(2):
        with pytest.raises(AlertSmsFailed):
            await world.delivery.sms(event, event.key(SMS_HANDLER))
        assert world.targets.claimed == set()
    await world.delivery.sms(event, event.key(SMS_HANDLER))
    await world.delivery.sms(event, event.key(SMS_HANDLER))

    assert len(world.texter.sent) == 1


async def test_sms_late_after_an_answer_sends_nothing(world: World) -> None:
    world.target(pending=False)
    event = world.event(ALERT_SMS)

    await world.delivery.sms(event, event.key(SMS_HANDLER))

    assert world.texter.sent == []
    assert world.targets.claimed == set()


@pytest.mark.parametrize("phone", [None, "+8613800138000", "0519-8888888"])
async def test_sms_without_a_usable_phone_is_skipped(world: World, phone: str | None) -> None:
    world.target(phone=phone)
    event = world.event(ALERT_SMS)

    await world.delivery.sms(event, event.key(SMS_HANDLER))

    assert world.texter.sent == []


def test_short_code_never_reads_as_a_verification_code() -> None:
    codes = {short_code(new_id()) for _ in range(2000)}
    assert len(codes) > 1990  # from the id's random bits
    for code in codes:
        assert re.fullmatch(r"[A-HJ-NP-Z][2-9A-HJ-NP-Z]{5}", code), code
    fixed = uuid.UUID("01936f3c-0000-7000-8000-000000000000")
    assert short_code(fixed) == short_code(fixed)
