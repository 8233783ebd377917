"""``tipUpdated`` over graphql-transport-ws with a real WebSocket client against a second
app instance: authenticated at connection_init, staff only, and only tips in scope."""

from __future__ import annotations

import asyncio
import time
import warnings
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from starlette.exceptions import StarletteDeprecationWarning
from starlette.websockets import WebSocketDisconnect
from support.auth import officer_token, resident_token
from support.org import OrgTree, make_org_tree
from support.tips import account_id, due_in, step, submit, tip_body

from app.domain.delivery.services import DeliveryService
from app.domain.tips.realtime import TipUpdates
from app.main import create_app
from app.settings import Settings

with warnings.catch_warnings():
    # Starlette's notice about its httpx transport; the WebSocket session is unaffected.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient, WebSocketTestSession

PROTOCOL = "graphql-transport-ws"
SUBSCRIPTION = "subscription { tipUpdated { uuid status stationId assigneeId } }"


@pytest.fixture
async def tree(app: Any) -> OrgTree:
    return await make_org_tree(app)


@pytest.fixture
def ws_app(settings: Settings) -> Any:
    """A separate app instance: TestClient runs it in its own thread and event loop."""
    return create_app(settings)


def connect(ws: WebSocketTestSession, payload: dict[str, Any]) -> None:
    ws.send_json({"type": "connection_init", "payload": payload})
    assert ws.receive_json()["type"] == "connection_ack"


async def receive(ws: WebSocketTestSession, seconds: float = 10.0) -> Any:
    return await asyncio.wait_for(asyncio.to_thread(ws.receive_json), seconds)


async def until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_officer_receives_only_tips_of_own_station(
    client: httpx.AsyncClient, app: Any, settings: Settings, tree: OrgTree, ws_app: Any
) -> None:
    delivery = app.state.services.get(DeliveryService)
    resident, _ = await resident_token(client, settings)
    officer = await officer_token(client, app, unit_code=tree.station_code)
    officer_id = await account_id(client, officer)
    own = await submit(client, resident, tip_body(tree))
    await delivery.drain()  # before subscribing: nothing old is replayed
    updates = ws_app.state.services.get_any(TipUpdates)

    with (
        TestClient(ws_app) as tc,
        tc.websocket_connect("/graphql", subprotocols=[PROTOCOL]) as ws,
    ):
        connect(ws, {"Authorization": f"Bearer {officer}"})
        ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION}})
        await until(lambda: updates.subscribers == 1)

        # A tip of the other station is published FIRST: had it been delivered, it would
        # be the first message; the first one must be the own station's tip.
        await submit(client, resident, tip_body(tree, at=tree.inside_other))
        await delivery.drain()
        body = {"officer_id": officer_id, "due_at": due_in()}
        await step(client, officer, own["id"], "assign", body)
        await delivery.drain()

        message = await receive(ws)
        assert message["type"] == "next", message
        tip = message["payload"]["data"]["tipUpdated"]
        assert tip["uuid"] == own["id"]
        assert tip["status"] == "TRIAGED"
        assert tip["assigneeId"] == officer_id
        assert tip["stationId"] is not None  # the staff view

        ws.send_json({"id": "1", "type": "complete"})
        await until(lambda: updates.subscribers == 0)


@pytest.mark.parametrize(
    "payload", [{}, {"Authorization": "Bearer not-a-token"}, {"token": ""}, {"authorization": 1}]
)
def test_connection_without_valid_token_is_rejected(ws_app: Any, payload: dict[str, Any]) -> None:
    with (
        TestClient(ws_app) as tc,
        tc.websocket_connect("/graphql", subprotocols=[PROTOCOL]) as ws,
    ):
        ws.send_json({"type": "connection_init", "payload": payload})
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 4403


def test_subscribing_without_connection_init_is_refused(ws_app: Any) -> None:
    with (
        TestClient(ws_app) as tc,
        tc.websocket_connect("/graphql", subprotocols=[PROTOCOL]) as ws,
    ):
        ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION}})
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 4401


async def test_residents_may_connect_but_not_subscribe(
    client: httpx.AsyncClient, settings: Settings, ws_app: Any
) -> None:
    resident, _ = await resident_token(client, settings)
    with (
        TestClient(ws_app) as tc,
        tc.websocket_connect("/graphql", subprotocols=[PROTOCOL]) as ws,
    ):
        connect(ws, {"token": resident})
        ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION}})
        message = await receive(ws)
        assert message["type"] == "next", message
        [error] = message["payload"]["errors"]
        assert error["extensions"]["code"] == "not_allowed"
        assert ws_app.state.services.get_any(TipUpdates).subscribers == 0
