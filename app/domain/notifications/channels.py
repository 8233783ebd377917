"""What a resident tells us about their outbound channels: WeChat subscribe-message
grants (reported by the mini-program after ``wx.requestSubscribeMessage``) and the
devices registered for vendor push. Only the caller's own account is ever touched."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from enum import StrEnum
from typing import Any, Protocol

from app.domain.notifications.model import own_account
from app.domain.shared.errors import InvalidInput, NotFound
from app.domain.shared.scope import Scope

# wx.requestSubscribeMessage accepts at most three template ids per call.
MAX_TEMPLATES_PER_REPORT = 3
# One-time grants accumulate; a cap keeps a misbehaving client from piling them up.
MAX_GRANTS_PER_TEMPLATE = 50
_TEMPLATE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_REGISTRATION_ID = re.compile(r"^[A-Za-z0-9_:.-]{1,200}$")


class SubscribeResult(StrEnum):
    ACCEPT = "accept"
    REJECT = "reject"
    BAN = "ban"  # the template was banned by WeChat: nothing may be sent with it


class PushPlatform(StrEnum):
    ANDROID = "android"
    IOS = "ios"


class DeviceNotFound(NotFound):
    code = "device.not_found"
    message_en = "The device was not found."
    message_zh = "未找到该设备。"


def _invalid(en: str, zh: str, code: str) -> InvalidInput:
    return InvalidInput(en, zh, code=code)


class ChannelsRepository(Protocol):
    async def add_grant(self, account_id: uuid.UUID, template_id: str, cap: int) -> int:
        """One more grant (not beyond ``cap``); returns the remaining count."""
        ...

    async def clear_grant(self, account_id: uuid.UUID, template_id: str) -> None: ...

    async def grants_of(
        self, account_id: uuid.UUID, template_ids: Sequence[str]
    ) -> dict[str, int]: ...

    async def upsert_device(
        self, account_id: uuid.UUID, platform: PushPlatform, registration_id: str
    ) -> None:
        """A registration id belongs to one account: re-registering moves it."""
        ...

    async def remove_device(self, account_id: uuid.UUID, registration_id: str) -> bool: ...


class ChannelsUnitOfWork(Protocol):
    channels: ChannelsRepository

    async def __aenter__(self) -> ChannelsUnitOfWork: ...

    async def __aexit__(self, *exc: Any) -> None: ...

    def audit(
        self,
        action: str,
        record_type: str,
        record_id: uuid.UUID | None,
        detail: dict[str, Any] | None = None,
    ) -> None: ...

    async def commit(self) -> None: ...


class ChannelSubscriptionService:
    def __init__(self, uow_factory: Callable[[Scope], ChannelsUnitOfWork]) -> None:
        self.uow_factory = uow_factory

    async def record_wechat_subscriptions(
        self, scope: Scope, template_ids: Sequence[str], results: Mapping[str, str]
    ) -> dict[str, int]:
        """Counts the mini-program's report; returns the remaining grants per template."""
        account = own_account(scope)
        if not template_ids or len(template_ids) > MAX_TEMPLATES_PER_REPORT:
            raise _invalid(
                "Report one to three template ids.",
                "请提交一至三个模板编号。",
                "wechat.subscription_templates",
            )
        if not all(_TEMPLATE_ID.match(t) for t in template_ids) or not set(results) <= set(
            template_ids
        ):
            raise _invalid(
                "Unknown template id in the report.",
                "订阅结果中包含未知模板编号。",
                "wechat.subscription_templates",
            )
        try:
            parsed = {t: SubscribeResult(r) for t, r in results.items()}
        except ValueError:
            raise _invalid(
                "A subscription result is not accept, reject or ban.",
                "订阅结果无效。",
                "wechat.subscription_result",
            ) from None
        async with self.uow_factory(scope) as uow:
            for template, result in parsed.items():
                if result is SubscribeResult.ACCEPT:
                    await uow.channels.add_grant(account, template, MAX_GRANTS_PER_TEMPLATE)
                elif result is SubscribeResult.BAN:
                    await uow.channels.clear_grant(account, template)
            counts = await uow.channels.grants_of(account, list(template_ids))
            uow.audit(
                "wechat.subscriptions_reported",
                "account",
                account,
                {"results": {t: r.value for t, r in parsed.items()}},
            )
            await uow.commit()
        return counts

    async def register_device(self, scope: Scope, platform: str, registration_id: str) -> None:
        account = own_account(scope)
        try:
            kind = PushPlatform(platform)
        except ValueError:
            raise _invalid(
                "Platform must be android or ios.", "平台须为 android 或 ios。", "device.platform"
            ) from None
        if not _REGISTRATION_ID.match(registration_id):
            raise _invalid(
                "Invalid registration id.", "设备注册编号无效。", "device.registration_id"
            )
        async with self.uow_factory(scope) as uow:
            await uow.channels.upsert_device(account, kind, registration_id)
            uow.audit("device.registered", "account", account, {"platform": kind.value})
            await uow.commit()

    async def unregister_device(self, scope: Scope, registration_id: str) -> None:
        account = own_account(scope)
        async with self.uow_factory(scope) as uow:
            if not await uow.channels.remove_device(account, registration_id):
                raise DeviceNotFound()
            uow.audit("device.unregistered", "account", account)
            await uow.commit()


class ChannelUnavailable(RuntimeError):
    """A channel's provider failed in a way worth retrying (network, 5xx, "system busy").
    Raised out of ``send`` so the delivery worker retries; the message names no person."""
