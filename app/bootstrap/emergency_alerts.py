"""Wiring of emergency alert delivery to members who are not connected: the push and
SMS handlers of the dispatch worker's ``emergency.alert_push`` / ``emergency.alert_sms``
outbox events, and the SMS adapter chosen by the same settings as login codes."""

from __future__ import annotations

from app.api.container import Services
from app.bootstrap.delivery import handler_registry
from app.bootstrap.identity import field_cipher, sms_adapter
from app.bootstrap.platform import Platform
from app.domain.emergency.alert_delivery import (
    ALERT_PUSH,
    ALERT_SMS,
    PUSH_HANDLER,
    SMS_HANDLER,
    AlertDelivery,
    AlertTexter,
)
from app.domain.emergency.station_notify import StationNotifier
from app.domain.notifications.services import NotificationService
from app.infra.db.emergency_contacts import SqlAlertTargets, SqlStationStaff


def alert_texter(platform: Platform) -> AlertTexter:
    return sms_adapter(platform)


def wire_alert_delivery(services: Services, platform: Platform) -> None:
    """Needs the notification service (wired before emergency)."""
    delivery = AlertDelivery(
        SqlAlertTargets(platform.session_factory, field_cipher(platform.settings)),
        services.get(NotificationService),
        alert_texter(platform),
    )
    services.register(AlertDelivery, delivery)
    handlers = handler_registry(services)
    handlers.register(ALERT_PUSH, PUSH_HANDLER, delivery.push)
    handlers.register(ALERT_SMS, SMS_HANDLER, delivery.sms)
    # The station is informed first: its staff, beyond those on the realtime feed.
    station = StationNotifier(
        SqlStationStaff(platform.session_factory), services.get(NotificationService)
    )
    handlers.register("emergency.incident_raised", "emergency.notify_station", station.raised)
    handlers.register(
        "emergency.dispatch_exhausted", "emergency.notify_station_short", station.exhausted
    )
