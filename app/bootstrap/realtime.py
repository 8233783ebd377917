"""Wiring of real-time updates: the LISTEN/NOTIFY feed for API subscribers, and the
outbox handler that publishes ``tip.*`` events into it (from the delivery worker); the
emergency alert feed (listener on the 0022 trigger's channel, reader, ``AlertFeed``)."""

from __future__ import annotations

from app.api.container import Services
from app.bootstrap.delivery import handler_registry
from app.bootstrap.platform import Platform
from app.domain.emergency.feed import AlertFeed
from app.domain.emergency.incident_ports import AlertListener, EventFeedReader
from app.domain.tips.realtime import TIP_EVENTS, TipUpdatePublisher, TipUpdates
from app.infra.db.emergency_feed import SqlEventFeedReader
from app.infra.realtime.pg_emergency import PgAlertListener
from app.infra.realtime.pg_notify import PgTipUpdates


def wire(services: Services, platform: Platform) -> None:
    updates = PgTipUpdates(platform.engine, platform.settings.database_url)
    services.register(TipUpdates, updates)
    publisher = TipUpdatePublisher(updates)
    handlers = handler_registry(services)
    for event_type in TIP_EVENTS:
        handlers.register(event_type, "realtime.tip_updated", publisher)

    # Emergency alerts: one LISTEN connection per process on shouwang_emergency.
    listener = PgAlertListener(platform.settings.database_url)
    reader = SqlEventFeedReader(platform.session_factory)
    services.register(AlertListener, listener)
    services.register(EventFeedReader, reader)
    services.register(AlertFeed, AlertFeed(listener, reader, reader, platform.clock))
