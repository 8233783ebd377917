"""Alerts to members who are not connected (issue 5, §3): push, then SMS, via the outbox.

The dispatch worker puts ``emergency.alert_push`` and ``emergency.alert_sms`` in the
outbox (payload ``incident_id``, ``member_id``, ...) when a member's alert is due on that
channel; the handlers here deliver them:

- push goes through the notification service: the in-app inbox first, then WeChat
  subscribe messages and vendor push; idempotent by the handler's key;
- SMS goes through ``AlertTexter`` to the phone number on the volunteer's record, at most
  once per event: the send is claimed in the outbox's own record of handled events, in a
  transaction that spans the provider call (a failure rolls the claim back and the event
  is retried; a concurrent redelivery waits for the claim and then skips).

A handler running late re-checks what it reads at delivery time: when the member has
answered (anything but ``alerted``) or the incident is no longer live, nothing is sent.
The drill flag and the incident type are read from the incident itself, never trusted
from the payload, so a drill cannot go out as a real call-out.

Texts are generic: push says "help is needed nearby, open the app"; SMS adds the type
label (火情, 落水...) and a short code. Never a place, a name or a description.
"""

from __future__ import annotations

import re
import uuid
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Final, Protocol

import structlog

from app.domain.delivery.model import OutboxEvent
from app.domain.emergency.glossary import INCIDENT_TYPE_LABELS, IncidentType
from app.domain.notifications.model import Kind, link_to
from app.domain.notifications.services import NotificationService
from app.domain.shared.errors import UpstreamUnavailable

log = structlog.get_logger("shouwang.emergency.alerts")

ALERT_PUSH: Final = "emergency.alert_push"  # event types the dispatch worker emits
ALERT_SMS: Final = "emergency.alert_sms"
PUSH_HANDLER: Final = "emergency.deliver_alert_push"  # handler names (in the keys)
SMS_HANDLER: Final = "emergency.deliver_alert_sms"
SCREEN: Final = "emergency-incidents"  # deep link shouwang://emergency-incidents/<id>

_MAINLAND_MOBILE = re.compile(r"1\d{10}")
# Short codes: a letter first, then letters and digits without look-alikes (0/O, 1/I),
# so a code never reads as a six-digit verification code.
_CODE_FIRST: Final = "ABCDEFGHJKLMNPQRSTUVWXYZ"
_CODE_REST: Final = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH: Final = 6


class AlertSmsFailed(UpstreamUnavailable):
    """The SMS provider refused or could not be reached; the alert is retried."""

    code = "emergency.alert_sms_failed"
    message_en = "The alert text message could not be sent; it will be retried."
    message_zh = "警情短信发送失败，将自动重试。"


def short_code(incident_id: uuid.UUID) -> str:
    """Six characters a member can quote to the station, from the incident id's random
    bits (the end of a UUIDv7); not unique across all time, enough to tell calls apart."""
    n = incident_id.int
    chars = [_CODE_FIRST[n % len(_CODE_FIRST)]]
    n //= len(_CODE_FIRST)
    for _ in range(CODE_LENGTH - 1):
        chars.append(_CODE_REST[n % len(_CODE_REST)])
        n //= len(_CODE_REST)
    return "".join(chars)


@dataclass(frozen=True, slots=True)
class AlertSms:
    """What an alert text says. The production template (Tencent Cloud SMS) is
    ``{1}调派：您附近有警情需要支援（{2}），请立即打开守望查看并响应。编号{3}`` with
    ``params``; ``text`` renders the same for the development outbox."""

    incident_type: IncidentType
    drill: bool
    code: str

    @property
    def marker(self) -> str:
        return "演练" if self.drill else "紧急"

    @property
    def label(self) -> str:
        return INCIDENT_TYPE_LABELS[self.incident_type]

    def params(self) -> list[str]:
        return [self.marker, self.label, self.code]

    def text(self) -> str:
        """As the member's phone shows it (the provider prepends the 【守望】 signature)."""
        return (
            f"【守望】{self.marker}调派：您附近有警情需要支援（{self.label}），"
            f"请立即打开守望查看并响应。编号{self.code}"
        )


class AlertTexter(Protocol):
    async def send_alert(self, phone: str, alert: AlertSms) -> None:
        """Text an 11-digit mainland mobile number (no ``+86``). Raises ``AlertSmsFailed``
        when the provider did not accept the message."""
        ...


@dataclass(frozen=True, slots=True)
class AlertTarget:
    """Who an alert goes to and whether it is still wanted, read at delivery time."""

    account_id: uuid.UUID | None  # None: registered by staff, never signed in
    phone: str | None  # None: unreadable
    drill: bool
    incident_type: IncidentType
    pending: bool  # the response is still only "alerted" and the incident is live


class AlertTargets(Protocol):
    """Reads for the worker (system scope: it acts for the installation)."""

    async def target(self, incident_id: uuid.UUID, member_id: uuid.UUID) -> AlertTarget | None:
        """None when there is no such response (or no such volunteer any more)."""
        ...

    def claim_send(self, event_id: uuid.UUID, handler: str) -> AbstractAsyncContextManager[bool]:
        """Claims this handler's work on the event for the block: yields False when it was
        already done (nothing to send). Leaving the block normally records it done;
        leaving by an exception forgets the claim, so a retry sends."""
        ...


@dataclass(frozen=True, slots=True)
class AlertRef:
    incident_id: uuid.UUID
    member_id: uuid.UUID

    @classmethod
    def of(cls, event: OutboxEvent) -> AlertRef:
        """The ids in the payload; a malformed event raises (it goes to the dead letter)."""
        try:
            return cls(
                uuid.UUID(str(event.payload["incident_id"])),
                uuid.UUID(str(event.payload["member_id"])),
            )
        except (KeyError, ValueError) as exc:
            raise ValueError(f"{event.event_type} without valid incident_id/member_id") from exc


class AlertDelivery:
    """The two outbox handlers: ``push`` and ``sms``."""

    def __init__(
        self,
        targets: AlertTargets,
        notifications: NotificationService,
        texter: AlertTexter,
    ) -> None:
        self.targets = targets
        self.notifications = notifications
        self.texter = texter

    async def _pending(self, channel: str, ref: AlertRef) -> AlertTarget | None:
        target = await self.targets.target(ref.incident_id, ref.member_id)
        if target is None or not target.pending:
            log.info(
                "emergency alert not sent: answered or over",
                channel=channel,
                incident_id=str(ref.incident_id),
                member_id=str(ref.member_id),
            )
            return None
        return target

    async def push(self, event: OutboxEvent, key: str) -> None:
        ref = AlertRef.of(event)
        target = await self._pending("push", ref)
        if target is None:
            return
        if target.account_id is None:
            log.info("emergency alert push skipped: no account", member_id=str(ref.member_id))
            return
        kind = Kind.EMERGENCY_DRILL_ALERT if target.drill else Kind.EMERGENCY_ALERT
        link = link_to(SCREEN, ref.incident_id)
        _, results = await self.notifications.notify(target.account_id, kind, link, key=key)
        log.info(
            "emergency alert pushed",
            incident_id=str(ref.incident_id),
            member_id=str(ref.member_id),
            channels={r.channel: r.sent for r in results},
        )

    async def sms(self, event: OutboxEvent, key: str) -> None:
        ref = AlertRef.of(event)
        target = await self._pending("sms", ref)
        if target is None:
            return
        if target.phone is None or not _MAINLAND_MOBILE.fullmatch(target.phone):
            log.warning(
                "emergency alert sms skipped: no usable phone", member_id=str(ref.member_id)
            )
            return
        alert = AlertSms(target.incident_type, target.drill, short_code(ref.incident_id))
        # The claim is the outbox's record of this handler's work on this event (the key
        # is "<event id>:<handler>"), so the worker skips the event once it is there.
        handler = key.removeprefix(f"{event.id}:")
        async with self.targets.claim_send(event.id, handler) as first:
            if not first:
                log.info("emergency alert sms already sent", member_id=str(ref.member_id))
                return
            await self.texter.send_alert(target.phone, alert)
        log.info(
            "emergency alert texted", incident_id=str(ref.incident_id), member_id=str(ref.member_id)
        )
