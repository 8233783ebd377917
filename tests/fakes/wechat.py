"""A fake WeChat API server: auth.code2Session (GET /sns/jscode2session) on loopback.

Answers like the real one: JSON labelled ``text/plain``, HTTP 200 even for errors.

Codes:
- registered with ``register_code`` / ``issue_code`` -> openid, session_key (+ unionid);
  single use: a second exchange answers 40163 "code been used";
- ``"bad"`` -> 40029, ``"busy"`` -> -1, ``"ratelimited"`` -> 45011, ``"risky"`` -> 40226;
- ``"slow"`` -> waits ``slow_seconds`` then answers 40029 (for client timeouts);
- ``"broken"`` -> HTTP 502 with an HTML page; ``"garbage"`` -> HTTP 200, not JSON;
- anything else -> 40029.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

TEST_APPID = "wx0123456789abcdef"
TEST_SECRET = "fake0shouwang0test0app0secret000"


def _errors(errcode: int, errmsg: str) -> PlainTextResponse:
    rid = secrets.token_hex(4)
    return PlainTextResponse(json.dumps({"errcode": errcode, "errmsg": f"{errmsg}, rid: {rid}"}))


_BEHAVIOURS: dict[str, tuple[int, str]] = {
    "bad": (40029, "invalid code"),
    "busy": (-1, "system error"),
    "ratelimited": (45011, "api minute-quota reach limit  mustslower  retry next minute"),
    "risky": (40226, "code blocked"),
}


@dataclass
class FakeWeChat:
    appid: str = TEST_APPID
    secret: str = TEST_SECRET
    slow_seconds: float = 2.0
    # Every js_code received, in order (tests assert what did or did not reach the server).
    received_codes: list[str] = field(default_factory=list)
    _codes: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    _used: set[str] = field(default_factory=set)

    def register_code(self, code: str, openid: str, unionid: str | None = None) -> None:
        self._codes[code] = (openid, unionid)

    def issue_code(self, openid: str, unionid: str | None = None) -> str:
        """Like ``wx.login`` on the phone: a fresh code for this user."""
        code = secrets.token_urlsafe(24)
        self.register_code(code, openid, unionid)
        return code

    @property
    def app(self) -> Starlette:
        return Starlette(routes=[Route("/sns/jscode2session", self._code2session)])

    async def _code2session(self, request: Request) -> Response:
        query = request.query_params
        if query.get("appid") != self.appid:
            return _errors(40013, "invalid appid")
        if query.get("secret") != self.secret:
            return _errors(40125, "invalid appsecret")
        if query.get("grant_type") != "authorization_code":
            return _errors(40002, "invalid grant_type")
        code = query.get("js_code")
        if not code:
            return _errors(41008, "missing code")
        self.received_codes.append(code)

        if code == "slow":
            await asyncio.sleep(self.slow_seconds)
            return _errors(40029, "invalid code")
        if code == "broken":
            return HTMLResponse("<html><body>502 Bad Gateway</body></html>", status_code=502)
        if code == "garbage":
            return PlainTextResponse("<xml>not json</xml>")
        if code in _BEHAVIOURS:
            return _errors(*_BEHAVIOURS[code])
        if code in self._used:
            return _errors(40163, "code been used")
        if code not in self._codes:
            return _errors(40029, "invalid code")

        self._used.add(code)
        openid, unionid = self._codes[code]
        answer = {"session_key": secrets.token_urlsafe(16), "openid": openid}
        if unionid is not None:
            answer["unionid"] = unionid
        return PlainTextResponse(json.dumps(answer))
