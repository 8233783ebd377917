"""Development-only WeChat login: derives a stable fake openid from the login code.

Anyone who can call the API can sign in as any "WeChat user" with this adapter, which is
the point on a developer's machine and a disaster anywhere else: production settings
refuse ``SHOUWANG_WECHAT_ADAPTER=dev``.
"""

from __future__ import annotations

import hashlib

from app.domain.identity.gateways import WeChatCodeInvalid, WeChatIdentity

MAX_CODE_LENGTH = 128


class DevWeChatAuth:
    """The same code always yields the same openid (``dev-`` + 28 hex characters), so a
    developer can come back to the same account by reusing a code."""

    async def exchange_code(self, code: str) -> WeChatIdentity:
        if not code or len(code) > MAX_CODE_LENGTH or not code.isprintable():
            raise WeChatCodeInvalid()
        digest = hashlib.sha256(b"shouwang-dev-wechat\x00" + code.encode("utf-8")).hexdigest()
        return WeChatIdentity(openid="dev-" + digest[:28], unionid=None)
