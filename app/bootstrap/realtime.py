"""Wiring of real-time updates: the LISTEN/NOTIFY feed for API subscribers, and the
outbox handler that publishes ``tip.*`` events into it (from the delivery worker)."""

from __future__ import annotations

from app.api.container import Services
from app.bootstrap.delivery import handler_registry
from app.bootstrap.platform import Platform
from app.domain.tips.realtime import TIP_EVENTS, TipUpdatePublisher, TipUpdates
from app.infra.realtime.pg_notify import PgTipUpdates


def wire(services: Services, platform: Platform) -> None:
    updates = PgTipUpdates(platform.engine, platform.settings.database_url)
    services.register(TipUpdates, updates)
    publisher = TipUpdatePublisher(updates)
    handlers = handler_registry(services)
    for event_type in TIP_EVENTS:
        handlers.register(event_type, "realtime.tip_updated", publisher)
