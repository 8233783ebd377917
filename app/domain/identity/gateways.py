"""Ports to the outside services used to identify people: SMS one-time codes and WeChat login.

Adapters live in ``app.infra.sms`` and ``app.infra.wechat``; use cases depend only on these
protocols and on the errors below.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from app.domain.shared.errors import InvalidInput, NotAllowed, RateLimited, UpstreamUnavailable


class SmsDeliveryFailed(UpstreamUnavailable):
    """The SMS provider refused or could not be reached; the code was not sent."""

    code = "sms.delivery_failed"
    message_en = "The verification code could not be sent; try again later."
    message_zh = "验证码发送失败，请稍后再试。"


class SmsSender(Protocol):
    async def send_otp(self, phone: str, code: str, ttl_minutes: int) -> None:
        """Send a login code to an 11-digit mainland mobile number (no ``+86`` prefix).

        Raises ``SmsDeliveryFailed`` when the message was not accepted by the provider.
        """
        ...


@dataclass(frozen=True, slots=True)
class WeChatIdentity:
    """Who a WeChat mini-program login code belongs to.

    The ``session_key`` WeChat returns alongside is deliberately absent: it never leaves
    the adapter and is never stored.
    """

    openid: str
    unionid: str | None


class WeChatCodeInvalid(InvalidInput):
    """The ``wx.login`` code is unknown, expired or already used (errcode 40029 / 40163)."""

    code = "wechat.code_invalid"
    message_en = "The WeChat login code is invalid or has expired; log in again."
    message_zh = "微信登录凭证无效或已过期，请重新登录。"


class WeChatRateLimited(RateLimited):
    """WeChat's per-user minute quota was hit (errcode 45011)."""

    code = "wechat.rate_limited"
    message_en = "Too many WeChat login attempts; try again in a minute."
    message_zh = "微信登录过于频繁，请一分钟后再试。"

    RETRY_AFTER_SECONDS = 60

    def __init__(
        self,
        retry_after_seconds: int = RETRY_AFTER_SECONDS,
        message_en: str | None = None,
        message_zh: str | None = None,
        *,
        code: str | None = None,
    ) -> None:
        super().__init__(retry_after_seconds, message_en, message_zh, code=code)


class WeChatUserBlocked(NotAllowed):
    """WeChat rated the user high-risk and blocked the mini-program login (errcode 40226)."""

    code = "wechat.user_blocked"
    message_en = "WeChat has blocked this login for security reasons."
    message_zh = "出于安全原因，微信已拦截本次登录。"


class WeChatUnavailable(UpstreamUnavailable):
    """WeChat is busy, unreachable or answered something unexpected."""

    code = "wechat.unavailable"
    message_en = "WeChat login is temporarily unavailable; try again later."
    message_zh = "微信登录暂时不可用，请稍后再试。"


class WeChatAuthGateway(Protocol):
    async def exchange_code(self, code: str) -> WeChatIdentity:
        """Exchange a ``wx.login`` code for the user's identity (auth.code2Session).

        Raises ``WeChatCodeInvalid``, ``WeChatRateLimited``, ``WeChatUserBlocked`` or
        ``WeChatUnavailable``.
        """
        ...
