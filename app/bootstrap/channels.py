"""Outbound notification channels (WeChat subscribe messages, vendor push) chosen by
settings, and the service behind /me/wechat/subscriptions and /me/devices."""

from __future__ import annotations

from app.api.container import Services
from app.bootstrap.identity import field_cipher
from app.bootstrap.platform import Platform
from app.domain.notifications.channels import ChannelSubscriptionService
from app.domain.notifications.model import Kind
from app.domain.notifications.ports import NotificationChannel
from app.domain.shared.scope import Scope
from app.infra.db.channels_repo import SqlChannelsUnitOfWork
from app.infra.push.dev import DevChannel
from app.infra.push.jpush import JPushChannel
from app.infra.wechat.access_token import WeChatAccessTokens
from app.infra.wechat.subscribe import WeChatSubscribeChannel
from app.settings import PushAdapter, WeChatSubscribeAdapter


def channels(platform: Platform) -> list[NotificationChannel]:
    s = platform.settings
    found: list[NotificationChannel] = []
    if s.wechat_subscribe_adapter == WeChatSubscribeAdapter.WECHAT:
        secret = s.wechat_secret.get_secret_value()
        tokens = WeChatAccessTokens(
            platform.http,
            platform.session_factory,
            field_cipher(s),
            platform.clock,
            appid=s.wechat_appid,
            secret=secret,
            base_url=s.wechat_base_url,
        )
        templates = {
            Kind.TIP_UPDATE: s.wechat_template_tip_update,
            Kind.VOLUNTEER_STATUS: s.wechat_template_volunteer_status,
        }
        found.append(
            WeChatSubscribeChannel(
                platform.http,
                platform.session_factory,
                tokens,
                appid=s.wechat_appid,
                templates=templates,
                page=s.wechat_subscribe_page,
                miniprogram_state=s.wechat_miniprogram_state,
                base_url=s.wechat_base_url,
            )
        )
    else:
        found.append(DevChannel("wechat", s.channel_dev_outbox))
    if s.push_adapter == PushAdapter.JPUSH:
        found.append(
            JPushChannel(
                platform.http,
                platform.session_factory,
                app_key=s.jpush_app_key,
                master_secret=s.jpush_master_secret.get_secret_value(),
                apns_production=s.jpush_apns_production,
                base_url=s.jpush_base_url,
            )
        )
    else:
        found.append(DevChannel("push", s.channel_dev_outbox))
    return found


def wire(services: Services, platform: Platform) -> None:
    def uow(scope: Scope) -> SqlChannelsUnitOfWork:
        return SqlChannelsUnitOfWork(platform.session_factory, scope, platform.clock)

    services.register(ChannelSubscriptionService, ChannelSubscriptionService(uow))
