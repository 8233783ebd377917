"""End-to-end latency of the ``tipUpdated`` subscription: from the commit of a submitted
tip to the officer's WebSocket receiving it.

The path measured: TipService.submit commits the tip and its ``tip.submitted`` outbox row →
the delivery worker (a separate ``shouwang worker`` process) claims it and runs the
realtime handler → ``pg_notify`` → the API process's LISTEN connection → the subscription
loads the tip under the officer's scope → graphql-transport-ws message over a real TCP
WebSocket (uvicorn).

Two modes: ``listen`` (the worker is woken by the outbox trigger of migration 0014) and
``poll`` (the trigger dropped: the worker finds rows only on its poll interval, as before
0014). Builds a scratch database and drops it afterwards. Run:

    uv run --frozen python bench/bench_subscription.py [--n 50] [--poll 1.0] [--mode both]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import sys
import time
import uuid
from typing import Any

import sqlalchemy as sa
import uvicorn
import websockets
from sqlalchemy.engine import make_url

from app.bootstrap.database import drop_database, ensure_database, run_migrations
from app.domain.identity.officers import NewOfficer, OfficerService
from app.domain.organisation.services import JurisdictionImportService
from app.domain.shared.geo import GeoPoint
from app.domain.shared.scope import Role, Scope, system_scope
from app.domain.tips.model import Category, Urgency
from app.domain.tips.services import NewTip, TipService
from app.main import create_app, platform_of
from app.settings import Env, Settings

BASE = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
PASSWORD = "Bench-Horse-9-battery"
X, Y = 119.95, 31.70  # the station is [X, X+0.01] × [Y, Y+0.01]


def rect(w: float, s: float, e: float, n: float) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}


def tree() -> str:
    def feature(level: str, code: str, name: str, parent: str | None) -> dict[str, Any]:
        props = {"level": level, "code": code, "name": name}
        if parent:
            props["parent_code"] = parent
        return {"type": "Feature", "properties": props, "geometry": rect(X, Y, X + 0.01, Y + 0.01)}

    doc = {
        "type": "FeatureCollection",
        "features": [
            feature("district", "BD", "基准分局", None),
            feature("station", "BS", "湖塘派出所", "BD"),
        ],
    }
    return json.dumps(doc, ensure_ascii=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def start_worker(url: str, poll: float) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "SHOUWANG_ENV": "test",
        "SHOUWANG_DATABASE_URL": url,
        "SHOUWANG_WORKER_POLL_INTERVAL_S": str(poll),
        "SHOUWANG_LOG_LEVEL": "WARNING",
        "SHOUWANG_LOG_JSON": "false",
    }
    return await asyncio.create_subprocess_exec(
        sys.executable, "-c", "from app.cli import cli; cli()", "worker", env=env
    )


async def measure(
    port: int, token: str, tips: TipService, n: int, gap: float, warmup: int = 3
) -> list[float]:
    """Submit ``warmup`` + ``n`` tips one after another (``gap`` apart, randomised so
    submissions do not lock step with the poll interval) and time each until its message
    arrives; the first ``warmup`` (connection pools, first queries) are not counted."""
    latencies: list[float] = []
    async with websockets.connect(
        f"ws://127.0.0.1:{port}/graphql", subprotocols=["graphql-transport-ws"]
    ) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"token": token}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        query = "subscription { tipUpdated { uuid status } }"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
        await asyncio.sleep(0.5)  # the subscription's LISTEN is in place
        for _ in range(warmup + n):
            await asyncio.sleep(gap * random.uniform(0.5, 1.5))
            reporter = Scope(account_id=uuid.uuid4(), roles=frozenset({Role.RESIDENT}))
            new = NewTip(
                category=Category.THEFT,
                description="小区东门有人多次拉拽车门，疑似盗窃",
                location=GeoPoint(X + 0.005, Y + 0.005),
                urgency=Urgency.HIGH,
                anonymous=True,
            )
            view = await tips.submit(reporter, new)
            committed = time.perf_counter()
            while True:
                msg = json.loads(await asyncio.wait_for(ws.recv(), 30))
                if msg["type"] == "next" and msg["payload"]["data"]["tipUpdated"]["uuid"] == str(
                    view.id
                ):
                    break
            latencies.append((time.perf_counter() - committed) * 1000)
    return latencies[warmup:]


async def main(n: int, poll: float, modes: list[str], gap: float) -> None:
    name = f"shouwang_bench_sub_{uuid.uuid4().hex[:8]}"
    url = make_url(BASE).set(database=name).render_as_string(hide_password=False)
    await ensure_database(url)
    try:
        await asyncio.to_thread(run_migrations, url, "heads")
        settings = Settings(
            env=Env.TEST, database_url=url, log_json=False, log_level="WARNING", db_pool_size=5
        )
        app = create_app(settings)
        services = app.state.services
        await services.get(JurisdictionImportService).import_file(system_scope(), tree())
        await services.get(OfficerService).create_officer(
            system_scope(),
            NewOfficer(
                username="bench.officer",
                password=PASSWORD,
                unit_code="BS",
                role="officer",
                display_name="基准民警",
            ),
        )
        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(
                app, host="127.0.0.1", port=port, log_level="warning", ws="websockets-sansio"
            )
        )
        serving = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.05)
        import httpx

        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            r = await http.post(
                "/api/v1/auth/login", json={"username": "bench.officer", "password": PASSWORD}
            )
            r.raise_for_status()
            token = r.json()["access_token"]
        tips = services.get(TipService)
        engine = platform_of(app).engine
        print(f"n={n} per mode, worker poll interval {poll} s, mean gap {gap} s")
        print("| mode | p50 ms | p95 ms | max ms | mean ms |")
        print("|---|---|---|---|---|")
        for mode in modes:
            async with engine.begin() as conn:
                await conn.execute(sa.text("DROP TRIGGER IF EXISTS outbox_notify_new ON outbox"))
                if mode == "listen":
                    await conn.execute(
                        sa.text(
                            "CREATE TRIGGER outbox_notify_new AFTER INSERT ON outbox "
                            "FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify_new()"
                        )
                    )
            worker = await start_worker(url, poll)
            try:
                await asyncio.sleep(2.0)  # the worker is up and idle
                values = await measure(port, token, tips, n, gap)
            finally:
                worker.terminate()
                await worker.wait()
            print(
                f"| {mode} | {statistics.median(values):.1f} | {pct(values, 0.95):.1f} "
                f"| {max(values):.1f} | {statistics.fmean(values):.1f} |"
            )
        server.should_exit = True
        await serving
        await platform_of(app).aclose()
    finally:
        await drop_database(url)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50, help="tips per mode")
    parser.add_argument("--poll", type=float, default=1.0, help="worker poll interval (s)")
    parser.add_argument("--gap", type=float, default=0.3, help="mean pause between tips (s)")
    parser.add_argument("--mode", choices=["listen", "poll", "both"], default="both")
    a = parser.parse_args()
    chosen = ["poll", "listen"] if a.mode == "both" else [a.mode]
    asyncio.run(main(a.n, a.poll, chosen, a.gap))
