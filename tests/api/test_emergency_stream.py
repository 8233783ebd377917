"""The realtime emergency doors over real sockets: two API app instances (each with its
own LISTEN connection, as two processes behind a load balancer) served by uvicorn on
loopback, one database. The plain WebSocket (header or first-message auth, resume,
scoping, drill flag, pings, closes 4401/4403), SSE (Last-Event-ID) and the GraphQL
``emergencyAlerts`` subscription over graphql-transport-ws."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn
import websockets
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from support.auth import officer_token, resident_token
from support.emergency_feed import IncidentRows, active_volunteer
from support.org import OrgTree, make_org_tree
from websockets.asyncio.client import ClientConnection

from app.api.rest import emergency_stream
from app.main import create_app, platform_of
from app.settings import Settings

PATH = "/api/v1/emergency/stream"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Servers:
    a: int
    b: int
    apps: list[Any]


@pytest.fixture(scope="module")
async def servers(settings: Settings) -> AsyncIterator[Servers]:
    apps, running, ports = [], [], []
    for _ in range(2):
        app = create_app(settings)
        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
        )
        running.append((server, asyncio.create_task(server.serve())))
        apps.append(app)
        ports.append(port)
    for server, _ in running:
        while not server.started:
            await asyncio.sleep(0.02)
    yield Servers(ports[0], ports[1], apps)
    for server, task in running:
        server.should_exit = True
        await task
    for app in apps:
        await platform_of(app).aclose()


@dataclass
class Cast:
    tree: OrgTree
    officer: str
    other_officer: str
    volunteer: str
    volunteer_id: str
    bystander: str
    resident: str


@pytest.fixture
async def cast(client: httpx.AsyncClient, app: Any, settings: Settings) -> Cast:
    tree = await make_org_tree(app)
    officer = await officer_token(client, app, unit_code=tree.station_code)
    other = await officer_token(client, app, unit_code=tree.other_station_code)
    volunteer, vid = await active_volunteer(client, settings, officer, tree)
    bystander, _ = await active_volunteer(client, settings, officer, tree)
    resident, _ = await resident_token(client, settings)
    return Cast(tree, officer, other, volunteer, vid, bystander, resident)


def incident(sf: async_sessionmaker[AsyncSession], cast: Cast, drill: bool) -> IncidentRows:
    t = cast.tree
    return IncidentRows(
        sf, station_id=t.station_id, district_id=t.district_id, at=t.inside, drill=drill
    )


async def recv(ws: ClientConnection, seconds: float = 5) -> dict[str, Any]:
    return dict(json.loads(await asyncio.wait_for(ws.recv(), seconds)))


async def open_stream(
    port: int, token: str, after_seq: int | None = None, header: bool = True
) -> ClientConnection:
    """Connected and live (``ready`` received); replayed events are left unread."""
    headers = {"Authorization": f"Bearer {token}"} if header else None
    ws = await websockets.connect(f"ws://127.0.0.1:{port}{PATH}", additional_headers=headers)
    if not header:
        await ws.send(json.dumps({"type": "auth", "token": token, "after_seq": after_seq}))
    return ws


async def events_until_ready(ws: ClientConnection) -> list[dict[str, Any]]:
    out = []
    while (m := await recv(ws))["type"] != "ready":
        out.append(m)
    return out


async def nothing_pending(ws: ClientConnection) -> None:
    """No event is waiting: a ping is answered by the very next message."""
    await asyncio.sleep(0.3)
    await ws.send(json.dumps({"type": "ping"}))
    assert (await recv(ws))["type"] == "pong"


async def test_alerts_cross_instances_scoped_with_drill_flag(
    servers: Servers, cast: Cast, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    officer = await open_stream(servers.a, cast.officer)
    volunteer = await open_stream(servers.b, cast.volunteer, header=False)  # first message
    stranger = await open_stream(servers.b, cast.other_officer)
    bystander = await open_stream(servers.a, cast.bystander)
    try:
        for ws in (officer, volunteer, stranger, bystander):
            assert await events_until_ready(ws) == []
        drill = await incident(session_factory, cast, drill=True).create()
        raised = await drill.event("raised")
        alerted = await drill.event("alerted", cast.volunteer_id, {"ring": 0})

        got = [await recv(officer), await recv(officer)]
        assert [(m["seq"], m["kind"]) for m in got] == [(raised, "raised"), (alerted, "alerted")]
        assert all(m["drill"] is True and m["incident"]["drill"] is True for m in got)

        m = await recv(volunteer)  # delivered by the other instance
        assert (m["type"], m["seq"], m["kind"], m["drill"]) == ("event", alerted, "alerted", True)
        assert m["member_id"] == cast.volunteer_id
        assert m["detail"] == {"ring": 0}
        assert m["incident"]["id"] == str(drill.id)
        assert m["incident"]["type"] == "drowning"
        assert m["incident"]["description"] == "河边有人落水，需要救援"
        assert m["incident"]["location"] == {"lon": cast.tree.inside[0], "lat": cast.tree.inside[1]}
        assert m["at"].endswith("Z")
        await volunteer.send(json.dumps({"type": "ack", "seq": alerted}))

        for ws in (stranger, bystander):  # another station's officer; a volunteer not alerted
            await nothing_pending(ws)
    finally:
        for ws in (officer, volunteer, stranger, bystander):
            await ws.close()


async def test_reconnect_resumes_from_the_database(
    servers: Servers, cast: Cast, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    rows = await incident(session_factory, cast, drill=False).create()
    first = await rows.event("raised")
    ws = await open_stream(servers.a, cast.officer)
    await events_until_ready(ws)
    second = await rows.event("dispatch_started")
    assert (await recv(ws))["seq"] == second
    await ws.close()
    # Missed while disconnected:
    third = await rows.event("ring_widened")
    fourth = await rows.event("all_stood_down")
    ws = await open_stream(servers.b, cast.officer, after_seq=second, header=False)
    try:
        replay = await events_until_ready(ws)
        assert [m["seq"] for m in replay] == [third, fourth]
        assert all(m["drill"] is False for m in replay)
        fifth = await rows.event("resolved")
        assert (await recv(ws))["seq"] == fifth
    finally:
        await ws.close()
    ws = await open_stream(servers.a, cast.officer, header=False, after_seq=first - 1)
    try:
        replay = await events_until_ready(ws)
        assert [m["seq"] for m in replay] == [first, second, third, fourth, fifth]
    finally:
        await ws.close()


async def closed_with(ws: ClientConnection) -> int | None:
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await recv(ws)
    return closed.value.rcvd.code if closed.value.rcvd else None


@pytest.mark.parametrize(
    "first",
    [
        {"type": "subscribe"},
        {"type": "auth"},
        {"type": "auth", "token": ""},
        "not json",
    ],
)
async def test_stream_without_a_token_closes_4401(servers: Servers, first: Any) -> None:
    ws = await websockets.connect(f"ws://127.0.0.1:{servers.a}{PATH}")
    await ws.send(first if isinstance(first, str) else json.dumps(first))
    assert await closed_with(ws) == 4401


async def test_stream_silent_client_closes_4401(
    servers: Servers, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(emergency_stream, "AUTH_TIMEOUT_S", 0.3)
    ws = await websockets.connect(f"ws://127.0.0.1:{servers.a}{PATH}")
    assert await closed_with(ws) == 4401


async def test_stream_refused_tokens_close_4403(servers: Servers, cast: Cast) -> None:
    bad = await open_stream(servers.a, "not-a-token")
    assert await closed_with(bad) == 4403
    bad = await open_stream(servers.a, "not-a-token", header=False)
    assert await closed_with(bad) == 4403
    resident = await open_stream(servers.a, cast.resident)  # neither staff nor volunteer
    assert await closed_with(resident) == 4403


async def test_revoked_session_ends_the_stream(
    servers: Servers, cast: Cast, client: httpx.AsyncClient, app: Any, settings: Settings
) -> None:
    from support.auth import create_officer

    username, password = await create_officer(app, unit_code=cast.tree.station_code)
    r = await client.post("/api/v1/auth/login", json={"username": username, "password": password})
    pair = r.json()
    feed = servers.apps[0].state.services.get(emergency_stream.AlertFeed)
    feed.reauth_every_s = 0.2
    try:
        ws = await open_stream(servers.a, pair["access_token"])
        await events_until_ready(ws)
        out = await client.post(
            "/api/v1/auth/logout", json={"refresh_token": pair["refresh_token"]}
        )
        assert out.status_code == 204, out.text
        assert await closed_with(ws) == 4403
    finally:
        feed.reauth_every_s = 30.0


async def test_sse_resumes_after_last_event_id(
    servers: Servers, cast: Cast, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    rows = await incident(session_factory, cast, drill=True).create()
    raised = await rows.event("raised")
    started = await rows.event("dispatch_started")
    headers = {"Authorization": f"Bearer {cast.officer}", "Last-Event-ID": str(raised)}
    url = f"http://127.0.0.1:{servers.b}/api/v1/emergency/events?after_seq=0"
    async with (
        httpx.AsyncClient(timeout=10) as http,
        http.stream("GET", url, headers=headers) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        frames: list[dict[str, str]] = []
        frame: dict[str, str] = {}
        lines = response.aiter_lines()
        live_seq: int | None = None
        async with asyncio.timeout(10):
            async for line in lines:
                if line:
                    key, _, value = line.partition(":")
                    frame[key] = value.strip()
                    continue
                frames.append(frame)
                frame = {}
                if frame_is_ready(frames[-1]) and live_seq is None:
                    live_seq = await rows.event("resolved")
                if live_seq is not None and frames[-1].get("id") == str(live_seq):
                    break
    ids = [f["id"] for f in frames if "id" in f]
    assert ids == [str(started), str(live_seq)]  # not `raised`: Last-Event-ID wins
    data = [json.loads(f["data"]) for f in frames if "id" in f]
    assert [d["kind"] for d in data] == ["dispatch_started", "resolved"]
    assert all(d["drill"] is True for d in data)


def frame_is_ready(frame: dict[str, str]) -> bool:
    return frame.get("event") == "ready"


async def test_sse_needs_a_token(servers: Servers) -> None:
    async with httpx.AsyncClient() as http:
        r = await http.get(f"http://127.0.0.1:{servers.a}/api/v1/emergency/events")
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")


async def test_graphql_emergency_alerts(
    servers: Servers, cast: Cast, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    rows = await incident(session_factory, cast, drill=True).create()
    raised = await rows.event("raised")
    query = (
        "subscription($after: Int) { emergencyAlerts(afterSeq: $after) "
        "{ seq kind drill memberId incident { uuid type drill location { lon lat } } } }"
    )
    async with websockets.connect(
        f"ws://127.0.0.1:{servers.b}/graphql", subprotocols=["graphql-transport-ws"]
    ) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"token": cast.officer}}))
        assert (await recv(ws))["type"] == "connection_ack"
        payload = {"query": query, "variables": {"after": raised - 1}}
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        m = await recv(ws)
        alert = m["payload"]["data"]["emergencyAlerts"]
        assert (alert["seq"], alert["kind"], alert["drill"]) == (raised, "RAISED", True)
        assert alert["incident"]["uuid"] == str(rows.id)
        widened = await rows.event("ring_widened")
        m = await recv(ws)
        assert m["payload"]["data"]["emergencyAlerts"]["seq"] == widened
        await ws.send(json.dumps({"id": "1", "type": "complete"}))

    async with websockets.connect(
        f"ws://127.0.0.1:{servers.b}/graphql", subprotocols=["graphql-transport-ws"]
    ) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"token": cast.resident}}))
        assert (await recv(ws))["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
        m = await recv(ws)
        assert m["payload"]["errors"][0]["extensions"]["code"] == "not_allowed"
