"""The emergency-units story (issue 5) against a running server, as a user would see it.

    make run          # terminal 1: database, demo data, API on :8000
    make worker       # terminal 2: ring decisions, push/SMS escalation, outbox delivery
    uv run --frozen python scripts/demo_emergency.py [--base http://127.0.0.1:8000]

Two demo responders of 湖塘最小应急单元 (王芳 and 陈磊, seeded by ``seed-demo``) sign in
with the development WeChat codes, go on duty ~100 m and ~200 m from the unit's base and
open the realtime WebSocket; the 湖塘 officer raises a fight nearby; both sockets get the
alert within a second; 王芳 accepts, is on her way and on scene; 陈磊 does not answer and
gets the push fallback from the worker; the officer reads the timeline, stands everyone
down and resolves. Then a drill produces drill results and a readiness score, and the
新城 officer sees none of it. Every expectation prints ✓ or ✗; any ✗ exits non-zero.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

try:
    from websockets.asyncio.client import ClientConnection, connect
except ImportError:  # pragma: no cover - the locked environment has it
    sys.stderr.write("This script needs the `websockets` package (uv sync).\n")
    raise SystemExit(2) from None

PASSWORD = "Shouwang-Demo-2026"  # noqa: S105 - the printed demo password (seed-demo)
UNIT_NAME = "湖塘最小应急单元"
RESPONDERS = (("王芳", "demo-wangfang"), ("陈磊", "demo-chenlei"))
ALERT_BUDGET_S = 1.0
M_PER_DEG_LAT = 111_320.0


def say(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


class Failed(Exception):
    """An expectation the story cannot go on without."""


@dataclass
class Story:
    failures: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    steps: int = 0

    def step(self, title: str) -> None:
        self.steps += 1
        say()
        say(f"── {self.steps}. {title}")

    def check(self, ok: bool, text: str, detail: str = "") -> bool:
        mark = "✓" if ok else "✗"
        say(f"  {mark} {text}" + (f"  ({detail})" if detail and not ok else ""))
        if not ok:
            self.failures.append(text)
        return ok

    def require(self, ok: bool, text: str, detail: str = "") -> None:
        if not self.check(ok, text, detail):
            raise Failed(text)

    def note(self, text: str) -> None:
        say(f"    {text}")


def north(point: tuple[float, float], metres: float) -> dict[str, Any]:
    return {"lon": point[0], "lat": point[1] + metres / M_PER_DEG_LAT, "crs": "wgs84"}


def east(point: tuple[float, float], metres: float) -> dict[str, Any]:
    per_deg = M_PER_DEG_LAT * math.cos(math.radians(point[1]))
    return {"lon": point[0] + metres / per_deg, "lat": point[1], "crs": "wgs84"}


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse(at: str) -> datetime:
    return datetime.fromisoformat(at.replace("Z", "+00:00"))


def secs(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} s"


def share(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Person:
    name: str
    token: str
    volunteer_id: str | None = None


class Stream:
    """One subscriber's WebSocket: every message with the monotonic time it arrived."""

    def __init__(self, who: str, ws: ClientConnection) -> None:
        self.who = who
        self.ws = ws
        self.received: list[tuple[float, dict[str, Any]]] = []
        self.changed = asyncio.Condition()
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        with contextlib.suppress(Exception):
            async for raw in self.ws:
                body = json.loads(raw)
                async with self.changed:
                    self.received.append((time.monotonic(), body))
                    self.changed.notify_all()

    async def wait_for(
        self, match: Callable[[dict[str, Any]], bool], within_s: float
    ) -> tuple[float, dict[str, Any]] | None:
        def found() -> tuple[float, dict[str, Any]] | None:
            return next(((t, b) for t, b in self.received if match(b)), None)

        async with self.changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait_for(lambda: found() is not None), within_s)
            return found()

    def events_of(self, incident_ids: set[str]) -> list[dict[str, Any]]:
        return [
            b
            for _, b in self.received
            if b.get("type") == "event" and b.get("incident", {}).get("id") in incident_ids
        ]

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.ws.close()
        self.task.cancel()
        with contextlib.suppress(BaseException):
            await self.task


class Demo:
    def __init__(self, base: str, push_wait_s: float, channel_log: Path | None) -> None:
        self.base = base.rstrip("/")
        self.channel_log = channel_log
        self.api = f"{self.base}/api/v1"
        self.push_wait_s = push_wait_s
        self.http = httpx.AsyncClient(timeout=20.0)
        self.story = Story()
        self.streams: list[Stream] = []
        self.incident_ids: set[str] = set()
        self.unit_names: dict[str, str] = {}
        # What an interrupted run leaves behind is put back: live incidents resolved by the
        # officer, responders taken off duty.
        self.live: dict[str, str] = {}  # incident id -> officer token
        self.on_duty: list[str] = []

    # --- plumbing -------------------------------------------------------------------------

    async def call(
        self, method: str, path: str, token: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        headers = {"Accept-Language": "zh-CN", **(bearer(token) if token else {})}
        return await self.http.request(method, f"{self.api}{path}", headers=headers, **kwargs)

    async def ok(
        self, text: str, method: str, path: str, token: str | None = None, **kwargs: Any
    ) -> Any:
        r = await self.call(method, path, token, **kwargs)
        self.story.require(r.is_success, text, f"{r.status_code} {r.text[:300]}")
        return r.json() if r.content else None

    async def subscribe(self, who: str, token: str) -> Stream:
        url = self.base.replace("http://", "ws://").replace("https://", "wss://")
        ws = await connect(f"{url}/api/v1/emergency/stream", additional_headers=bearer(token))
        stream = Stream(who, ws)
        self.streams.append(stream)
        ready = await stream.wait_for(lambda b: b.get("type") == "ready", 10)
        self.story.require(ready is not None, f"{who}: WebSocket subscribed (ready)")
        return stream

    # --- the story ------------------------------------------------------------------------

    async def run(self) -> int:
        s = self.story
        say(f"Shouwang emergency-units story against {self.base}")
        try:
            await self.story_steps()
        except Failed as exc:
            say(f"\nStopped: {exc}")
        except (httpx.HTTPError, OSError) as exc:
            s.check(False, f"server reachable at {self.base}", repr(exc))
            say("    Is the server running (make run)?")
        finally:
            await self.tidy_up()
            for stream in self.streams:
                await stream.close()
            await self.http.aclose()
        say()
        if s.failures:
            say(f"✗ {len(s.failures)} expectation(s) failed:")
            for f in s.failures:
                say(f"  - {f}")
            return 1
        say(f"✓ every step as expected ({time.monotonic() - s.started:.0f} s)")
        return 0

    async def story_steps(self) -> None:
        s = self.story
        s.step("Sign in: the 湖塘 and 新城 officers (password), two responders (WeChat)")
        officers: dict[str, str] = {}
        for username in ("ht.officer", "xc.officer"):
            pair = await self.ok(
                f"{username} signs in",
                "POST",
                "/auth/login",
                json={"username": username, "password": PASSWORD},
            )
            officers[username] = pair["access_token"]
        ht, xc = officers["ht.officer"], officers["xc.officer"]
        people: list[Person] = []
        for name, code in RESPONDERS:
            pair = await self.ok(
                f"{name} signs in (POST /auth/wechat code {code})",
                "POST",
                "/auth/wechat",
                json={"code": code},
            )
            me = await self.ok(f"{name}: GET /me", "GET", "/me", pair["access_token"])
            volunteer = me.get("volunteer") or {}
            s.require(
                volunteer.get("name") == name and volunteer.get("status") == "active",
                f"{name} is an active volunteer",
                "run `shouwang seed-demo` first",
            )
            people.append(Person(name, pair["access_token"], volunteer.get("id")))
        a, b = people

        units = await self.ok("officer lists the station's units", "GET", "/emergency-units", ht)
        unit = next((u for u in units["items"] if u["name"] == UNIT_NAME), None)
        s.require(unit is not None, f"the unit {UNIT_NAME} exists", "run `shouwang seed-demo`")
        assert unit is not None
        self.unit_names = {u["id"]: u["name"] for u in units["items"]}
        base = (unit["base"]["lon"], unit["base"]["lat"])
        kit = ", ".join(f"{e['kind_label']}" for e in unit["equipment"])
        s.note(f"base {base[0]:.4f}, {base[1]:.4f}; offers {unit['offers']}; equipment {kit}")

        s.step("Both responders go on duty with their locations (~100 m and ~200 m away)")
        until = iso(datetime.now(UTC) + timedelta(hours=2))
        for person, metres in ((a, 100), (b, 200)):
            duty = await self.ok(
                f"{person.name}: POST /me/duty available until {until}",
                "POST",
                "/me/duty",
                person.token,
                json={"status": "available", "until": until},
            )
            self.on_duty.append(person.token)
            s.check(duty["on_duty"], f"{person.name} is on duty")
            person.volunteer_id = duty["volunteer_id"]
            report = await self.ok(
                f"{person.name}: POST /me/locations ({metres} m north of the base)",
                "POST",
                "/me/locations",
                person.token,
                json={
                    "samples": [
                        {
                            "at": iso(datetime.now(UTC)),
                            "location": north(base, metres),
                            "accuracy_m": 8,
                        }
                    ]
                },
            )
            s.note(f"kept {report['kept']}, thinned {report['thinned']} (one point per 30 s)")
        # 陈磊's phone is registered for push, so the fallback reaches the push adapter.
        await self.ok(
            f"{b.name} registers a phone for push (PUT /me/devices)",
            "PUT",
            "/me/devices",
            b.token,
            json={"platform": "android", "registration_id": "demo-chenlei-phone"},
        )

        s.step("Realtime: WebSocket /api/v1/emergency/stream for each of them")
        sa = await self.subscribe(a.name, a.token)
        sb = await self.subscribe(b.name, b.token)
        s_ht = await self.subscribe("ht.officer", ht)
        s_xc = await self.subscribe("xc.officer", xc)

        incident = await self.raise_and_alert(ht, base, a, b, sa, sb, s_ht, drill=False)
        iid = incident["id"]

        s.step(f"{a.name} accepts, is on her way, on scene; {b.name} does not answer")
        for action in ("accept", "on_my_way", "on_scene"):
            out = await self.ok(
                f"{a.name}: {action}",
                "POST",
                f"/emergency/incidents/{iid}/response",
                a.token,
                json={"action": action},
            )
        s.check((out.get("my_response") or {}).get("status") == "on_scene", f"{a.name} is on scene")
        seen = await sa.wait_for(
            lambda m: m.get("kind") == "on_scene" and m.get("incident", {}).get("id") == iid, 3
        )
        s.check(seen is not None, f"{a.name}'s own steps come back on her socket")

        s.step(f"Push fallback for {b.name} (the worker: `make worker`)")
        await self.wait_for_push(b, iid, incident["raised_at"])

        s.step("The incident's timeline (officer)")
        names = {a.volunteer_id: a.name, b.volunteer_id: b.name}
        full = await self.ok("officer reads the incident", "GET", f"/emergency/incidents/{iid}", ht)
        self.print_timeline(full, names)
        kinds = [(e["kind"], e.get("member_id")) for e in full["timeline"]]
        for kind, who in (
            ("raised", None),
            ("alerted", a.volunteer_id),
            ("alerted", b.volunteer_id),
            ("accepted", a.volunteer_id),
            ("on_my_way", a.volunteer_id),
            ("on_scene", a.volunteer_id),
        ):
            label = kind + (f" {names[who]}" if who else "")
            s.check((kind, who) in kinds, f"timeline has: {label}")

        s.step("Police on scene: the officer stands everyone down and resolves")
        await self.ok("officer: stand down", "POST", f"/emergency/incidents/{iid}/stand-down", ht)
        done = await self.ok(
            "officer: resolve",
            "POST",
            f"/emergency/incidents/{iid}/resolve",
            ht,
            json={"note": "民警到场处置完毕"},
        )
        s.check(done["status"] == "resolved", "incident resolved", done["status"])
        self.live.pop(iid, None)
        by_member = {r["member_id"]: r["status"] for r in done["responses"]}
        s.note(f"responses: {', '.join(f'{names.get(k, k)} {v}' for k, v in by_member.items())}")
        s.check(
            by_member.get(b.volunteer_id) == "stood_down",
            f"{b.name}'s open alert is stood down",
            str(by_member.get(b.volunteer_id)),
        )
        s.note("the whole timeline, alert → accept → arrive → stand down → resolve:")
        self.print_timeline(done, names)
        tail = [e["kind"] for e in done["timeline"]][-3:]
        s.check(
            tail == ["stood_down", "all_stood_down", "resolved"],
            "timeline ends: stood_down → all_stood_down → resolved",
            " → ".join(tail),
        )

        await self.drill(ht, base, a, b, sa, sb, s_ht)
        await self.other_station(xc, ht, s_xc, incident["station_id"])

        s.step("Both responders go off duty (no more location collected)")
        for person in (a, b):
            off = await self.ok(
                f"{person.name}: off duty",
                "POST",
                "/me/duty",
                person.token,
                json={"status": "off_duty"},
            )
            s.check(not off["on_duty"], f"{person.name} is off duty")
        self.on_duty.clear()

    async def tidy_up(self) -> None:
        """After a failure: resolve what is still live, take the responders off duty."""
        for iid, token in self.live.items():
            with contextlib.suppress(httpx.HTTPError):
                await self.call(
                    "POST",
                    f"/emergency/incidents/{iid}/resolve",
                    token,
                    json={"note": "演示中止"},
                )
                say(f"    (tidied up: incident {iid} resolved)")
        for token in self.on_duty:
            with contextlib.suppress(httpx.HTTPError):
                await self.call("POST", "/me/duty", token, json={"status": "off_duty"})
        if self.on_duty:
            say("    (tidied up: responders off duty)")

    async def raise_and_alert(
        self,
        ht: str,
        base: tuple[float, float],
        a: Person,
        b: Person,
        sa: Stream,
        sb: Stream,
        s_ht: Stream,
        *,
        drill: bool,
    ) -> dict[str, Any]:
        s = self.story
        if drill:
            s.step("Drill (演练): the officer raises an unannounced medical drill")
            body = {
                "type": "medical",
                "severity": "high",
                "location": east(base, 40),
                "description": "拉动测试：农贸市场东门有人晕倒，需急救（演练）",
                "drill": True,
            }
        else:
            s.step("The 湖塘 officer raises a fight (打架斗殴) ~50 m from the base")
            body = {
                "type": "fight",
                "severity": "high",
                "location": east(base, 50),
                "description": "湖塘农贸市场门口有人打架斗殴，已有人受伤",
            }
        sent = time.monotonic()
        incident = await self.ok(
            "POST /emergency/incidents", "POST", "/emergency/incidents", ht, json=body
        )
        took = time.monotonic() - sent
        iid = incident["id"]
        self.incident_ids.add(iid)
        self.live[iid] = ht
        s.note(
            f"incident {iid} ({incident['type_label']}, drill={incident['drill']}) in {took:.3f} s"
        )
        alerted = {r["member_id"] for r in incident["responses"]}
        s.check(
            {a.volunteer_id, b.volunteer_id} <= alerted,
            "both responders are in the first ring's alerts",
            str(alerted),
        )

        s.step("Alerts over the WebSocket (budget 1 s from the raise)")
        for person, stream in ((a, sa), (b, sb)):
            got = await stream.wait_for(
                lambda m: m.get("kind") == "alerted" and m.get("incident", {}).get("id") == iid,
                5,
            )
            if got is None:
                s.check(False, f"{person.name}'s socket got the alert", "nothing within 5 s")
                continue
            at, msg = got
            latency = at - sent
            s.check(
                latency < ALERT_BUDGET_S,
                f"{person.name}'s socket got `alerted` {latency * 1000:.0f} ms after the raise "
                f"was sent (seq {msg['seq']}, drill={msg['drill']})",
                f"{latency:.3f} s",
            )
            s.check(msg["drill"] is drill, f"{person.name}'s alert is marked drill={drill}")
        raised = await s_ht.wait_for(
            lambda m: m.get("kind") == "raised" and m.get("incident", {}).get("id") == iid, 3
        )
        s.check(raised is not None, "the station (ht.officer's socket) is informed: `raised`")
        return dict(incident)

    async def wait_for_push(self, b: Person, iid: str, raised_at: str) -> None:
        s = self.story
        deadline = time.monotonic() + self.push_wait_s
        found = None
        s.note(
            f"{b.name} stays connected but silent; polling the inbox (GET /me/notifications) "
            f"up to {self.push_wait_s:.0f} s: push goes 20 s after an unanswered alert "
            "(~5 s when no socket took it), SMS at 60 s"
        )
        while time.monotonic() < deadline:
            r = await self.call("GET", "/me/notifications", b.token, params={"limit": 50})
            if not r.is_success:
                s.require(False, f"{b.name} reads the inbox (GET /me/notifications)", r.text)
            found = next(
                (
                    n
                    for n in r.json()["items"]
                    if n["kind"] == "emergency.alert" and iid in n["link"]
                ),
                None,
            )
            if found:
                break
            await asyncio.sleep(1)
        if found is None:
            s.check(
                False,
                f"{b.name} got the push fallback",
                f"nothing in {self.push_wait_s:.0f} s: is `make worker` running?",
            )
            return
        after = (parse(found["created_at"]) - parse(raised_at)).total_seconds()
        s.check(True, f"{b.name} got the push fallback {after:.0f} s after the alert")
        s.note(f"inbox: 「{found['title']}」 {found['body']} → {found['link']}")
        if self.channel_log is None:
            s.note("(the dev push adapter logs it; SHOUWANG_CHANNEL_DEV_OUTBOX also writes it)")
            return
        try:
            lines = self.channel_log.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            s.note(f"(channel log {self.channel_log} not readable: {exc})")
            return
        pushed = [
            json.loads(line)
            for line in lines
            if iid in line and '"emergency.alert"' in line and '"push"' in line
        ]
        s.check(bool(pushed), f"the push adapter sent it ({self.channel_log})")
        for record in pushed:
            s.note(f"{record['channel']}: {record['title']} → account {record['account_id']}")

    def print_timeline(self, incident: dict[str, Any], names: dict[str | None, str]) -> None:
        start = parse(incident["raised_at"])
        for e in incident["timeline"]:
            at = parse(e["at"])
            who = names.get(e.get("member_id"), "") if e.get("member_id") else ""
            ring = f" ring {e['ring']}" if e.get("ring") is not None else ""
            officer = " (by officer)" if e.get("by_officer") else ""
            say(
                f"    {at.astimezone(UTC):%H:%M:%S.%f}"[:-3]
                + f"  +{(at - start).total_seconds():6.2f} s  {e['kind']:<18} {who}{ring}{officer}"
            )

    async def drill(
        self,
        ht: str,
        base: tuple[float, float],
        a: Person,
        b: Person,
        sa: Stream,
        sb: Stream,
        s_ht: Stream,
    ) -> None:
        s = self.story
        drill = await self.raise_and_alert(ht, base, a, b, sa, sb, s_ht, drill=True)
        did = drill["id"]
        for action in ("accept", "on_my_way", "on_scene"):
            await self.ok(
                f"{a.name}: {action} (drill)",
                "POST",
                f"/emergency/incidents/{did}/response",
                a.token,
                json={"action": action},
            )
        await self.ok(
            "officer: resolve the drill",
            "POST",
            f"/emergency/incidents/{did}/resolve",
            ht,
            json={"note": "演练结束"},
        )
        self.live.pop(did, None)
        s.step("Drill results and the station's readiness score")
        report = await self.ok(
            "GET drill-results", "GET", f"/emergency/incidents/{did}/drill-results", ht
        )
        for r in report["results"]:
            s.note(
                f"{self.unit_names.get(r['unit_id'], r['unit_id'])}: alerted "
                f"{r['alerted_members']}, accepted {r['accepted_members']}, responding "
                f"{share(r['response_share'])}, first accept {secs(r['first_accept_s'])}, "
                f"first arrival {secs(r['first_arrival_s'])}, score {r['score']}"
            )
        s.check(
            bool(report["results"]) and report["results"][0]["score"] is not None,
            "the drill has a scored result for the unit",
        )
        start = iso(parse(drill["raised_at"]) - timedelta(days=1))
        end = iso(datetime.now(UTC) + timedelta(minutes=5))
        ready = await self.ok(
            "GET /emergency/readiness for 湖塘派出所 (last 24 h)",
            "GET",
            "/emergency/readiness",
            ht,
            params={"station_id": drill["station_id"], "start": start, "end": end},
        )
        s.check(ready.get("score") is not None, f"station readiness score: {ready.get('score')}")
        for u in ready.get("units", []):
            s.note(
                f"{self.unit_names.get(u['unit_id'], u['unit_id'])}: score {u['score']}, "
                f"drills {u['drills']}, mean first accept {secs(u['mean_first_accept_s'])}, "
                f"mean first arrival {secs(u['mean_first_arrival_s'])}, responding "
                f"{share(u['response_share'])}"
            )
        real = await self.ok(
            "officer lists real incidents only (?drill=false)",
            "GET",
            "/emergency/incidents",
            ht,
            params={"drill": "false", "limit": 50},
        )
        s.check(
            all(not i["drill"] for i in real["items"])
            and did not in {i["id"] for i in real["items"]},
            "the drill never shows among real incidents",
        )

    async def other_station(self, xc: str, ht: str, s_xc: Stream, station_id: str) -> None:
        s = self.story
        s.step("The 新城 officer (xc.officer) sees none of it")
        for iid in sorted(self.incident_ids):
            r = await self.call("GET", f"/emergency/incidents/{iid}", xc)
            s.check(r.status_code == 404, f"GET incident …{iid[-12:]} → {r.status_code}")
            r = await self.call("GET", f"/emergency/incidents/{iid}/drill-results", xc)
            s.check(r.status_code == 404, f"GET its drill-results → {r.status_code}")
        listed = await self.ok("xc.officer lists incidents", "GET", "/emergency/incidents", xc)
        ids = {i["id"] for i in listed["items"]}
        s.check(not (ids & self.incident_ids), f"none of them in the list ({len(ids)} listed)")
        now = datetime.now(UTC)
        r = await self.call(
            "GET",
            "/emergency/readiness",
            xc,
            params={
                "station_id": station_id,
                "start": iso(now - timedelta(days=1)),
                "end": iso(now),
            },
        )
        s.check(r.status_code == 404, f"湖塘 readiness → {r.status_code}")
        leaked = s_xc.events_of(self.incident_ids)
        s.check(not leaked, f"its WebSocket received none of their events ({len(leaked)})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000", help="the server's URL")
    parser.add_argument(
        "--push-wait", type=float, default=40.0, help="seconds to wait for the push fallback"
    )
    parser.add_argument(
        "--channel-log",
        type=Path,
        default=os.environ.get("SHOUWANG_CHANNEL_DEV_OUTBOX") or None,
        help="the dev push/WeChat adapters' JSONL (SHOUWANG_CHANNEL_DEV_OUTBOX of the worker), "
        "to show the push there too",
    )
    args = parser.parse_args()
    return asyncio.run(Demo(args.base, args.push_wait, args.channel_log).run())


if __name__ == "__main__":
    raise SystemExit(main())
