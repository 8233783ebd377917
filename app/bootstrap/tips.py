"""Wiring of the tips context (情报线索): the service, media of tips (attach, see, read in
batches) and the notifications that tip events trigger."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.api.container import Services
from app.bootstrap.appeals import AppealDirectoryOf
from app.bootstrap.delivery import handler_registry
from app.bootstrap.identity import blind_indexer, field_cipher
from app.bootstrap.platform import Platform
from app.bootstrap.worker import TASKS
from app.domain.media.model import Attachment
from app.domain.media.services import MediaService, MediaView, MediaVisibilityRegistry
from app.domain.notifications.services import NotificationService
from app.domain.organisation.ports import JurisdictionLocator
from app.domain.shared.clock import Clock
from app.domain.shared.protection import BlindIndexer, FieldCipher
from app.domain.shared.scope import Scope, system_scope
from app.domain.tips.media import TIP_RECORD, TipMediaVisibility
from app.domain.tips.model import Tip
from app.domain.tips.notify import TipNotifications
from app.domain.tips.ports import TipsUnitOfWork
from app.domain.tips.services import RATE_WINDOW, TipService, UowFactory
from app.infra.db.engine import autocommit_factory
from app.infra.db.tips_repo import SqlTipsUnitOfWork, purge_submission_log
from app.infra.db.tips_submit import SqlSubmissionWriter


def uow_factory(
    session_factory: async_sessionmaker[AsyncSession],
    clock: Clock,
    cipher: FieldCipher,
    indexer: BlindIndexer,
) -> UowFactory:
    def make(scope: Scope) -> TipsUnitOfWork:
        return SqlTipsUnitOfWork(session_factory, scope, clock, cipher, indexer)

    return make


class AttachedTipMedia:
    """``TipMediaReader`` over the media service. ``TipService`` passes only tips it has
    already shown the caller may see, under the caller's own scope, and whoever sees a tip
    sees its media (``TipMediaVisibility``). Asking the media service with the caller's
    scope would re-check that per object, one query each (N+1 on a queue page); so the
    page's media are read in ONE query with the system scope and kept only where the
    object is attached to that very tip, never an id a tip merely names."""

    def __init__(self, media: MediaService) -> None:
        self.media = media

    async def of_tips(self, tips: Sequence[Tip]) -> dict[UUID, list[MediaView]]:
        wanted = list(dict.fromkeys(m for t in tips for m in t.media_ids))
        if not wanted:
            return {}
        by_id = {v.media.id: v for v in await self.media.get_many(system_scope(), wanted)}
        found: dict[UUID, list[MediaView]] = {}
        for tip in tips:
            own = Attachment(TIP_RECORD, tip.id)
            views = [by_id[m] for m in tip.media_ids if m in by_id]
            found[tip.id] = [v for v in views if v.media.attached_to == own]
        return found


def wire(services: Services, platform: Platform) -> None:
    settings = platform.settings
    factory = uow_factory(
        platform.session_factory, platform.clock, field_cipher(settings), blind_indexer(settings)
    )
    services.get(MediaVisibilityRegistry).register(TIP_RECORD, TipMediaVisibility(factory))
    reader = AttachedTipMedia(services.get(MediaService))
    locator = services.get_any(JurisdictionLocator)
    appeals = AppealDirectoryOf(services)
    # Reads run each statement on its own (autocommit): no BEGIN/ROLLBACK round trips.
    reads = uow_factory(
        autocommit_factory(platform.session_factory),
        platform.clock,
        field_cipher(settings),
        blind_indexer(settings),
    )
    services.register(
        TipService,
        TipService(
            factory,
            platform.clock,
            locator,
            media=reader,
            appeals=appeals,
            read_uow_factory=reads,
            writer=SqlSubmissionWriter(
                platform.session_factory, field_cipher(settings), blind_indexer(settings)
            ),
        ),
    )

    notify = TipNotifications(factory, services.get(NotificationService))
    handlers = handler_registry(services)
    handlers.register("tip.outcome_recorded", "tips.notify_reporter", notify.outcome_recorded)
    # A referral to another station sends the reporter the referred feedback too.
    handlers.register("tip.referred", "tips.notify_reporter", notify.outcome_recorded)
    handlers.register("tip.disputed", "tips.notify_handler", notify.disputed)


async def purge_tip_submissions(services: Services) -> int:
    platform = services.get(Platform)
    return await purge_submission_log(platform.session_factory, platform.clock.now() - RATE_WINDOW)


TASKS["tip_submissions"] = purge_tip_submissions
