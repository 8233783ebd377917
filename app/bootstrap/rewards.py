"""Wiring of cash rewards (奖励): the service, the payment adapter chosen by settings
(dev JSONL outside production, WeChat Pay v3, or none), payouts in the outbox worker on
``reward.approved``, cancellation of unpaid rewards on ``points.reversed``, and the
housekeeping task that reconciles payouts whose answer was lost, and (WeChat Pay only)
the transfer callbacks that settle payouts as soon as the provider knows."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.api.container import Services
from app.bootstrap.delivery import handler_registry
from app.bootstrap.platform import Platform
from app.bootstrap.points import TipReporters as PointsTipSources
from app.bootstrap.points import hazard_reporters
from app.bootstrap.worker import TASKS
from app.domain.delivery.model import OutboxEvent
from app.domain.notifications.services import NotificationService
from app.domain.rewards.ports import (
    PaymentGateway,
    PaymentNotifications,
    RewardsUnitOfWork,
    SourceRef,
)
from app.domain.rewards.services import PayoutService, RewardService, UowFactory
from app.domain.shared.clock import Clock
from app.domain.shared.errors import NotFound
from app.domain.shared.scope import Scope
from app.domain.tips.services import TipService
from app.infra.db.payees import WeChatPayees
from app.infra.db.rewards_repo import SqlRewardsUnitOfWork
from app.infra.payments.dev import DevPaymentGateway, DisabledPaymentGateway
from app.infra.payments.wechatpay import WeChatPayGateway
from app.infra.payments.wechatpay_notify import WeChatPayNotifications
from app.settings import PaymentAdapter, Settings


def uow_factory(session_factory: async_sessionmaker[AsyncSession], clock: Clock) -> UowFactory:
    def make(scope: Scope) -> RewardsUnitOfWork:
        return SqlRewardsUnitOfWork(session_factory, scope, clock)

    return make


def payment_gateway(settings: Settings) -> PaymentGateway:
    adapter = settings.payments
    if adapter == PaymentAdapter.WECHATPAY:
        assert settings.wechatpay_private_key_path is not None
        assert settings.wechatpay_platform_cert_path is not None
        return WeChatPayGateway(
            base_url=settings.wechatpay_base_url,
            mchid=settings.wechatpay_mchid,
            appid=settings.wechatpay_appid,
            serial_no=settings.wechatpay_serial_no,
            private_key_pem=settings.wechatpay_private_key_path.read_bytes(),
            platform_cert_pem=settings.wechatpay_platform_cert_path.read_bytes(),
            notify_url=settings.wechatpay_notify_url,
        )
    if adapter == PaymentAdapter.DEV:
        return DevPaymentGateway(settings.payment_dev_outbox, production=settings.is_production)
    return DisabledPaymentGateway()


def payment_notifications(settings: Settings) -> PaymentNotifications | None:
    """Callbacks come only from WeChat Pay (the dev adapter pays synchronously)."""
    apiv3_key = settings.wechatpay_apiv3_key.get_secret_value().encode()
    if settings.payments != PaymentAdapter.WECHATPAY or not apiv3_key:
        return None
    assert settings.wechatpay_platform_cert_path is not None
    return WeChatPayNotifications(
        platform_cert_pem=settings.wechatpay_platform_cert_path.read_bytes(),
        apiv3_key=apiv3_key,
    )


class RecordSources:
    """``RewardSources``: tips through the tip service with the caller's scope; hazards
    through the ``HazardReporters`` port (none until the hazards context provides it)."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def locate(
        self, scope: Scope, source_type: str, source_id: uuid.UUID
    ) -> SourceRef | None:
        if source_type == "tip":
            try:
                view = await self.services.get(TipService).get(scope, source_id)
            except NotFound:
                return None
            routing = view.tip.routing
            if not view.as_staff or routing.station_id is None:
                return None
            found_tip = await self.services.get(PointsTipSources).tip(source_id)
            reporter = found_tip.reports[0].account_id if found_tip and found_tip.reports else None
            return SourceRef(routing.station_id, routing.district_id, reporter)
        hazards = hazard_reporters(self.services)
        found = await hazards.locate(source_id)
        if found is None or found[0] is None or not scope.sees_station(*found):
            return None
        reports = [r for r in await hazards.reporters(source_id) if r.account_id]
        first = min(reports, key=lambda r: r.reported_at).account_id if reports else None
        return SourceRef(found[0], found[1], first)


def wire(services: Services, platform: Platform) -> None:
    settings = platform.settings
    factory = uow_factory(platform.session_factory, platform.clock)
    service = RewardService(factory, platform.clock, RecordSources(services))
    services.register(RewardService, service)
    payouts = PayoutService(
        factory,
        platform.clock,
        payment_gateway(settings),
        WeChatPayees(platform.session_factory, settings.wechatpay_appid or settings.wechat_appid),
        services.get(NotificationService),
    )
    services.register(PayoutService, payouts)
    notifications = payment_notifications(settings)
    if notifications is not None:
        services.register(PaymentNotifications, notifications)

    async def pay(event: OutboxEvent, key: str) -> None:
        await payouts.pay(event.aggregate_id)

    async def cancel_unpaid(event: OutboxEvent, key: str) -> None:
        source_type = str(event.payload.get("source_type", ""))
        source_id = event.payload.get("source_id")
        if source_type in ("tip", "hazard") and source_id:
            await service.cancel_unpaid(source_type, uuid.UUID(str(source_id)), "report_reversed")

    registry = handler_registry(services)
    registry.register("reward.approved", "rewards.payout", pay)
    registry.register("points.reversed", "rewards.cancel_unpaid", cancel_unpaid)


async def reconcile_payouts(services: Services) -> int:
    return await services.get(PayoutService).reconcile()


TASKS["reward_payouts"] = reconcile_payouts
