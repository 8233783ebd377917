"""Realtime emergency alerts for simple clients (the mini-program's ``wx.connectSocket``,
scripts): the same ``AlertFeed`` as the GraphQL ``emergencyAlerts`` subscription.

WebSocket ``/api/v1/emergency/stream``:
- auth: ``Authorization: Bearer …`` on the upgrade request, or as the first message
  ``{"type": "auth", "token": "…", "after_seq": N}`` within a few seconds; no token (or
  none in time) closes with 4401, a token refused (or no staff or volunteer role) 4403;
- resume: ``after_seq`` (message or query parameter): every visible event after it is
  sent from the database first, then ``{"type": "ready", "seq": N}``, then live events;
- server → client: ``{"type": "event", "seq", "kind", "at", "drill", "member_id",
  "incident": {…}, "detail": {…}}`` and ``{"type": "ping"}`` every few seconds;
- client → server (optional): ``{"type": "ack", "seq": N}``, ``{"type": "ping"}``.
A revoked session ends the stream (4403) at the next periodic re-authentication.

SSE ``GET /api/v1/emergency/events``: ``text/event-stream``, ``id:`` is the seq, resumes
after ``Last-Event-ID`` (what browsers send on reconnect) or ``after_seq``, with comment
heartbeats."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import OrderedDict
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, WebSocket
from fastapi.responses import StreamingResponse
from starlette.websockets import WebSocketDisconnect, WebSocketDisconnected, WebSocketState

from app.api.container import Services, services_of
from app.api.context import current_scope
from app.api.rest import API_V1
from app.domain.emergency.feed import AlertFeed
from app.domain.emergency.incident_ports import FeedItem
from app.domain.shared.auth import Authenticator
from app.domain.shared.errors import DomainError
from app.domain.shared.scope import Scope

router = APIRouter(prefix=API_V1, tags=["emergency-realtime"])

AUTH_TIMEOUT_S = 5.0
PING_EVERY_S = 25.0
HEARTBEAT_EVERY_S = 15.0
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403


def _time(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _id(value: object) -> str | None:
    return str(value) if value is not None else None


def event_body(item: FeedItem) -> dict[str, Any]:
    incident = item.incident
    return {
        "type": "event",
        "seq": item.seq,
        "id": str(item.event_id),
        "kind": item.kind.value,
        "at": _time(item.at),
        "drill": item.drill,
        "member_id": _id(item.member_id),
        "incident": {
            "id": str(incident.id),
            "type": incident.type.value,
            "severity": incident.severity.value,
            "location": {"lon": incident.location.lon, "lat": incident.location.lat},
            "description": incident.description,
            "drill": incident.drill,
            "status": incident.status.value,
            "raised_at": _time(incident.raised_at),
            "station_id": _id(incident.station_id),
            "district_id": str(incident.district_id),
        },
        "detail": item.detail,
    }


def _dumps(body: Mapping[str, Any]) -> str:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


_encoded: OrderedDict[int, tuple[FeedItem, str]] = OrderedDict()


def encoded(item: FeedItem) -> str:
    """The event's JSON text, encoded once per process however many subscribers get it
    (live items come from ``AlertFeed``'s shared cache: the same object for all)."""
    hit = _encoded.get(item.seq)
    if hit is not None and hit[0] is item:
        return hit[1]
    text = _dumps(event_body(item))
    _encoded[item.seq] = (item, text)
    while len(_encoded) > 256:
        _encoded.popitem(last=False)
    return text


def _bearer(value: str | None) -> str | None:
    scheme, _, token = (value or "").strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _seq(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value >= 0:
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


class _Closing(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


async def _auth_message(websocket: WebSocket) -> tuple[str, int | None]:
    """The first message's token and after_seq; 4401 when absent, malformed or late."""
    try:
        raw = await asyncio.wait_for(websocket.receive_text(), AUTH_TIMEOUT_S)
        message = json.loads(raw)
    except (TimeoutError, ValueError, KeyError) as exc:
        raise _Closing(CLOSE_UNAUTHENTICATED) from exc
    if not isinstance(message, dict) or message.get("type") != "auth":
        raise _Closing(CLOSE_UNAUTHENTICATED)
    token = message.get("token")
    if not isinstance(token, str) or not token.strip():
        raise _Closing(CLOSE_UNAUTHENTICATED)
    token = _bearer(token) or token.strip()
    return token, _seq(message.get("after_seq"))


@router.websocket("/emergency/stream", name="emergencyStream")
async def emergency_stream(websocket: WebSocket) -> None:
    await websocket.accept()
    services: Services = websocket.app.state.services
    authenticator: Authenticator = services.get_any(Authenticator)
    after_seq = _seq(websocket.query_params.get("after_seq"))
    request_id = str(getattr(websocket.state, "request_id", "") or "ws")
    try:
        token = _bearer(websocket.headers.get("authorization"))
        if token is None:
            token, sent_seq = await _auth_message(websocket)
            after_seq = sent_seq if sent_seq is not None else after_seq
        try:
            scope = await authenticator.authenticate(token, request_id=request_id)
            scope = await services.get(AlertFeed).authorise(scope)
        except DomainError as exc:
            raise _Closing(CLOSE_FORBIDDEN) from exc
        await _serve(websocket, services, scope, token, after_seq, authenticator, request_id)
    except _Closing as closing:
        with contextlib.suppress(Exception):
            await websocket.close(closing.code)
    except WebSocketDisconnect:
        pass


async def _serve(
    websocket: WebSocket,
    services: Services,
    scope: Scope,
    token: str,
    after_seq: int | None,
    authenticator: Authenticator,
    request_id: str,
) -> None:
    feed = services.get(AlertFeed)
    sending = asyncio.Lock()

    async def send_text(text: str) -> None:
        async with sending:
            await websocket.send_text(text)

    async def send(body: Mapping[str, Any]) -> None:
        await send_text(_dumps(body))

    async def reauthenticate() -> Scope:
        return await authenticator.authenticate(token, request_id=request_id)

    async def ready(seq: int) -> None:
        await send({"type": "ready", "seq": seq})

    async def events() -> None:
        stream = feed.stream(scope, after_seq, reauthenticate=reauthenticate, on_live=ready)
        try:
            async for item in stream:
                await send_text(encoded(item))
        finally:
            await stream.aclose()

    async def pings() -> None:
        while True:
            await asyncio.sleep(PING_EVERY_S)
            await send({"type": "ping"})

    async def incoming() -> None:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            try:
                body = json.loads(message.get("text") or "null")
            except ValueError:
                continue
            if isinstance(body, dict) and body.get("type") == "ping":
                await send({"type": "pong"})
            # {"type": "ack", "seq": N}: nothing to do; the client resumes from its own
            # last seq, and delivery was recorded when the alert went out.

    tasks = [asyncio.create_task(job()) for job in (events, pings, incoming)]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    for task in done:
        error = task.exception()
        if isinstance(error, DomainError):  # re-authentication refused
            raise _Closing(CLOSE_FORBIDDEN)
        if isinstance(error, WebSocketDisconnect | WebSocketDisconnected | OSError):
            return  # the connection is gone
        if error is not None and task is not tasks[0]:
            return  # a ping or the reader failed: the connection is going
        if error is not None:
            raise error
    if websocket.client_state == WebSocketState.CONNECTED:
        with contextlib.suppress(Exception):
            await websocket.close()


SSE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Server-sent events: `id:` the event's seq, `data:` the event as JSON "
        "(as on the WebSocket), `: ping` heartbeats",
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    },
    401: {"description": "Not signed in"},
    403: {"description": "Neither staff nor a volunteer"},
    422: {"description": "Invalid input"},
}


@router.get(
    "/emergency/events",
    operation_id="streamEmergencyEvents",
    summary="Staff and volunteers: the emergency alerts and incident events you may see, "
    "as server-sent events (resumes after Last-Event-ID or after_seq)",
    response_class=StreamingResponse,
    responses=SSE_RESPONSES,
)
async def emergency_events(
    request: Request,
    scope: Annotated[Scope, Depends(current_scope)],
    after_seq: Annotated[
        int | None, Query(ge=0, description="Resume after this seq (default: from now)")
    ] = None,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> StreamingResponse:
    services = services_of(request)
    feed = services.get(AlertFeed)
    scope = await feed.authorise(scope)
    resume = _seq(last_event_id) if last_event_id else None
    start = resume if resume is not None else after_seq
    authenticator: Authenticator = services.get_any(Authenticator)
    token = _bearer(request.headers.get("authorization")) or ""

    async def reauthenticate() -> Scope:
        return await authenticator.authenticate(token, request_id=None)

    async def body() -> AsyncIterator[str]:
        queue: asyncio.Queue[str | None] = asyncio.Queue(maxsize=64)

        async def ready(seq: int) -> None:
            await queue.put(f"event: ready\ndata: {_dumps({'type': 'ready', 'seq': seq})}\n\n")

        async def produce() -> None:
            stream = feed.stream(scope, start, reauthenticate=reauthenticate, on_live=ready)
            try:
                async for item in stream:
                    await queue.put(f"id: {item.seq}\ndata: {encoded(item)}\n\n")
            except DomainError:
                await queue.put('event: error\ndata: {"code":"auth.unauthenticated"}\n\n')
            finally:
                await stream.aclose()
                with contextlib.suppress(asyncio.QueueFull):
                    queue.put_nowait(None)

        producer = asyncio.create_task(produce())
        try:
            yield "retry: 3000\n\n"
            while True:
                try:
                    chunk = await asyncio.wait_for(queue.get(), HEARTBEAT_EVERY_S)
                except TimeoutError:
                    yield ": ping\n\n"
                    continue
                if chunk is None:
                    return
                yield chunk
        finally:
            producer.cancel()
            with contextlib.suppress(BaseException):
                await producer

    return StreamingResponse(
        body(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
