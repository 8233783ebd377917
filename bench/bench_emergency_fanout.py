"""Realtime fan-out of emergency alerts (issue 5 §5): N authenticated subscribers on the
plain WebSocket endpoint ``/api/v1/emergency/stream`` of real API processes
(``shouwang serve``), one event committed with SQL, per-subscriber latency from the
commit to the subscriber's socket.

What runs: a scratch database (migrations, one district and station); N officer
accounts of that station, each with its own session and access token (minted in bulk
with the server's token codec, as bench/make_tokens.py does for residents), so one
``raised`` event reaches every subscriber; the API as a separate process (`shouwang
serve`, one worker); this process is the load generator (asyncio + websockets) and also
commits the events. Per round: a new incident and its ``raised`` event are inserted in
one transaction; the time after COMMIT returns is the start; each subscriber stamps its
receive time (same machine clock). RSS of each API process is read from
/proc/<pid>/status (VmRSS) before and after the subscribers connect.

Then the same with two API processes on two ports, half the subscribers on each: an
event committed once reaches both halves through each process's own LISTEN connection.

    uv run --frozen python bench/bench_emergency_fanout.py [--n 5000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import resource
import socket
import statistics
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import sqlalchemy as sa
import websockets
from sqlalchemy.engine import make_url

from app.bootstrap.database import drop_database, ensure_database, run_migrations
from app.bootstrap.identity import access_tokens
from app.bootstrap.organisation import build_importer
from app.domain.identity.model import Account, AccountKind, SignInMethod
from app.domain.identity.sessions import AuthSession
from app.domain.shared.ids import new_id
from app.domain.shared.scope import Role, system_scope
from app.infra.db.engine import make_engine, make_session_factory
from app.infra.db.identity_auth_repo import SqlSessionRepository
from app.infra.db.identity_repo import SqlAccountRepository
from app.infra.db.tables.organisation import org_units
from app.settings import load_settings

BASE = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
X, Y = 119.95, 31.70
PATH = "/api/v1/emergency/stream"


def rect(w: float, s: float, e: float, n: float) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}


def tree() -> str:
    def feature(level: str, code: str, name: str, parent: str | None) -> dict[str, Any]:
        props = {"level": level, "code": code, "name": name}
        if parent:
            props["parent_code"] = parent
        return {"type": "Feature", "properties": props, "geometry": rect(X, Y, X + 0.01, Y + 0.01)}

    return json.dumps(
        {
            "type": "FeatureCollection",
            "features": [
                feature("district", "BD", "基准分局", None),
                feature("station", "BS", "湖塘派出所", "BD"),
            ],
        },
        ensure_ascii=False,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def cpu_s(pid: int) -> float:
    """utime + stime of a process (seconds)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


async def make_officers(url: str, n: int) -> tuple[list[str], uuid.UUID, uuid.UUID]:
    """N officer accounts of station BS, each signed in (own session); their tokens."""
    settings = load_settings()
    engine = make_engine(url, pool_size=2)
    sf = make_session_factory(engine)
    await build_importer(sf).import_file(system_scope(), tree())
    async with sf() as session:
        units = {
            r.code: r.id
            for r in await session.execute(
                sa.select(org_units.c.code, org_units.c.id).where(
                    org_units.c.code.in_(["BS", "BD"])
                )
            )
        }
    codec = access_tokens(settings)
    at = datetime.now(UTC)
    tokens: list[str] = []
    for start in range(0, n, 500):
        async with sf() as session:
            repo, sessions = SqlAccountRepository(session), SqlSessionRepository(session)
            for k in range(start, min(start + 500, n)):
                account = Account.new(
                    AccountKind.OFFICER, at, account_id=new_id(), display_name=f"民警{k}"
                )
                await repo.add(account)
                await repo.add_role(account.id, Role.OFFICER, units["BS"], granted_by=account.id)
                sid = new_id()
                await sessions.add_session(
                    AuthSession(sid, account.id, SignInMethod.PASSWORD, at, "bench")
                )
                tokens.append(codec.issue(account.id, sid, at))
            await session.commit()
    await engine.dispose()
    return tokens, units["BS"], units["BD"]


async def start_server(port: int, python: list[str]) -> asyncio.subprocess.Process:
    proc = await asyncio.create_subprocess_exec(
        *python,
        "serve",
        "--port",
        str(port),
        "--workers",
        "1",
        env=dict(os.environ),
    )
    async with httpx.AsyncClient() as http:
        for _ in range(300):
            try:
                if (await http.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                    return proc
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("server did not start")


@dataclass
class Subscriber:
    port: int
    token: str
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    received: dict[int, float] = field(default_factory=dict)  # seq -> wall time
    error: str | None = None


async def run_subscriber(sub: Subscriber, stop: asyncio.Event, gate: asyncio.Semaphore) -> None:
    try:
        async with gate:
            ws = await websockets.connect(
                f"ws://127.0.0.1:{sub.port}{PATH}",
                additional_headers={"Authorization": f"Bearer {sub.token}"},
                open_timeout=60,
                ping_interval=None,
                max_queue=64,
            )
            while json.loads(await ws.recv())["type"] != "ready":
                pass
        sub.ready.set()
        async with ws:
            while not stop.is_set():
                raw = await ws.recv()
                now = time.time()
                message = json.loads(raw)
                if message["type"] == "event":
                    sub.received[message["seq"]] = now
    except websockets.ConnectionClosedOK:
        pass
    except Exception as exc:
        sub.error = f"{type(exc).__name__}: {exc}"
        sub.ready.set()


async def commit_event(url: str, station: uuid.UUID, district: uuid.UUID) -> tuple[int, float]:
    """A new incident and its ``raised`` event in one transaction; (seq, commit time)."""
    engine = make_engine(url, pool_size=1)
    try:
        async with engine.connect() as conn:
            incident = new_id()
            await conn.execute(
                sa.text(
                    "INSERT INTO emergency_incidents (id, type, severity, location, description,"
                    " raised_by, station_id, district_id, drill, raised_at, status, policy)"
                    " VALUES (:id, 'fire', 'high', ST_SetSRID(ST_MakePoint(:x, :y), 4326)"
                    "::geography, '湖塘商圈一店铺起火', 'command_centre', :s, :d, false, now(),"
                    " 'open', '{}'::jsonb)"
                ),
                {"id": incident, "x": X + 0.005, "y": Y + 0.005, "s": station, "d": district},
            )
            seq = (
                await conn.execute(
                    sa.text(
                        "INSERT INTO emergency_incident_events (id, incident_id, kind, at,"
                        " drill, station_id, district_id) VALUES (:id, :i, 'raised', now(),"
                        " false, :s, :d) RETURNING seq"
                    ),
                    {"id": new_id(), "i": incident, "s": station, "d": district},
                )
            ).scalar_one()
            await conn.commit()
            return int(seq), time.time()
    finally:
        await engine.dispose()


async def scenario(
    url: str,
    tokens: list[str],
    station: uuid.UUID,
    district: uuid.UUID,
    servers: int,
    rounds: int,
    gap: float,
    wait: float,
    server_python: list[str],
) -> None:
    ports = [free_port() for _ in range(servers)]
    procs = [await start_server(p, server_python) for p in ports]
    try:
        await asyncio.sleep(1.0)
        before = [rss_mib(p.pid) for p in procs]
        stop = asyncio.Event()
        gate = asyncio.Semaphore(200)  # connections being opened at once
        subs = [Subscriber(ports[k % servers], t) for k, t in enumerate(tokens)]
        started = time.perf_counter()
        tasks = [asyncio.create_task(run_subscriber(s, stop, gate)) for s in subs]
        await asyncio.gather(*(s.ready.wait() for s in subs))
        connect_s = time.perf_counter() - started
        # The load generator's own connection objects live to the end: keep its collector
        # from walking them during the rounds (its pauses would count as latency).
        gc.collect()
        gc.freeze()
        failed = [s for s in subs if s.error]
        live = [s for s in subs if not s.error]
        await asyncio.sleep(2.0)
        cpu0, own0, t0 = [cpu_s(p.pid) for p in procs], own_cpu_s(), time.perf_counter()
        await asyncio.sleep(10.0)
        idle = time.perf_counter() - t0
        server_idle = [(cpu_s(p.pid) - c) / idle for p, c in zip(procs, cpu0, strict=True)]
        own_idle = (own_cpu_s() - own0) / idle
        after = [rss_mib(p.pid) for p in procs]
        print(
            f"\n### {servers} API process(es), {len(live)} subscribers connected "
            f"({len(failed)} failed) in {connect_s:.1f} s"
        )
        if failed:
            print("  first failure:", failed[0].error)
        for k, p in enumerate(procs):
            print(
                f"  API process {k + 1} (port {ports[k]}, pid {p.pid}): VmRSS {before[k]:.0f} MiB "
                f"idle -> {after[k]:.0f} MiB with {sum(1 for s in live if s.port == ports[k])}"
                f" subscribers ({(after[k] - before[k]) * 1024 / max(1, len(live) / servers):.1f}"
                " KiB each)"
            )
        print(
            "  CPU while idle (10 s, connections open): API "
            + ", ".join(f"{c:.0%}" for c in server_idle)
            + f" of a core; load generator {own_idle:.0%}"
        )
        print("| round | seq | received | p50 ms | p99 ms | max ms | within 1 s |")
        print("|---|---|---|---|---|---|---|")
        every: list[float] = []
        per_port: dict[int, list[float]] = {p: [] for p in ports}
        for r in range(rounds):
            await asyncio.sleep(gap)
            seq, committed = await commit_event(url, station, district)
            await asyncio.sleep(wait)
            lat = []
            for s in live:
                if seq in s.received:
                    ms = (s.received[seq] - committed) * 1000
                    lat.append(ms)
                    per_port[s.port].append(ms)
            every += lat
            within = sum(1 for v in lat if v <= 1000) / len(live)
            if not lat:
                print(f"| {r + 1} | {seq} | 0/{len(live)} | | | | 0% |")
                continue
            print(
                f"| {r + 1} | {seq} | {len(lat)}/{len(live)} | {statistics.median(lat):.0f} | "
                f"{pct(lat, 0.99):.0f} | {max(lat):.0f} | {within:.2%} |"
            )
        total = len(live) * rounds
        print(
            f"| all | | {len(every)}/{total} | {statistics.median(every):.0f} | "
            f"{pct(every, 0.99):.0f} | {max(every):.0f} | "
            f"{sum(1 for v in every if v <= 1000) / total:.2%} |"
        )
        if servers > 1:
            for k, p in enumerate(ports):
                v = per_port[p]
                print(
                    f"  via process {k + 1}: {len(v)} deliveries, p50 {statistics.median(v):.0f}"
                    f" ms, p99 {pct(v, 0.99):.0f} ms"
                )
        print(f"  VmRSS after the rounds: {', '.join(f'{rss_mib(p.pid):.0f} MiB' for p in procs)}")
        stop.set()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        for p in procs:
            p.terminate()
            await p.wait()


async def main(
    n: int, rounds: int, gap: float, wait: float, modes: list[int], gc_threshold: str | None
) -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    name = f"shouwang_bench_fanout_{uuid.uuid4().hex[:8]}"
    url = make_url(BASE).set(database=name).render_as_string(hide_password=False)
    os.environ.update(
        {
            "SHOUWANG_ENV": "test",
            "SHOUWANG_DATABASE_URL": url,
            "SHOUWANG_LOG_LEVEL": "WARNING",
            "SHOUWANG_LOG_JSON": "false",
        }
    )
    await ensure_database(url)
    try:
        await asyncio.to_thread(run_migrations, url, "heads")
        tokens, station, district = await make_officers(url, n)
        print(
            f"{n} officer subscribers of one station, {rounds} events per scenario, "
            f"ulimit -n {hard}"
        )
        python = [sys.executable, "-c", "from app.cli import cli; cli()"]
        if gc_threshold:  # diagnosis: the API process with other collector thresholds
            python[2] = f"import gc; gc.set_threshold({gc_threshold}); " + python[2]
            print(f"API processes run with gc.set_threshold({gc_threshold})")
        for servers in modes:
            await scenario(url, tokens, station, district, servers, rounds, gap, wait, python)
    finally:
        await drop_database(url)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000, help="subscribers")
    parser.add_argument("--rounds", type=int, default=5, help="events per scenario")
    parser.add_argument("--gap", type=float, default=2.0, help="pause before each event (s)")
    parser.add_argument("--wait", type=float, default=5.0, help="collection window (s)")
    parser.add_argument("--processes", default="1,2", help="API process counts to run")
    parser.add_argument("--gc-threshold", default=None, help="e.g. 50000,20,100 (diagnosis)")
    a = parser.parse_args()
    modes = [int(x) for x in a.processes.split(",")]
    asyncio.run(main(a.n, a.rounds, a.gap, a.wait, modes, a.gc_threshold))
