"""Wiring of mobile sync (/me/changes) over the tips and notifications services."""

from __future__ import annotations

from app.api.container import Services
from app.bootstrap.identity import blind_indexer
from app.bootstrap.platform import Platform
from app.domain.notifications.services import NotificationService
from app.domain.sync.services import SyncService
from app.domain.tips.services import TipService
from app.infra.db.sync_repo import SqlChangeFeed


def wire(services: Services, platform: Platform) -> None:
    """After tips and notifications: it reads through their services."""
    feed = SqlChangeFeed(platform.session_factory, blind_indexer(platform.settings))
    service = SyncService(feed, services.get(TipService), services.get(NotificationService))
    services.register(SyncService, service)
