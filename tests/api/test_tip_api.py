"""Tip-offs through the REST API: a resident reports, the station triages, verifies and
answers with templated feedback; scope, anonymity and retries hold on the way."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from support.auth import auth, officer_token, resident_token
from support.org import OrgTree, make_org_tree
from support.tips import DESCRIPTION, account_id, due_in, step, submit, tip_body

from app.infra.db.tables.platform import audit_log, outbox
from app.infra.db.tables.tips import tip_events, tip_informants, tips
from app.settings import Settings


@pytest.fixture
async def tree(app: Any) -> OrgTree:
    return await make_org_tree(app)


async def test_named_tip_routed_handled_and_answered(
    client: httpx.AsyncClient,
    app: Any,
    settings: Settings,
    tree: OrgTree,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    resident, _ = await resident_token(client, settings)
    officer = await officer_token(client, app, unit_code=tree.station_code)
    officer_id = await account_id(client, officer)

    created = await client.post(
        "/api/v1/tips", json=tip_body(tree, contact_phone="138 0013 8000"), headers=auth(resident)
    )
    assert created.status_code == 201, created.text
    tip = created.json()
    tid = tip["id"]
    assert created.headers["location"] == f"/api/v1/tips/{tid}"
    assert tip["status"] == "submitted"
    assert tip["description"] == DESCRIPTION
    assert tip["station_id"] is None
    assert tip["history"] is None

    seen = (await client.get(f"/api/v1/tips/{tid}", headers=auth(officer))).json()
    assert seen["station_id"] == str(tree.station_id)
    assert seen["grid_id"] == str(tree.grid_id)
    assert seen["community_id"] == str(tree.community_id)
    assert "contact_phone" not in seen
    assert "account_id" not in seen

    queue = await client.get("/api/v1/tips?status=submitted", headers=auth(officer))
    assert [t["id"] for t in queue.json()["items"]] == [tid]

    await step(client, officer, tid, "assign", {"officer_id": officer_id, "due_at": due_in()})
    await step(client, officer, tid, "verify")
    answered = await step(
        client, officer, tid, "outcome", {"outcome": "unfounded", "feedback_template": "unfounded"}
    )
    assert answered["status"] == "unfounded"
    closed = await step(client, officer, tid, "close")
    assert [h["kind"] for h in closed["history"]] == [
        "submitted",
        "assigned",
        "verifying",
        "outcome",
        "closed",
    ]

    mine = await client.get(
        "/api/v1/me/tips", headers={**auth(resident), "Accept-Language": "zh-CN"}
    )
    [item] = mine.json()["items"]
    assert item["status"] == "closed"
    assert [f["template"] for f in item["feedback"]] == ["unfounded"]
    assert "未发现" in item["feedback"][0]["message"]
    assert item["assignee_id"] is None

    disputed = await step(client, resident, tid, "dispute", {"reason": "昨晚又看到那人在撬车门"})
    assert disputed["status"] == "triaged"
    again = (await client.get(f"/api/v1/tips/{tid}", headers=auth(officer))).json()
    assert again["assignee_id"] == officer_id
    assert again["disputes"] == 1

    # The handler sees the informant without a reason; it is audited all the same.
    revealed = await client.post(
        f"/api/v1/tips/{tid}/informant/reveal", json={}, headers=auth(officer)
    )
    assert revealed.status_code == 200, revealed.text
    assert revealed.json() == {
        "anonymous": False,
        "account_id": await account_id(client, resident),
        "contact_phone": "13800138000",
    }

    async with session_factory() as s:
        events = (
            await s.execute(
                sa.select(outbox.c.event_type, outbox.c.payload)
                .where(outbox.c.aggregate_id == uuid.UUID(tid))
                .order_by(outbox.c.id)
            )
        ).all()
        reveals = (
            await s.execute(
                sa.select(audit_log.c.detail).where(
                    audit_log.c.record_id == uuid.UUID(tid),
                    audit_log.c.action == "tip.reveal_informant",
                )
            )
        ).all()
        sealed = (
            await s.execute(
                sa.select(tip_informants).where(tip_informants.c.tip_id == uuid.UUID(tid))
            )
        ).one()
    assert [e.event_type for e in events] == [
        "tip.submitted",
        "tip.assigned",
        "tip.outcome_recorded",
        "tip.disputed",
    ]
    for e in events:
        assert DESCRIPTION not in str(e.payload)
        assert "13800138000" not in str(e.payload)
        assert e.payload["station_id"] == str(tree.station_id)
    assert reveals[0].detail["as_handler"] is True
    assert b"13800138000" not in sealed.contact_sealed


async def test_scope_other_station_other_resident_and_auditor(
    client: httpx.AsyncClient, app: Any, settings: Settings, tree: OrgTree
) -> None:
    resident, _ = await resident_token(client, settings)
    stranger, _ = await resident_token(client, settings)
    other_station = await officer_token(client, app, unit_code=tree.other_station_code)
    admin = await officer_token(client, app, unit_code=tree.station_code, role="station_admin")
    auditor = await officer_token(client, app, unit_code=tree.station_code, role="auditor")
    other_officer = await account_id(client, other_station)
    tid = (await submit(client, resident, tip_body(tree)))["id"]

    for token in (stranger, other_station):
        r = await client.get(f"/api/v1/tips/{tid}", headers=auth(token))
        assert r.status_code == 404
        assert r.json()["code"] == "tip.not_found"
    assert (await client.get("/api/v1/tips", headers=auth(stranger))).status_code == 403
    assert (await client.get("/api/v1/tips/not-a-uuid", headers=auth(admin))).status_code == 404

    assert (await client.get(f"/api/v1/tips/{tid}", headers=auth(auditor))).status_code == 200
    denied = await client.post(
        f"/api/v1/tips/{tid}/assign",
        json={"officer_id": other_officer, "due_at": due_in()},
        headers=auth(auditor),
    )
    assert denied.status_code == 403
    wrong = await client.post(
        f"/api/v1/tips/{tid}/assign",
        json={"officer_id": other_officer, "due_at": due_in()},
        headers=auth(admin),
    )
    assert wrong.status_code == 422
    assert wrong.json()["code"] == "tip.unknown_officer"

    # Other staff must state a reason to see the informant.
    bare = await client.post(f"/api/v1/tips/{tid}/informant/reveal", json={}, headers=auth(admin))
    assert bare.status_code == 422
    assert bare.json()["code"] == "tip.reason_required"
    why = {"reason": "核实线索需要联系举报人"}
    ok = await client.post(f"/api/v1/tips/{tid}/informant/reveal", json=why, headers=auth(admin))
    assert ok.status_code == 200
    assert ok.headers["cache-control"] == "no-store"

    # Only the reporter may dispute, and only after an outcome.
    early = await client.post(
        f"/api/v1/tips/{tid}/dispute", json={"reason": "不同意"}, headers=auth(resident)
    )
    assert early.status_code == 409
    assert early.json()["code"] == "tip.invalid_transition"


async def test_anonymous_tip_keeps_no_reporter(
    client: httpx.AsyncClient,
    app: Any,
    settings: Settings,
    tree: OrgTree,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    resident, _ = await resident_token(client, settings)
    officer = await officer_token(client, app, unit_code=tree.station_code)
    tip_id = uuid.uuid4()
    body = tip_body(tree, anonymous=True, tip_id=tip_id)
    first = await client.post("/api/v1/tips", json=body, headers=auth(resident))
    assert first.status_code == 201, first.text
    retry = await client.post("/api/v1/tips", json=body, headers=auth(resident))
    assert retry.status_code == 200
    assert retry.json()["id"] == str(tip_id)

    assert (await client.get(f"/api/v1/tips/{tip_id}", headers=auth(resident))).status_code == 404
    assert (await client.get("/api/v1/me/tips", headers=auth(resident))).json()["items"] == []
    revealed = await client.post(
        f"/api/v1/tips/{tip_id}/informant/reveal",
        json={"reason": "核实线索来源"},
        headers=auth(officer),
    )
    assert revealed.json() == {"anonymous": True, "account_id": None, "contact_phone": None}
    with_contact = tip_body(tree, anonymous=True, contact_phone="13800138000")
    refused = await client.post("/api/v1/tips", json=with_contact, headers=auth(resident))
    assert refused.json()["code"] == "tip.anonymous_contact"

    resident_id = await account_id(client, resident)
    async with session_factory() as s:
        informants = (
            await s.execute(sa.select(tip_informants).where(tip_informants.c.tip_id == tip_id))
        ).all()
        audits = (
            await s.execute(sa.select(audit_log.c.action).where(audit_log.c.record_id == tip_id))
        ).all()
        by = (
            (
                await s.execute(
                    sa.select(tip_events.c.by_account).where(tip_events.c.tip_id == tip_id)
                )
            )
            .scalars()
            .all()
        )
        count = (
            await s.execute(sa.select(sa.func.count()).select_from(tips).where(tips.c.id == tip_id))
        ).scalar_one()
        submitted = (
            (await s.execute(sa.select(outbox.c.request_id).where(outbox.c.aggregate_id == tip_id)))
            .scalars()
            .all()
        )
    assert informants == []
    assert count == 1
    assert by == [None]
    assert [a.action for a in audits] == ["tip.reveal_informant"]
    assert resident_id not in str(audits)
    assert submitted == [None]


async def test_retries_by_id_and_idempotency_key(
    client: httpx.AsyncClient, settings: Settings, tree: OrgTree
) -> None:
    resident, _ = await resident_token(client, settings)
    someone, _ = await resident_token(client, settings)
    tip_id = uuid.uuid4()
    body = tip_body(tree, tip_id=tip_id)
    assert (await client.post("/api/v1/tips", json=body, headers=auth(resident))).status_code == 201
    again = await client.post("/api/v1/tips", json=body, headers=auth(resident))
    assert again.status_code == 200
    assert again.json()["id"] == str(tip_id)
    taken = await client.post("/api/v1/tips", json=body, headers=auth(someone))
    assert taken.status_code == 409
    assert taken.json()["code"] == "tip.id_taken"
    mine = (await client.get("/api/v1/me/tips", headers=auth(resident))).json()["items"]
    assert [t["id"] for t in mine] == [str(tip_id)]

    keyed = {**auth(resident), "Idempotency-Key": uuid.uuid4().hex}
    plain = tip_body(tree)
    one = await client.post("/api/v1/tips", json=plain, headers=keyed)
    two = await client.post("/api/v1/tips", json=plain, headers=keyed)
    assert one.status_code == two.status_code == 201
    assert two.headers["idempotent-replayed"] == "true"
    assert one.json()["id"] == two.json()["id"]


async def test_routing_district_queue_and_outside_service_area(
    client: httpx.AsyncClient, app: Any, settings: Settings, tree: OrgTree
) -> None:
    resident, _ = await resident_token(client, settings)
    station = await officer_token(client, app, unit_code=tree.station_code)
    district = await officer_token(client, app, unit_code=tree.district_code, role="district_admin")
    x, y = tree.inside[0] - 0.002, tree.inside[1] - 0.0025  # the district's south-west corner
    queued = await submit(client, resident, tip_body(at=(x - 0.0005, y + 0.004)))
    tid = queued["id"]
    seen = (await client.get(f"/api/v1/tips/{tid}", headers=auth(district))).json()
    assert seen["district_id"] == str(tree.district_id)
    assert seen["station_id"] is None
    assert (await client.get(f"/api/v1/tips/{tid}", headers=auth(station))).status_code == 404
    district_id = await account_id(client, district)
    await step(client, district, tid, "assign", {"officer_id": district_id, "due_at": due_in()})

    far = await client.post("/api/v1/tips", json=tip_body(at=(100.0, 40.0)), headers=auth(resident))
    assert far.status_code == 422
    assert far.json()["code"] == "tip.outside_service_area"


async def test_unknown_media_and_appeal_are_refused(
    client: httpx.AsyncClient, settings: Settings, tree: OrgTree
) -> None:
    resident, _ = await resident_token(client, settings)
    tip_id = uuid.uuid4()
    media = tip_body(tree, tip_id=tip_id, media_ids=[str(uuid.uuid4())])
    r = await client.post("/api/v1/tips", json=media, headers=auth(resident))
    assert r.status_code == 404
    assert r.json()["code"] == "media.not_found"
    gone = await client.get(f"/api/v1/tips/{tip_id}", headers=auth(resident))
    assert gone.status_code == 404  # nothing was stored
    appeal = tip_body(tree, appeal_id=str(uuid.uuid4()))
    r = await client.post("/api/v1/tips", json=appeal, headers=auth(resident))
    assert r.status_code == 422
    assert r.json()["code"] == "tip.appeal_unknown"
    bad = tip_body(tree, category="burglary")
    assert (await client.post("/api/v1/tips", json=bad, headers=auth(resident))).status_code == 422


async def test_rate_limit_per_account(
    client: httpx.AsyncClient,
    settings: Settings,
    tree: OrgTree,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async def logged() -> int:
        async with session_factory() as s:
            return int(
                (await s.execute(sa.text("SELECT count(*) FROM tip_submissions"))).scalar_one()
            )

    resident, _ = await resident_token(client, settings)
    for _ in range(10):
        await submit(client, resident, tip_body(tree, anonymous=True))
    before = await logged()
    r = await client.post("/api/v1/tips", json=tip_body(tree), headers=auth(resident))
    assert r.status_code == 429
    assert r.json()["code"] == "tip.rate_limited"
    assert int(r.headers["retry-after"]) > 0
    assert await logged() == before  # the refused submission left no trace in the log


async def test_queue_filters_counts_map_and_bulk_assign(
    client: httpx.AsyncClient,
    app: Any,
    settings: Settings,
    tree: OrgTree,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    resident, _ = await resident_token(client, settings)
    officer = await officer_token(client, app, unit_code=tree.station_code)
    officer_id = await account_id(client, officer)
    in_grid = await submit(client, resident, tip_body(tree))
    outside_grid = await submit(
        client, resident, tip_body(at=(tree.inside[0], tree.inside[1] + 0.003), urgency="low")
    )
    ids = [outside_grid["id"], in_grid["id"]]  # newest first

    page = await client.get("/api/v1/tips?limit=1", headers=auth(officer))
    assert [t["id"] for t in page.json()["items"]] == ids[:1]
    cursor = page.json()["next_cursor"]
    rest = await client.get(f"/api/v1/tips?limit=1&cursor={cursor}", headers=auth(officer))
    assert [t["id"] for t in rest.json()["items"]] == ids[1:]
    grid = await client.get(f"/api/v1/tips?grid_id={tree.grid_id}", headers=auth(officer))
    assert [t["id"] for t in grid.json()["items"]] == [in_grid["id"]]
    low = await client.get("/api/v1/tips?urgency=low", headers=auth(officer))
    assert [t["id"] for t in low.json()["items"]] == [outside_grid["id"]]

    bulk = await client.post(
        "/api/v1/tips/bulk-assign",
        json={"tip_ids": ids, "officer_id": officer_id, "due_at": due_in(1)},
        headers=auth(officer),
    )
    assert bulk.status_code == 200, bulk.text
    assert {t["status"] for t in bulk.json()} == {"triaged"}
    counts = (await client.get("/api/v1/tips/counts", headers=auth(officer))).json()
    assert counts["triaged"] == 2
    assert counts["submitted"] == 0
    assert (await client.get("/api/v1/tips?overdue=true", headers=auth(officer))).json()[
        "items"
    ] == []

    async with session_factory() as s:
        await s.execute(
            sa.update(tips)
            .where(tips.c.id == uuid.UUID(in_grid["id"]))
            .values(due_at=sa.func.now() - sa.text("interval '1 hour'"))
        )
        await s.commit()
    late = (await client.get("/api/v1/tips?overdue=true", headers=auth(officer))).json()
    assert [t["id"] for t in late["items"]] == [in_grid["id"]]
    assert late["items"][0]["overdue"] is True

    geo = (await client.get("/api/v1/tips/map", headers=auth(officer))).json()
    assert geo["type"] == "FeatureCollection"
    assert {f["id"] for f in geo["features"]} == set(ids)
    assert geo["features"][0]["geometry"]["type"] == "Point"
    assert "description" not in str(geo)


async def test_station_feedback_templates(
    client: httpx.AsyncClient, app: Any, settings: Settings, tree: OrgTree
) -> None:
    resident, _ = await resident_token(client, settings)
    officer = await officer_token(client, app, unit_code=tree.station_code)
    admin = await officer_token(client, app, unit_code=tree.station_code, role="station_admin")
    other_admin = await officer_token(
        client, app, unit_code=tree.other_station_code, role="station_admin"
    )
    officer_id = await account_id(client, officer)
    wording = {
        "station_id": str(tree.station_id),
        "outcome": "valid",
        "text_zh": "湖塘派出所感谢您的线索，已依法处理。",
        "text_en": "Hutang police station thanks you; action has been taken.",
    }
    url = "/api/v1/tip-feedback-templates/valid"
    assert (await client.put(url, json=wording, headers=auth(officer))).status_code == 403
    # Another station's admin: that station is not theirs to see at all.
    foreign = await client.put(url, json=wording, headers=auth(other_admin))
    assert foreign.status_code == 404
    assert foreign.json()["code"] == "org_unit.not_found"
    listing = f"/api/v1/tip-feedback-templates?station_id={tree.station_id}"
    assert (await client.get(listing, headers=auth(other_admin))).status_code == 404
    assert (await client.get(listing, headers=auth(resident))).status_code == 404
    saved = await client.put(url, json=wording, headers=auth(admin))
    assert saved.status_code == 200, saved.text
    listed = await client.get(
        f"/api/v1/tip-feedback-templates?station_id={tree.station_id}", headers=auth(officer)
    )
    by_code = {t["code"]: t for t in listed.json()}
    assert by_code["valid"]["text_zh"] == wording["text_zh"]
    assert by_code["unfounded"]["outcome"] == "unfounded"

    tid = (await submit(client, resident, tip_body(tree)))["id"]
    await step(client, officer, tid, "assign", {"officer_id": officer_id, "due_at": due_in()})
    await step(client, officer, tid, "verify")
    await step(client, officer, tid, "outcome", {"outcome": "valid"})
    # A later rewording does not change what the reporter was sent.
    await client.put(url, json={**wording, "text_zh": "新的措辞"}, headers=auth(admin))
    seen = await client.get(
        f"/api/v1/tips/{tid}", headers={**auth(resident), "Accept-Language": "zh-CN"}
    )
    assert seen.json()["feedback"][0]["message"] == wording["text_zh"]


async def test_bad_query_strings_are_problems_naming_each_parameter(
    client: httpx.AsyncClient, app: Any, settings: Settings, tree: OrgTree
) -> None:
    """The queue and a reporter's page read their whole query string in one validation
    (app/api/rest/query.py): each bad value is a field of one 422 problem, under query."""
    resident, _ = await resident_token(client, settings)
    officer = await officer_token(client, app, unit_code=tree.station_code)
    cases = [
        (officer, "/api/v1/tips?status=已关闭&limit=0", {"status", "limit"}),
        (officer, "/api/v1/tips?grid_id=网格一&overdue=也许", {"grid_id", "overdue"}),
        (resident, "/api/v1/me/tips?limit=201&crs=EPSG:3857", {"limit", "crs"}),
    ]
    for token, url, fields in cases:
        r = await client.get(url, headers=auth(token))
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert {e["field"] for e in r.json()["errors"]} == fields
    mine = await client.get("/api/v1/me/tips?limit=1&crs=gcj02", headers=auth(resident))
    assert mine.status_code == 200
    assert (await client.get("/api/v1/me/tips")).status_code == 401
