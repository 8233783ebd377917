"""Wiring of the tips context (情报线索).

``TipMediaAttacher`` is taken from the services registry when the media context has
registered one (wired before this); without it, tips with media are refused with
``tip.media_unavailable`` rather than losing the media silently.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.api.container import Services
from app.bootstrap.identity import blind_indexer, field_cipher
from app.bootstrap.platform import Platform
from app.bootstrap.worker import TASKS
from app.domain.organisation.ports import JurisdictionLocator
from app.domain.shared.clock import Clock
from app.domain.shared.protection import BlindIndexer, FieldCipher
from app.domain.shared.scope import Scope
from app.domain.tips.ports import TipMediaAttacher, TipsUnitOfWork
from app.domain.tips.services import RATE_WINDOW, TipService, UowFactory
from app.infra.db.tips_repo import SqlTipsUnitOfWork, purge_submission_log


def uow_factory(
    session_factory: async_sessionmaker[AsyncSession],
    clock: Clock,
    cipher: FieldCipher,
    indexer: BlindIndexer,
) -> UowFactory:
    def make(scope: Scope) -> TipsUnitOfWork:
        return SqlTipsUnitOfWork(session_factory, scope, clock, cipher, indexer)

    return make


def wire(services: Services, platform: Platform) -> None:
    settings = platform.settings
    factory = uow_factory(
        platform.session_factory, platform.clock, field_cipher(settings), blind_indexer(settings)
    )
    try:
        media: TipMediaAttacher | None = services.get_any(TipMediaAttacher)
    except KeyError:
        media = None
    locator = services.get_any(JurisdictionLocator)
    services.register(TipService, TipService(factory, platform.clock, locator, media=media))


async def purge_tip_submissions(services: Services) -> int:
    platform = services.get(Platform)
    return await purge_submission_log(platform.session_factory, platform.clock.now() - RATE_WINDOW)


TASKS["tip_submissions"] = purge_tip_submissions
