"""Help requests (群众求助) through the REST API: asking, routing, who sees what, the offer →
accept → resolve journey with its notifications, and bad input."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from support.auth import auth, officer_token, resident_token
from support.org import OrgTree, make_org_tree
from support.tips import account_id
from support.volunteers import activate, application

from app.domain.delivery.services import DeliveryService
from app.settings import Settings

BASE = "/api/v1/help-requests"
WALLET = "在武进万达广场丢失黑色钱包"


@pytest.fixture
async def tree(app: Any) -> OrgTree:
    return await make_org_tree(app)


def help_body(
    at: tuple[float, float], *, request_id: uuid.UUID | None = None, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "lost_item",
        "description": WALLET,
        "location": {"lon": at[0], "lat": at[1], "crs": "wgs84"},
    }
    if request_id is not None:
        body["id"] = str(request_id)
    body.update(extra)
    return body


async def volunteer_at(
    client: httpx.AsyncClient, settings: Settings, officer: str, tree: OrgTree, station: uuid.UUID
) -> str:
    """An active volunteer (named 张伟) of ``station``; returns their access token."""
    token, _ = await resident_token(client, settings)
    body = application(tree, station_id=str(station))
    if station != tree.station_id:
        body.pop("community_id")
    r = await client.post("/api/v1/volunteer-applications", json=body, headers=auth(token))
    assert r.status_code == 201, r.text
    await activate(client, officer, r.json()["id"])
    return token


async def ask(client: httpx.AsyncClient, token: str, body: dict[str, Any]) -> dict[str, Any]:
    r = await client.post(BASE, json=body, headers=auth(token))
    assert r.status_code == 201, r.text
    return dict(r.json())


async def act(
    client: httpx.AsyncClient, token: str, path: str, body: dict[str, Any] | None = None
) -> dict[str, Any]:
    r = await client.post(f"{BASE}/{path}", json=body, headers=auth(token))
    assert r.status_code == 200, r.text
    return dict(r.json())


async def inbox(client: httpx.AsyncClient, token: str) -> list[dict[str, Any]]:
    r = await client.get("/api/v1/me/notifications", headers=auth(token))
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


def near(point: tuple[float, float]) -> str:
    return f"{point[0]},{point[1]}"


async def test_help_journey_from_request_to_resolution(
    client: httpx.AsyncClient, app: Any, settings: Settings, tree: OrgTree
) -> None:
    officer = await officer_token(client, app, unit_code=tree.station_code)
    other_officer = await officer_token(client, app, unit_code=tree.other_station_code)
    resident, _ = await resident_token(client, settings)
    resident_account = await account_id(client, resident)
    helper = await volunteer_at(client, settings, officer, tree, tree.station_id)
    bystander = await volunteer_at(client, settings, officer, tree, tree.station_id)
    far = await volunteer_at(client, settings, other_officer, tree, tree.other_station_id)

    # Ask, with a client id and an Idempotency-Key; both kinds of retry are safe.
    rid = uuid.uuid4()
    keyed = {**auth(resident), "Idempotency-Key": uuid.uuid4().hex}
    body = help_body(tree.inside, request_id=rid)
    first = await client.post(BASE, json=body, headers=keyed)
    assert first.status_code == 201, first.text
    assert first.headers["location"] == f"{BASE}/{rid}"
    created = first.json()
    assert created["id"] == str(rid)
    assert created["description"] == WALLET
    assert created["audience"] == "requester"
    assert created["status"] == "open"
    assert created["location"] == {"lon": tree.inside[0], "lat": tree.inside[1], "crs": "wgs84"}
    assert created["location_precision_m"] is None
    replay = await client.post(BASE, json=body, headers=keyed)
    assert replay.status_code == 201
    assert replay.headers["idempotent-replayed"] == "true"
    retry = await client.post(BASE, json=body, headers=auth(resident))
    assert retry.status_code == 200, retry.text
    assert retry.json()["id"] == str(rid)
    taken = await client.post(BASE, json=body, headers=auth(helper))
    assert taken.status_code == 409
    assert taken.json()["code"] == "help.id_taken"

    # Routed to the station (湖塘派出所) of the place: its staff see everything.
    staff_view = await client.get(f"{BASE}/{rid}", headers=auth(officer))
    assert staff_view.status_code == 200, staff_view.text
    seen = staff_view.json()
    assert seen["audience"] == "staff"
    assert seen["station_id"] == str(tree.station_id)
    assert seen["grid_id"] == str(tree.grid_id)
    assert seen["requester_id"] == resident_account
    assert [h["kind"] for h in seen["history"]] == ["requested"]
    queue = await client.get(BASE, params={"status": "open"}, headers=auth(officer))
    assert str(rid) in [r["id"] for r in queue.json()["items"]]
    assert (await client.get(f"{BASE}/{rid}", headers=auth(other_officer))).status_code == 404
    foreign_queue = await client.get(BASE, headers=auth(other_officer))
    assert str(rid) not in [r["id"] for r in foreign_queue.json()["items"]]

    # A volunteer of the station nearby sees it coarsely, and never who asked.
    nearby = await client.get(BASE, params={"near": near(tree.inside)}, headers=auth(helper))
    assert nearby.status_code == 200, nearby.text
    [listed] = [r for r in nearby.json()["items"] if r["id"] == str(rid)]
    assert listed["audience"] == "volunteer"
    assert listed["location_precision_m"] == 500
    assert listed["location"] != created["location"]
    assert abs(listed["location"]["lon"] - tree.inside[0]) < 0.006
    assert listed["submitted_at"] is None
    assert listed["age"] == "just_now"
    assert listed["requester_id"] is None
    assert listed["station_id"] is None
    assert listed["offers"] is None
    assert listed["history"] is None
    assert resident_account not in json.dumps(nearby.json())
    single = await client.get(f"{BASE}/{rid}", headers=auth(helper))
    assert single.status_code == 200
    assert single.json()["location_precision_m"] == 500
    # Too far from the point passed, or serving another station: not listed / not found.
    away = (tree.inside[0] + 0.05, tree.inside[1])
    listed_far = await client.get(BASE, params={"near": near(away)}, headers=auth(helper))
    assert str(rid) not in [r["id"] for r in listed_far.json()["items"]]
    other = await client.get(BASE, params={"near": near(tree.inside)}, headers=auth(far))
    assert str(rid) not in [r["id"] for r in other.json()["items"]]
    assert (await client.get(f"{BASE}/{rid}", headers=auth(far))).status_code == 404
    refused = await client.post(f"{BASE}/{rid}/offers", json={}, headers=auth(far))
    assert refused.status_code == 404

    # Two volunteers offer; a repeat offer changes nothing; one withdraws.
    offered = await act(client, helper, f"{rid}/offers", {"note": "我在万达广场附近，十分钟到"})
    assert offered["my_offer"]["status"] == "active"
    assert offered["offer_count"] == 1
    again = await act(client, helper, f"{rid}/offers")
    assert again["my_offer"]["id"] == offered["my_offer"]["id"]
    assert again["offer_count"] == 1
    await act(client, bystander, f"{rid}/offers")
    gone = await client.delete(f"{BASE}/{rid}/offers/mine", headers=auth(bystander))
    assert gone.status_code == 200
    assert gone.json()["my_offer"]["status"] == "withdrawn"
    twice = await client.delete(f"{BASE}/{rid}/offers/mine", headers=auth(bystander))
    assert twice.status_code == 404
    assert twice.json()["code"] == "help.offer_not_found"

    mine = (await client.get("/api/v1/me/help-requests", headers=auth(resident))).json()
    [own] = mine["items"]
    assert own["offer_count"] == 1
    assert own["helper"] is None
    assert own["offers"] is None

    # Station staff accept the offer (If-Match honoured), then resolve and close.
    staff_view = await client.get(f"{BASE}/{rid}", headers=auth(officer))
    offers = staff_view.json()["offers"]
    assert [o["status"] for o in offers] == ["active", "withdrawn"]
    assert offers[0]["helper"]["masked_name"] == "张*"
    assert offers[0]["note"] == "我在万达广场附近，十分钟到"
    accept_path = f"{BASE}/{rid}/offers/{offers[0]['id']}/accept"
    stale = await client.post(accept_path, headers={**auth(officer), "If-Match": f'W/"{rid}-1"'})
    assert stale.status_code == 412
    assert (await client.post(accept_path, headers=auth(other_officer))).status_code == 404
    assert (await client.post(accept_path, headers=auth(helper))).status_code == 404
    accepted = await client.post(
        accept_path, headers={**auth(officer), "If-Match": staff_view.headers["etag"]}
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "in_progress"

    # The helper now sees the exact place; the requester the helper's masked name.
    as_helper = (await client.get(f"{BASE}/{rid}", headers=auth(helper))).json()
    assert as_helper["audience"] == "helper"
    assert as_helper["location"] == created["location"]
    assert as_helper["requester_id"] is None
    as_requester = (await client.get(f"{BASE}/{rid}", headers=auth(resident))).json()
    assert as_requester["helper"]["masked_name"] == "张*"
    assert as_requester["helper"]["volunteer_number"]
    assert (await client.get(f"{BASE}/{rid}", headers=auth(bystander))).status_code == 404

    early = await client.post(f"{BASE}/{rid}/close", headers=auth(officer))
    assert early.status_code == 409
    assert early.json()["code"] == "help.invalid_transition"
    resolved = await act(client, officer, f"{rid}/resolve", {"outcome": "found", "note": "已归还"})
    assert resolved["status"] == "resolved"
    assert resolved["outcome"] == "found"
    closed = await act(client, officer, f"{rid}/close")
    assert closed["status"] == "closed"
    assert [h["kind"] for h in closed["history"]] == [
        "requested",
        "offered",
        "offered",
        "offer_withdrawn",
        "offer_accepted",
        "resolved",
        "closed",
    ]

    # The worker delivers: the requester hears of the offer and the outcome, the helper
    # of the acceptance; texts carry no detail, the link names the request only.
    await app.state.services.get(DeliveryService).drain()
    await app.state.services.get(DeliveryService).drain()
    told = await inbox(client, resident)
    titles = sorted(n["title"] for n in told)
    assert titles == ["您的求助有新进展", "有人响应了您的求助", "有人响应了您的求助"]
    assert {n["link"] for n in told} == {f"shouwang://help-requests/{rid}"}
    assert WALLET not in json.dumps(told, ensure_ascii=False)
    helper_told = [n for n in await inbox(client, helper) if n["kind"] == "help.offer_accepted"]
    assert [n["title"] for n in helper_told] == ["您的帮助响应已被采纳"]
    assert not [n for n in await inbox(client, bystander) if n["kind"].startswith("help.")]


async def test_requester_cancels_and_only_they_may(
    client: httpx.AsyncClient, app: Any, settings: Settings, tree: OrgTree
) -> None:
    officer = await officer_token(client, app, unit_code=tree.station_code)
    resident, _ = await resident_token(client, settings)
    volunteer = await volunteer_at(client, settings, officer, tree, tree.station_id)
    rid = (await ask(client, resident, help_body(tree.inside, kind="looking_for_person")))["id"]
    await act(client, volunteer, f"{rid}/offers")

    denied = await client.post(f"{BASE}/{rid}/cancel", headers=auth(volunteer))
    assert denied.status_code == 403
    cancelled = await act(client, resident, f"{rid}/cancel")
    assert cancelled["status"] == "cancelled"
    assert cancelled["outcome"] == "withdrawn_by_requester"
    again = await client.post(f"{BASE}/{rid}/cancel", headers=auth(resident))
    assert again.status_code == 409
    # No longer open: volunteers neither see nor may offer on it.
    assert (await client.get(f"{BASE}/{rid}", headers=auth(volunteer))).status_code == 404
    listed = await client.get(BASE, params={"near": near(tree.inside)}, headers=auth(volunteer))
    assert rid not in [r["id"] for r in listed.json()["items"]]
    staff = (await client.get(f"{BASE}/{rid}", headers=auth(officer))).json()
    assert [o["status"] for o in staff["offers"]] == ["declined"]


async def test_routing_district_queue_and_bad_input(
    client: httpx.AsyncClient, app: Any, settings: Settings, tree: OrgTree
) -> None:
    resident, _ = await resident_token(client, settings)
    station = await officer_token(client, app, unit_code=tree.station_code)
    district = await officer_token(client, app, unit_code=tree.district_code, role="district_admin")

    # Just outside every station, near the district: the district's queue.
    x, y = tree.inside[0] - 0.002, tree.inside[1] - 0.0025
    queued = await ask(client, resident, help_body((x - 0.0005, y + 0.004)))
    seen = (await client.get(f"{BASE}/{queued['id']}", headers=auth(district))).json()
    assert seen["district_id"] == str(tree.district_id)
    assert seen["station_id"] is None
    assert (await client.get(f"{BASE}/{queued['id']}", headers=auth(station))).status_code == 404

    def post(body: Any, token: str = resident) -> Any:
        return client.post(BASE, json=body, headers=auth(token))

    far = await post(help_body((100.0, 40.0)))
    assert far.status_code == 422
    assert far.json()["code"] == "help.outside_service_area"
    for bad in (
        help_body(tree.inside, kind="stolen_bike"),
        help_body(tree.inside, description=""),
        help_body(tree.inside, description="钱" * 2001),
        help_body(tree.inside, description="   "),
        {**help_body(tree.inside), "location": {"lon": 200, "lat": 31.7}},
        {**help_body(tree.inside), "requester": "张三"},
    ):
        r = await post(bad)
        assert r.status_code == 422, (bad, r.text)
        assert r.json()["code"] in ("validation_failed", "help.description_invalid")
    unknown_media = await post(help_body(tree.inside, media_ids=[str(uuid.uuid4())]))
    assert unknown_media.status_code == 404, unknown_media.text
    mine = (await client.get("/api/v1/me/help-requests", headers=auth(resident))).json()
    assert [r["id"] for r in mine["items"]] == [queued["id"]]  # nothing else was stored

    assert (await client.get(BASE, headers=auth(resident))).status_code == 403
    not_volunteer = await client.get(
        BASE, params={"near": near(tree.inside)}, headers=auth(resident)
    )
    assert not_volunteer.status_code == 403
    assert not_volunteer.json()["code"] == "help.not_serving_volunteer"
    bad_near = await client.get(BASE, params={"near": "东经119"}, headers=auth(station))
    assert bad_near.status_code == 422
    assert bad_near.json()["code"] == "help.near_invalid"
    assert (await client.get(f"{BASE}/not-an-id", headers=auth(resident))).status_code == 404
    rid = (await ask(client, resident, help_body(tree.inside)))["id"]
    unknown_offer = await client.post(
        f"{BASE}/{rid}/offers/{uuid.uuid4()}/accept", headers=auth(station)
    )
    assert unknown_offer.status_code == 404
    assert unknown_offer.json()["code"] == "help.offer_not_found"
    bad_outcome = await client.post(
        f"{BASE}/{rid}/resolve", json={"outcome": "solved"}, headers=auth(station)
    )
    assert bad_outcome.status_code == 422
    own_offer = await client.post(f"{BASE}/{rid}/offers", headers=auth(resident))
    assert own_offer.status_code == 403
    english = await client.get(
        f"{BASE}/{uuid.uuid4()}", headers={**auth(resident), "Accept-Language": "en"}
    )
    assert english.status_code == 404
    assert english.json()["detail"] == "The help request was not found."


async def test_asking_is_limited_per_account_and_per_device(
    client: httpx.AsyncClient, settings: Settings, tree: OrgTree
) -> None:
    resident, _ = await resident_token(client, settings)
    for n in range(settings.hazard_hourly_limit):
        await ask(
            client, resident, help_body(tree.inside, description=f"第{n + 1}次求助：找不到回家的路")
        )
    r = await client.post(BASE, json=help_body(tree.inside), headers=auth(resident))
    assert r.status_code == 429, r.text
    assert r.json()["code"] == "help.rate_limited"
    assert int(r.headers["retry-after"]) > 0
    mine = await client.get("/api/v1/me/help-requests?limit=50", headers=auth(resident))
    assert len(mine.json()["items"]) == settings.hazard_hourly_limit  # the refused one: none

    # One device shared by several accounts reaches the device's own limit.
    device = {"X-Device-Id": f"bench-phone-{uuid.uuid4().hex}"}
    asked = 0
    while asked < settings.device_hourly_limit:
        someone, _ = await resident_token(client, settings)
        for _ in range(min(5, settings.device_hourly_limit - asked)):
            r = await client.post(
                BASE, json=help_body(tree.inside), headers={**auth(someone), **device}
            )
            assert r.status_code == 201, r.text
            asked += 1
    r = await client.post(BASE, json=help_body(tree.inside), headers={**auth(someone), **device})
    assert r.status_code == 429
    assert r.json()["code"] == "help.rate_limited"
