"""The volunteer journey through the REST API, as the people involved would go through it:
a resident applies, their station vets, trains and activates them, anyone checks the badge;
other stations, other volunteers and the district see only what they should."""

from __future__ import annotations

import base64
import uuid
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fakes.volunteers import random_resident_id
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from support.auth import auth, officer_token, resident_token
from support.org import OrgTree, make_org_tree
from support.volunteers import ADDRESS, activate, application, registration, status

from app.infra.db.tables.platform import audit_log, outbox
from app.settings import Settings


@pytest.fixture
async def tree(app: Any) -> OrgTree:
    return await make_org_tree(app)


async def test_resident_to_active_volunteer_with_badge(
    client: httpx.AsyncClient,
    app: Any,
    settings: Settings,
    tree: OrgTree,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    resident, _ = await resident_token(client, settings)
    officer = await officer_token(client, app, unit_code=tree.station_code)
    body = application(tree, phone="138 0013 8000 ")
    r = await client.post("/api/v1/volunteer-applications", json=body, headers=auth(resident))
    assert r.status_code == 201, r.text
    mine = r.json()
    vid = mine["id"]
    assert r.headers["location"] == f"/api/v1/volunteers/{vid}"
    assert mine["status"] == "applied"
    assert mine["phone"] == "13800138000"
    assert mine["resident_id"] == body["resident_id"]
    assert mine["full_personal_data"] is True
    assert mine["source_category_label"] == "外卖员"
    assert mine["consent_notice_version"] == "2026-11"

    seen = await client.get(f"/api/v1/volunteers/{vid}", headers=auth(officer))
    assert seen.status_code == 200
    assert seen.json()["address"] == ADDRESS
    assert seen.headers["etag"] == f'W/"{vid}-1"'

    active = await activate(client, officer, vid)
    assert active["status"] == "active"
    number = active["volunteer_number"]
    assert number.endswith("-000001")
    assert str(date.today().year) in number
    token = active["badge_token"]
    assert len(token) >= 22  # ≥ 128 random bits, URL-safe

    history = await client.get(f"/api/v1/volunteers/{vid}/history", headers=auth(officer))
    assert [h["to_status"] for h in history.json()] == [
        "applied",
        "vetted",
        "training",
        "probation",
        "active",
    ]

    badge = await client.get(f"/api/v1/badges/{token}")
    assert badge.status_code == 200
    assert badge.headers["cache-control"] == "no-store"
    assert badge.json() == {
        "masked_name": "张*",
        "has_photo": False,
        "volunteer_number": number,
        "active": True,
        "valid_until": active["next_recheck_on"],
        "teams": [],
    }
    assert "13800138000" not in badge.text
    assert body["resident_id"] not in badge.text
    assert (await client.get("/api/v1/badges/" + "x" * 32)).status_code == 404

    me = await client.get("/api/v1/me", headers=auth(resident))
    assert me.status_code == 200, me.text
    profile = me.json()
    assert "volunteer" in {role["role"] for role in profile["account"]["roles"]}
    assert profile["volunteer"]["volunteer_number"] == number
    assert profile["volunteer"]["badge_token"] == token
    assert profile["volunteer"]["resident_id"] == body["resident_id"]

    async with session_factory() as s:
        events = (
            await s.execute(
                sa.select(outbox.c.event_type, outbox.c.payload).where(
                    outbox.c.aggregate_id == uuid.UUID(vid)
                )
            )
        ).all()
        audits = (
            await s.execute(
                sa.select(audit_log.c.action, audit_log.c.actor_role).where(
                    audit_log.c.record_id == uuid.UUID(vid)
                )
            )
        ).all()
    types = [e.event_type for e in events]
    assert types.count("volunteer.status_changed") == 4
    assert {"volunteer.applied", "volunteer.activated"} <= set(types)
    for event in events:  # thin payloads: ids and codes, never personal data
        assert body["resident_id"] not in str(event.payload)
        assert "13800138000" not in str(event.payload)
        assert "张伟" not in str(event.payload)
    actions = {(a.action, a.actor_role) for a in audits}
    assert ("volunteer.personal_data_viewed", "officer") in actions
    assert ("volunteer.applied", "resident") in actions
    assert ("volunteer.background_checked", "officer") in actions


async def test_other_station_district_and_volunteers_see_only_what_they_should(
    client: httpx.AsyncClient, app: Any, settings: Settings, tree: OrgTree
) -> None:
    resident, _ = await resident_token(client, settings)
    officer = await officer_token(client, app, unit_code=tree.station_code)
    stranger = await officer_token(client, app, unit_code=tree.other_station_code)
    district = await officer_token(client, app, unit_code=tree.district_code, role="district_admin")
    body = application(tree)
    r = await client.post("/api/v1/volunteer-applications", json=body, headers=auth(resident))
    vid = r.json()["id"]
    await activate(client, officer, vid)

    assert (
        await client.get(f"/api/v1/volunteers/{vid}", headers=auth(stranger))
    ).status_code == 404
    listed = await client.get("/api/v1/volunteers?limit=200", headers=auth(stranger))
    assert vid not in {v["id"] for v in listed.json()["items"]}
    gql = await client.post(
        "/graphql",
        json={"query": "query($id: ID!) { node(id: $id) { id } }", "variables": {"id": _gid(vid)}},
        headers=auth(stranger),
    )
    assert gql.json() == {"data": {"node": None}}
    assert (await status(client, stranger, vid, "retired", "x")).status_code == 404

    masked = (await client.get(f"/api/v1/volunteers/{vid}", headers=auth(district))).json()
    assert masked["name"] == "张*"
    assert masked["full_personal_data"] is False
    assert masked["phone"] == body["phone"][:3] + "****" + body["phone"][-4:]
    assert masked["resident_id"].startswith(body["resident_id"][:3])
    assert body["resident_id"] not in str(masked)
    assert masked["badge_token"] is None

    # The volunteer cannot change their own status, nor see anyone else.
    own = await status(client, resident, vid, "retired", "想退出")
    assert own.status_code == 403
    assert own.json()["code"] == "volunteer.own_record"
    other = await client.post(
        "/api/v1/volunteers",
        json={k: v for k, v in application(tree, name="李娜").items() if k != "consent"},
        headers=auth(officer),
    )
    assert other.status_code == 201, other.text
    oid = other.json()["id"]
    assert (
        await client.get(f"/api/v1/volunteers/{oid}", headers=auth(resident))
    ).status_code == 404
    mine = await client.get("/api/v1/volunteers", headers=auth(resident))
    assert [v["id"] for v in mine.json()["items"]] == [vid]


async def test_lifecycle_rules_through_rest(
    client: httpx.AsyncClient, app: Any, tree: OrgTree
) -> None:
    officer = await officer_token(client, app, unit_code=tree.station_code)
    r = await client.post("/api/v1/volunteers", json=registration(tree), headers=auth(officer))
    vid = r.json()["id"]
    bad = await status(client, officer, vid, "active")
    assert bad.status_code == 409
    assert bad.json()["code"] == "volunteer.invalid_transition"
    by_hand = await status(client, officer, vid, "vetted")
    assert by_hand.status_code == 409
    await client.post(
        f"/api/v1/volunteers/{vid}/background-checks",
        json={"result": "passed"},
        headers=auth(officer),
    )
    assert (await status(client, officer, vid, "training")).status_code == 200
    assert (await status(client, officer, vid, "probation")).status_code == 200
    no_reason = await status(client, officer, vid, "suspended")
    assert no_reason.status_code == 422
    assert no_reason.json()["code"] == "volunteer.reason_required"
    assert (await status(client, officer, vid, "suspended", "投诉核查")).status_code == 200
    assert (await status(client, officer, vid, "active")).status_code == 409
    assert (await status(client, officer, vid, "probation")).status_code == 200
    stale = await client.post(
        f"/api/v1/volunteers/{vid}/status",
        json={"to": "expelled", "reason": "违纪"},
        headers={**auth(officer), "If-Match": f'W/"{vid}-1"'},
    )
    assert stale.status_code == 412


async def test_rechecks_due_and_failed_recheck_suspends(
    client: httpx.AsyncClient, app: Any, tree: OrgTree
) -> None:
    officer = await officer_token(client, app, unit_code=tree.station_code)
    vid = (
        await client.post("/api/v1/volunteers", json=registration(tree), headers=auth(officer))
    ).json()["id"]
    active = await activate(client, officer, vid)
    due = date.fromisoformat(active["next_recheck_on"])
    url = "/api/v1/volunteers/rechecks-due?before="
    before = await client.get(url + (due - timedelta(days=1)).isoformat(), headers=auth(officer))
    assert vid not in {v["id"] for v in before.json()["items"]}
    on_due = await client.get(url + due.isoformat() + "&limit=200", headers=auth(officer))
    assert vid in {v["id"] for v in on_due.json()["items"]}
    failed = await client.post(
        f"/api/v1/volunteers/{vid}/background-checks",
        json={"result": "failed", "note": "复查发现违法记录"},
        headers=auth(officer),
    )
    assert failed.status_code == 201
    assert failed.json()["volunteer"]["status"] == "suspended"
    badge = await client.get(f"/api/v1/badges/{active['badge_token']}")
    assert badge.json()["active"] is False
    checks = await client.get(f"/api/v1/volunteers/{vid}/background-checks", headers=auth(officer))
    assert [c["result"] for c in checks.json()] == ["failed", "passed"]


async def test_if_match_on_profile_edits(
    client: httpx.AsyncClient, app: Any, tree: OrgTree
) -> None:
    officer = await officer_token(client, app, unit_code=tree.station_code)
    created = await client.post(
        "/api/v1/volunteers", json=registration(tree), headers=auth(officer)
    )
    vid = created.json()["id"]
    url = f"/api/v1/volunteers/{vid}"
    patch = {"address": "常州市武进区牛塘镇人民路9号", "skills": ["fire"], "has_photo": True}
    missing = await client.patch(url, json=patch, headers=auth(officer))
    assert missing.status_code == 428
    wrong = await client.patch(
        url, json=patch, headers={**auth(officer), "If-Match": f'W/"{vid}-9"'}
    )
    assert wrong.status_code == 412
    ok = await client.patch(
        url, json=patch, headers={**auth(officer), "If-Match": created.headers["etag"]}
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["address"] == patch["address"]
    assert ok.json()["has_photo"] is True
    assert ok.headers["etag"] == f'W/"{vid}-2"'
    again = await client.patch(
        url, json=patch, headers={**auth(officer), "If-Match": created.headers["etag"]}
    )
    assert again.status_code == 412


async def test_application_is_idempotent(
    client: httpx.AsyncClient, settings: Settings, tree: OrgTree
) -> None:
    resident, _ = await resident_token(client, settings)
    body = application(tree)
    key = {"Idempotency-Key": uuid.uuid4().hex}
    first = await client.post(
        "/api/v1/volunteer-applications", json=body, headers={**auth(resident), **key}
    )
    again = await client.post(
        "/api/v1/volunteer-applications", json=body, headers={**auth(resident), **key}
    )
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["location"] == first.headers["location"]
    other = await client.post(
        "/api/v1/volunteer-applications",
        json={**body, "name": "张卫"},
        headers={**auth(resident), **key},
    )
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency.key_reused"
    listed = await client.get("/api/v1/volunteers", headers=auth(resident))
    assert len(listed.json()["items"]) == 1
    duplicate = await client.post(
        "/api/v1/volunteer-applications", json=body, headers=auth(resident)
    )
    assert duplicate.status_code == 409
    assert duplicate.json()["code"] == "volunteer.already_registered"


async def test_application_validation(
    client: httpx.AsyncClient, settings: Settings, tree: OrgTree
) -> None:
    resident, _ = await resident_token(client, settings)
    minor = random_resident_id(date.today() - timedelta(days=17 * 365))
    r = await client.post(
        "/api/v1/volunteer-applications",
        json=application(tree, resident_id=minor),
        headers={**auth(resident), "Accept-Language": "en"},
    )
    assert r.status_code == 422
    assert r.json()["code"] == "volunteer.under_age"
    r = await client.post(
        "/api/v1/volunteer-applications",
        json=application(tree, consent={"notice_version": "2020-01", "accepted": True}),
        headers=auth(resident),
    )
    assert r.json()["code"] == "volunteer.consent_required"
    r = await client.post(
        "/api/v1/volunteer-applications",
        json=application(tree, station_id=str(tree.community_id)),
        headers=auth(resident),
    )
    assert r.json()["code"] == "volunteer.unknown_station"
    r = await client.post(
        "/api/v1/volunteer-applications",
        json=application(tree, source_category="警察"),
        headers=auth(resident),
    )
    assert r.status_code == 422
    assert (
        await client.post("/api/v1/volunteer-applications", json=application(tree))
    ).status_code == 401


async def test_search_by_phone_and_id_number(
    client: httpx.AsyncClient, app: Any, tree: OrgTree
) -> None:
    officer = await officer_token(client, app, unit_code=tree.station_code)
    body = registration(tree)
    vid = (await client.post("/api/v1/volunteers", json=body, headers=auth(officer))).json()["id"]
    phone = body["phone"]
    spaced = f"+86 {phone[:3]} {phone[3:7]} {phone[7:]}"
    by_phone = await client.get(
        "/api/v1/volunteers", params={"phone": spaced}, headers=auth(officer)
    )
    assert [v["id"] for v in by_phone.json()["items"]] == [vid]
    by_id = await client.get(
        "/api/v1/volunteers",
        params={"resident_id": body["resident_id"].lower()},
        headers=auth(officer),
    )
    assert [v["id"] for v in by_id.json()["items"]] == [vid]
    item = by_id.json()["items"][0]
    assert item["name"] == body["name"]  # the station's staff see names in lists
    assert "*" in item["phone"]  # but personal data stays masked in lists
    bad = await client.get("/api/v1/volunteers?phone=123", headers=auth(officer))
    assert bad.status_code == 422


def _gid(raw: str) -> str:
    return base64.b64encode(f"Volunteer:{raw}".encode()).decode()
