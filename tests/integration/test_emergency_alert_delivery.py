"""Alert delivery against PostgreSQL: who an alert goes to (the sealed phone opened, the
account), whether it is still wanted, the at-most-once SMS claim in the outbox's record
of handled events, and both handlers end to end with the real inbox."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from fakes.volunteers import random_phone, random_resident_id
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from support.org import make_org_tree

from app.bootstrap.identity import blind_indexer, field_cipher
from app.bootstrap.volunteers import uow_factory as volunteers_uow
from app.domain.delivery.model import OutboxEvent
from app.domain.delivery.services import HandlerRegistry
from app.domain.emergency.alert_delivery import (
    ALERT_PUSH,
    ALERT_SMS,
    PUSH_HANDLER,
    SMS_HANDLER,
    AlertDelivery,
    AlertSms,
    AlertSmsFailed,
)
from app.domain.emergency.glossary import IncidentType
from app.domain.notifications.services import NotificationService
from app.domain.shared.clock import SystemClock
from app.domain.shared.ids import new_id
from app.domain.shared.scope import Scope, system_scope
from app.domain.volunteers.recruitment import PersonForm
from app.domain.volunteers.services import VolunteerService
from app.infra.db.emergency_contacts import SqlAlertTargets
from app.infra.db.notifications_repo import SqlNotificationsUnitOfWork
from app.infra.db.outbox_store import SqlOutboxStore
from app.infra.db.tables.emergency_incidents import emergency_incidents, emergency_responses
from app.infra.db.tables.identity import accounts
from app.infra.db.tables.notifications import notifications
from app.infra.db.tables.volunteers import volunteers
from app.settings import Settings

Sessions = async_sessionmaker[AsyncSession]


@dataclass
class Alerted:
    incident_id: uuid.UUID
    member_id: uuid.UUID
    account_id: uuid.UUID
    phone: str


async def _volunteer(sessions: Sessions, settings: Settings, *, with_account: bool) -> Any:
    tree = await make_org_tree(sessions)
    service = VolunteerService(
        volunteers_uow(sessions, SystemClock(), field_cipher(settings), blind_indexer(settings)),
        SystemClock(),
        privacy_notice_version="2026-11",
    )
    phone = random_phone()
    person = PersonForm(
        name="王芳",
        phone=phone,
        resident_id=random_resident_id(),
        address="常州市武进区湖塘镇花园街1号",
        station_id=tree.station_id,
        source_category="party_member",  # type: ignore[arg-type]
    )
    v = await service.register(system_scope(), person)
    account_id = new_id()
    if with_account:
        async with sessions() as s, s.begin():
            await s.execute(sa.insert(accounts).values(id=account_id, kind="resident"))
            await s.execute(
                sa.update(volunteers).where(volunteers.c.id == v.id).values(account_id=account_id)
            )
    return tree, v.id, account_id, phone


async def _incident(
    sessions: Sessions,
    tree: Any,
    member_id: uuid.UUID,
    *,
    drill: bool = False,
    status: str = "dispatching",
    response: str = "alerted",
    kind: str = "fire",
) -> uuid.UUID:
    incident_id = new_id()
    now = datetime.now(UTC)
    async with sessions() as s, s.begin():
        await s.execute(
            sa.insert(emergency_incidents).values(
                id=incident_id,
                type=kind,
                severity="high",
                location=sa.func.ST_GeogFromText("SRID=4326;POINT(119.95 31.70)"),
                description="小区东门有人落水",
                raised_by="officer",
                station_id=tree.station_id,
                district_id=tree.district_id,
                drill=drill,
                raised_at=now,
                status=status,
                policy=sa.text("'{}'::jsonb"),
            )
        )
        await s.execute(
            sa.insert(emergency_responses).values(
                incident_id=incident_id,
                member_id=member_id,
                ring=0,
                status=response,
                steps=[{"status": "alerted", "at": now.isoformat(), "by_officer": False}],
                drill=drill,
                alerted_at=now,
            )
        )
    return incident_id


@pytest.fixture
async def alerted(session_factory: Sessions, settings: Settings) -> Alerted:
    tree, member_id, account_id, phone = await _volunteer(
        session_factory, settings, with_account=True
    )
    incident_id = await _incident(session_factory, tree, member_id)
    return Alerted(incident_id, member_id, account_id, phone)


@pytest.fixture
def targets(session_factory: Sessions, settings: Settings) -> SqlAlertTargets:
    return SqlAlertTargets(session_factory, field_cipher(settings))


# --- the reader ------------------------------------------------------------------------


async def test_target_opens_the_phone_and_names_the_account(
    targets: SqlAlertTargets, alerted: Alerted
) -> None:
    found = await targets.target(alerted.incident_id, alerted.member_id)

    assert found is not None
    assert found.phone == alerted.phone
    assert found.account_id == alerted.account_id
    assert found.incident_type is IncidentType.FIRE
    assert found.drill is False
    assert found.pending is True


@pytest.mark.parametrize(
    ("incident_status", "response_status", "pending"),
    [
        ("open", "alerted", True),
        ("dispatching", "alerted", True),
        ("dispatching", "accepted", False),
        ("dispatching", "declined", False),
        ("dispatching", "stood_down", False),
        ("resolved", "alerted", False),
        ("cancelled", "alerted", False),
    ],
)
async def test_pending_only_while_unanswered_and_live(
    session_factory: Sessions,
    settings: Settings,
    targets: SqlAlertTargets,
    incident_status: str,
    response_status: str,
    pending: bool,
) -> None:
    tree, member_id, _, _ = await _volunteer(session_factory, settings, with_account=False)
    incident_id = await _incident(
        session_factory,
        tree,
        member_id,
        drill=True,
        status=incident_status,
        response=response_status,
        kind="lost_child",
    )

    found = await targets.target(incident_id, member_id)

    assert found is not None
    assert found.pending is pending
    assert found.drill is True
    assert found.incident_type is IncidentType.LOST_CHILD
    assert found.account_id is None


async def test_no_response_is_no_target(targets: SqlAlertTargets, alerted: Alerted) -> None:
    assert await targets.target(alerted.incident_id, new_id()) is None
    assert await targets.target(new_id(), alerted.member_id) is None


# --- the SMS claim ---------------------------------------------------------------------


async def test_claim_is_the_outbox_record_and_taken_once(
    session_factory: Sessions, targets: SqlAlertTargets
) -> None:
    event_id = new_id()
    store = SqlOutboxStore(session_factory)

    async with targets.claim_send(event_id, SMS_HANDLER) as first:
        assert first is True
    async with targets.claim_send(event_id, SMS_HANDLER) as again:
        assert again is False

    assert await store.handled(event_id) == {SMS_HANDLER}  # the worker skips it from now
    await store.record_handled(event_id, SMS_HANDLER, datetime.now(UTC))  # and may still record


async def test_a_failed_send_leaves_no_claim(
    session_factory: Sessions, targets: SqlAlertTargets
) -> None:
    event_id = new_id()

    async def failing_send() -> None:
        async with targets.claim_send(event_id, SMS_HANDLER) as first:
            assert first is True
            raise AlertSmsFailed()

    with pytest.raises(AlertSmsFailed):
        await failing_send()

    assert await SqlOutboxStore(session_factory).handled(event_id) == set()
    async with targets.claim_send(event_id, SMS_HANDLER) as retry:
        assert retry is True


async def test_a_concurrent_claim_waits_and_then_finds_it_taken(targets: SqlAlertTargets) -> None:
    event_id = new_id()
    inside = asyncio.Event()
    release = asyncio.Event()

    async def slow_first() -> bool:
        async with targets.claim_send(event_id, SMS_HANDLER) as first:
            inside.set()
            await release.wait()  # the provider call
            return first

    async def second() -> bool:
        await inside.wait()
        async with targets.claim_send(event_id, SMS_HANDLER) as claimed:
            return claimed

    first_task = asyncio.create_task(slow_first())
    second_task = asyncio.create_task(second())
    await inside.wait()
    await asyncio.sleep(0.3)
    assert not second_task.done()  # blocked on the first claim's uncommitted row
    release.set()

    assert await first_task is True
    assert await asyncio.wait_for(second_task, 5) is False


# --- both handlers end to end ------------------------------------------------------------


class RecordingTexter:
    def __init__(self) -> None:
        self.sent: list[tuple[str, AlertSms]] = []

    async def send_alert(self, phone: str, alert: AlertSms) -> None:
        self.sent.append((phone, alert))


@pytest.fixture
def delivery(
    session_factory: Sessions, targets: SqlAlertTargets
) -> tuple[AlertDelivery, RecordingTexter]:
    def uow(scope: Scope) -> SqlNotificationsUnitOfWork:
        return SqlNotificationsUnitOfWork(session_factory, scope, SystemClock())

    texter = RecordingTexter()
    return AlertDelivery(targets, NotificationService(uow, SystemClock()), texter), texter


def _event(event_type: str, alerted: Alerted) -> OutboxEvent:
    return OutboxEvent(
        seq=1,
        id=new_id(),
        event_type=event_type,
        aggregate_type="emergency_incident",
        aggregate_id=alerted.incident_id,
        payload={
            "incident_id": str(alerted.incident_id),
            "member_id": str(alerted.member_id),
            "drill": False,
            "type": "fire",
            "severity": "high",
        },
        occurred_at=datetime.now(UTC),
        attempts=1,
    )


async def test_push_and_sms_reach_the_member_once_each(
    session_factory: Sessions,
    delivery: tuple[AlertDelivery, RecordingTexter],
    alerted: Alerted,
) -> None:
    handlers, texter = delivery
    push, sms = _event(ALERT_PUSH, alerted), _event(ALERT_SMS, alerted)

    for _ in range(2):  # a redelivery changes nothing
        await handlers.push(push, push.key(PUSH_HANDLER))
        await handlers.sms(sms, sms.key(SMS_HANDLER))

    async with session_factory() as s:
        rows = (
            await s.execute(
                sa.select(notifications.c.kind, notifications.c.link).where(
                    notifications.c.account_id == alerted.account_id
                )
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        ("emergency.alert", f"shouwang://emergency-incidents/{alerted.incident_id}")
    ]
    assert [(phone, a.params()[:2]) for phone, a in texter.sent] == [
        (alerted.phone, ["紧急", "火情"])
    ]


async def test_answered_meanwhile_nothing_goes_out(
    session_factory: Sessions,
    delivery: tuple[AlertDelivery, RecordingTexter],
    alerted: Alerted,
) -> None:
    handlers, texter = delivery
    async with session_factory() as s, s.begin():
        await s.execute(
            sa.update(emergency_responses)
            .where(emergency_responses.c.incident_id == alerted.incident_id)
            .values(status="accepted")
        )
    push, sms = _event(ALERT_PUSH, alerted), _event(ALERT_SMS, alerted)

    await handlers.push(push, push.key(PUSH_HANDLER))
    await handlers.sms(sms, sms.key(SMS_HANDLER))

    async with session_factory() as s:
        count = await s.scalar(
            sa.select(sa.func.count()).where(notifications.c.account_id == alerted.account_id)
        )
    assert count == 0
    assert texter.sent == []


async def test_the_app_registers_both_handlers(app: Any) -> None:
    registry = app.state.services.get(HandlerRegistry)
    assert [name for name, _ in registry.handlers_for(ALERT_PUSH)] == [PUSH_HANDLER]
    assert [name for name, _ in registry.handlers_for(ALERT_SMS)] == [SMS_HANDLER]
