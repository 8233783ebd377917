"""Wiring of mobile sync (/me/changes) over the tips, notifications and hazards services
and the caller's own points entries and rewards."""

from __future__ import annotations

from app.api.container import Services
from app.bootstrap.identity import blind_indexer
from app.bootstrap.platform import Platform
from app.domain.hazards.services import HazardService
from app.domain.notifications.services import NotificationService
from app.domain.sync.services import SyncService
from app.domain.tips.services import TipService
from app.infra.db.sync_records import SqlOwnRecords
from app.infra.db.sync_repo import SqlChangeFeed


def wire(services: Services, platform: Platform) -> None:
    """After tips, notifications and hazards: it reads through their services."""
    feed = SqlChangeFeed(platform.session_factory, blind_indexer(platform.settings))
    service = SyncService(
        feed,
        services.get(TipService),
        services.get(NotificationService),
        services.get(HazardService),
        SqlOwnRecords(platform.session_factory),
    )
    services.register(SyncService, service)
