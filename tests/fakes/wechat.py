"""A fake WeChat API server: auth.code2Session (GET /sns/jscode2session) on loopback.

Answers like the real one: JSON labelled ``text/plain``, HTTP 200 even for errors.

Codes:
- registered with ``register_code`` / ``issue_code`` -> openid, session_key (+ unionid);
  single use: a second exchange answers 40163 "code been used";
- ``"bad"`` -> 40029, ``"busy"`` -> -1, ``"ratelimited"`` -> 45011, ``"risky"`` -> 40226;
- ``"slow"`` -> waits ``slow_seconds`` then answers 40029 (for client timeouts);
- ``"broken"`` -> HTTP 502 with an HTML page; ``"garbage"`` -> HTTP 200, not JSON;
- anything else -> 40029.

Subscribe messages: ``GET /cgi-bin/token`` issues access tokens (counted in
``tokens_issued``; ``revoke_tokens`` makes every issued token answer 40001) and
``POST /cgi-bin/message/subscribe/send`` checks the token and the body, records the
message in ``sent_messages``, or answers the next errcode queued in ``send_script``
(e.g. 43101 refused, -1 busy, 40003 bad openid).
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
    token_delay_s: float = 0.0
    tokens_issued: int = 0
    sent_messages: list[dict[str, object]] = field(default_factory=list)
    send_script: list[int] = field(default_factory=list)
    _tokens: set[str] = field(default_factory=set)

    def revoke_tokens(self) -> None:
        """Every token issued so far now answers 40001 (as after a refresh elsewhere)."""
        self._tokens.clear()

    def reset_messages(self) -> None:
        self.sent_messages.clear()
        self.send_script.clear()

    def register_code(self, code: str, openid: str, unionid: str | None = None) -> None:
        self._codes[code] = (openid, unionid)

    def issue_code(self, openid: str, unionid: str | None = None) -> str:
        """Like ``wx.login`` on the phone: a fresh code for this user."""
        code = secrets.token_urlsafe(24)
        self.register_code(code, openid, unionid)
        return code

    @property
    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/sns/jscode2session", self._code2session),
                Route("/cgi-bin/token", self._token),
                Route("/cgi-bin/message/subscribe/send", self._subscribe_send, methods=["POST"]),
            ]
        )

    async def _token(self, request: Request) -> Response:
        query = request.query_params
        if query.get("grant_type") != "client_credential":
            return _errors(40002, "invalid grant_type")
        if query.get("appid") != self.appid:
            return _errors(40013, "invalid appid")
        if query.get("secret") != self.secret:
            return _errors(40125, "invalid appsecret")
        if self.token_delay_s:
            await asyncio.sleep(self.token_delay_s)
        token = secrets.token_urlsafe(48)
        self._tokens.add(token)
        self.tokens_issued += 1
        return PlainTextResponse(json.dumps({"access_token": token, "expires_in": 7200}))

    async def _subscribe_send(self, request: Request) -> Response:
        if request.query_params.get("access_token") not in self._tokens:
            return _errors(40001, "invalid credential, access_token is invalid or not latest")
        try:
            body = json.loads(await request.body())
        except ValueError:
            return _errors(47001, "data format error")
        data = body.get("data") if isinstance(body, dict) else None
        if (
            not isinstance(body.get("touser"), str)
            or not isinstance(body.get("template_id"), str)
            or not isinstance(data, dict)
            or not all(
                isinstance(v, dict) and isinstance(v.get("value"), str) for v in data.values()
            )
            or not isinstance(body.get("page", ""), str)
        ):
            return _errors(47003, "argument invalid!")
        if self.send_script:
            return _errors(self.send_script.pop(0), "scripted")
        self.sent_messages.append(body)
        return PlainTextResponse(
            json.dumps({"errcode": 0, "errmsg": "ok", "msgid": secrets.randbelow(10**12)})
        )

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
