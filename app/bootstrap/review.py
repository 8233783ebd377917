"""Wiring of fraud review (风控复核): velocity limits on hazard and tip submissions (per
account and device), the handlers that raise review flags after a report is stored, the
reversal of points when staff confirm fraud, and the purge of the submission log."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.api.container import Services
from app.bootstrap.delivery import handler_registry
from app.bootstrap.identity import blind_indexer
from app.bootstrap.platform import Platform
from app.bootstrap.worker import TASKS
from app.domain.hazards.services import HazardService
from app.domain.help.services import HelpService
from app.domain.points.model import SourceType
from app.domain.points.services import PointsService
from app.domain.review.handlers import ReviewHandlers
from app.domain.review.model import DEVICE_WINDOW
from app.domain.review.ports import ReviewUnitOfWork
from app.domain.review.services import ReviewService, UowFactory
from app.domain.review.velocity import SubmissionVelocity, VelocityLimits
from app.domain.shared.clock import Clock
from app.domain.shared.scope import Scope
from app.domain.tips.services import TipService
from app.infra.db.review_repo import SqlReviewUnitOfWork, SqlVelocityLog, purge_submission_log


def uow_factory(session_factory: async_sessionmaker[AsyncSession], clock: Clock) -> UowFactory:
    def make(scope: Scope) -> ReviewUnitOfWork:
        return SqlReviewUnitOfWork(session_factory, scope, clock)

    return make


def wire(services: Services, platform: Platform) -> None:
    settings = platform.settings
    factory = uow_factory(platform.session_factory, platform.clock)
    services.register(ReviewService, ReviewService(factory, platform.clock))

    velocity = SubmissionVelocity(
        SqlVelocityLog(blind_indexer(settings)),
        VelocityLimits(settings.hazard_hourly_limit, settings.device_hourly_limit),
    )
    services.get(HazardService).velocity = velocity
    services.get(TipService).velocity = velocity
    services.get(HelpService).velocity = velocity

    points = services.get(PointsService)

    async def reverse_points(record_type: str, record_id: uuid.UUID, note: str) -> object:
        return await points.reverse_source(SourceType(record_type), record_id, note)

    handlers = ReviewHandlers(
        factory,
        platform.clock,
        reverse_points,
        device_reports_per_day=settings.review_device_reports_per_day,
    )
    registry = handler_registry(services)
    registry.register("hazard.reported", "review.inspect_hazard", handlers.hazard_reported)
    registry.register("tip.submitted", "review.inspect_tip", handlers.tip_submitted)
    registry.register("review.fraud_confirmed", "review.reverse_points", handlers.fraud_confirmed)


async def purge_submissions(services: Services) -> int:
    platform = services.get(Platform)
    return await purge_submission_log(
        platform.session_factory, platform.clock.now() - DEVICE_WINDOW
    )


TASKS["submission_log"] = purge_submissions
