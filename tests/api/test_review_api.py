"""Fraud controls through REST and GraphQL: perceptual hashes stored on upload, the same
photo reported by a second account raises a flag in the station's review queue (not the
other station's), velocity limits per device (and per account for hazards) answer 429,
several accounts on one device raise a flag, and confirming fraud reverses the points of
a credited tip."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from PIL import Image
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from support.auth import auth, officer_token, resident_token
from support.hazards import BASE, hazard_body, jpeg
from support.org import OrgTree, make_org_tree
from support.points import drain, my_points
from support.tips import account_id, due_in, step, submit, tip_body

from app.domain.hazards.services import HazardService
from app.domain.review.velocity import VelocityLimits
from app.infra.db.tables.media import media_objects
from app.infra.db.tables.review import submission_log
from app.settings import Settings

FLAGS = "/api/v1/review-flags"


@pytest.fixture
async def tree(app: Any) -> OrgTree:
    return await make_org_tree(app)


def noisy_jpeg() -> bytes:
    """A photo of random detail: its perceptual hash is far from any other's."""
    import io

    image = Image.frombytes("RGB", (64, 48), os.urandom(64 * 48 * 3))
    out = io.BytesIO()
    image.save(out, "JPEG")
    return out.getvalue()


async def upload_bytes(
    client: httpx.AsyncClient, token: str, data: bytes, device: str | None = None
) -> str:
    headers = auth(token) | ({"X-Device-Id": device} if device else {})
    files = {"file": ("照片.jpg", data, "image/jpeg")}
    r = await client.post("/api/v1/media", files=files, headers=headers)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def with_device(token: str, device: str) -> dict[str, str]:
    return auth(token) | {"X-Device-Id": device}


@contextlib.contextmanager
def limits(app: Any, limits: VelocityLimits) -> Iterator[None]:
    """Lower the velocity limits of the (session-wide) app for one test."""
    velocity = app.state.services.get(HazardService).velocity
    saved = velocity.limits
    velocity.limits = limits
    try:
        yield
    finally:
        velocity.limits = saved


async def flags_of(client: httpx.AsyncClient, token: str, **params: str) -> list[dict[str, Any]]:
    r = await client.get(FLAGS, params=params, headers=auth(token))
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


async def test_phash_is_stored_on_upload_and_flat_photos_have_none(
    client: httpx.AsyncClient,
    settings: Settings,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    resident, _ = await resident_token(client, settings)
    detailed = await upload_bytes(client, resident, noisy_jpeg())
    flat = await upload_bytes(client, resident, jpeg())
    async with session_factory() as s:
        rows = dict(
            (
                await s.execute(
                    sa.select(media_objects.c.id, media_objects.c.phash).where(
                        media_objects.c.id.in_([uuid.UUID(detailed), uuid.UUID(flat)])
                    )
                )
            ).all()
        )
    assert isinstance(rows[uuid.UUID(detailed)], int)
    assert rows[uuid.UUID(flat)] is None  # a flat colour would match every other one


async def test_same_photo_reported_twice_is_flagged_for_the_station_only(
    client: httpx.AsyncClient,
    app: Any,
    settings: Settings,
    tree: OrgTree,
) -> None:
    officer = await officer_token(client, app, unit_code=tree.station_code)
    other_officer = await officer_token(client, app, unit_code=tree.other_station_code)
    first, _ = await resident_token(client, settings)
    second, _ = await resident_token(client, settings)
    photo = noisy_jpeg()
    await drain(app)

    r = await client.post(
        BASE,
        json=hazard_body(tree.inside, [await upload_bytes(client, first, photo)]),
        headers=auth(first),
    )
    assert r.status_code == 201, r.text
    original = r.json()["id"]
    # Unrelated photo: no flag.
    r = await client.post(
        BASE,
        json=hazard_body(tree.inside, [await upload_bytes(client, first, noisy_jpeg())]),
        headers=auth(first),
    )
    assert r.status_code == 201, r.text
    unrelated = r.json()["id"]
    # The same photo, uploaded again by another account, for a tip.
    media = await upload_bytes(client, second, photo)
    reused = (await submit(client, second, tip_body(tree, media_ids=[media])))["id"]
    await drain(app)

    mine = await flags_of(client, officer, kind="photo_reused")
    [flag] = [f for f in mine if f["record"]["id"] == reused]
    assert flag["record"]["type"] == "tip"
    assert flag["status"] == "open"
    assert flag["station_id"] == str(tree.station_id)
    assert {"type": "hazard", "id": original} in flag["evidence"]["records"]
    assert all(f["record"]["id"] != unrelated for f in mine)
    # The reuse is also found the other way round for nobody: the original was first.
    assert all(f["record"]["id"] != original for f in mine)
    text = str(flag)
    assert "phone" not in text
    assert "account" not in text

    # Another station's officer neither lists, reads nor resolves it.
    assert all(f["id"] != flag["id"] for f in await flags_of(client, other_officer))
    r = await client.get(f"{FLAGS}/{flag['id']}", headers=auth(other_officer))
    assert r.status_code == 404
    assert r.json()["code"] == "review.flag_not_found"
    r = await client.post(
        f"{FLAGS}/{flag['id']}/resolve",
        json={"decision": "dismissed"},
        headers=auth(other_officer),
    )
    assert r.status_code == 404
    # Residents are not staff.
    assert (await client.get(FLAGS, headers=auth(first))).status_code == 403

    r = await client.post(
        f"{FLAGS}/{flag['id']}/resolve",
        json={"decision": "dismissed", "note": "同一现场的不同角度"},
        headers=auth(officer),
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "dismissed"
    assert r.json()["note"] == "同一现场的不同角度"
    again = await client.post(
        f"{FLAGS}/{flag['id']}/resolve", json={"decision": "dismissed"}, headers=auth(officer)
    )
    assert again.status_code == 409
    assert again.json()["code"] == "review.flag_resolved"
    open_ones = await flags_of(client, officer, status="open", kind="photo_reused")
    assert all(f["id"] != flag["id"] for f in open_ones)


async def test_device_velocity_limits_and_flag(
    client: httpx.AsyncClient,
    app: Any,
    settings: Settings,
    tree: OrgTree,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    officer = await officer_token(client, app, unit_code=tree.station_code)
    device = f"install-{uuid.uuid4().hex}"
    one, _ = await resident_token(client, settings)
    two, _ = await resident_token(client, settings)
    await drain(app)

    async def logged() -> int:
        async with session_factory() as s:
            query = sa.select(sa.func.count()).select_from(submission_log)
            return int((await s.execute(query)).scalar_one())

    with limits(app, VelocityLimits(account_per_hour=2, device_per_hour=3)):
        # Per account (hazards): the third hazard of one account within the hour.
        photos = [await upload_bytes(client, one, noisy_jpeg()) for _ in range(3)]
        for photo in photos[:2]:
            r = await client.post(
                BASE, json=hazard_body(tree.inside, [photo]), headers=with_device(one, device)
            )
            assert r.status_code == 201, r.text
        before = await logged()
        r = await client.post(
            BASE, json=hazard_body(tree.inside, [photos[2]]), headers=with_device(one, device)
        )
        assert r.status_code == 429
        assert r.json()["code"] == "hazard.rate_limited"
        assert int(r.headers["retry-after"]) > 0
        assert await logged() == before  # refused: nothing logged, nothing stored
        # Per device: a second account on the same device gets one more, then 429.
        photo = await upload_bytes(client, two, noisy_jpeg())
        r = await client.post(
            BASE, json=hazard_body(tree.inside, [photo]), headers=with_device(two, device)
        )
        assert r.status_code == 201, r.text
        second_account_hazard = r.json()["id"]
        photo = await upload_bytes(client, two, noisy_jpeg())
        r = await client.post(
            BASE, json=hazard_body(tree.inside, [photo]), headers=with_device(two, device)
        )
        assert r.status_code == 429
        assert r.json()["code"] == "hazard.rate_limited"
        # The same account elsewhere (another device) is not limited by that device.
        r = await client.post(
            BASE,
            json=hazard_body(tree.inside, [photo]),
            headers=with_device(two, f"install-{uuid.uuid4().hex}"),
        )
        assert r.status_code == 201, r.text

        # Tips: the per-device limit too (same window), whoever signs in on the device.
        tip_device = f"install-{uuid.uuid4().hex}"
        for token in (one, two, one):
            r = await client.post(
                "/api/v1/tips", json=tip_body(tree), headers=with_device(token, tip_device)
            )
            assert r.status_code == 201, r.text
        r = await client.post(
            "/api/v1/tips", json=tip_body(tree), headers=with_device(two, tip_device)
        )
        assert r.status_code == 429
        assert r.json()["code"] == "tip.rate_limited"
        assert int(r.headers["retry-after"]) > 0

    # A malformed device id is refused.
    r = await client.post("/api/v1/tips", json=tip_body(tree), headers=with_device(one, "x" * 129))
    assert r.status_code == 422
    assert r.json()["code"] == "device.id_invalid"

    # Two accounts on one device: the later report is flagged (counts only).
    await drain(app)
    flags = await flags_of(client, officer, kind="device_velocity")
    [flag] = [f for f in flags if f["record"]["id"] == second_account_hazard]
    assert flag["evidence"]["accounts"] == 2
    assert flag["evidence"]["reports"] == 3
    assert device not in str(flag)


async def test_confirmed_fraud_reverses_the_points_of_a_credited_tip(
    client: httpx.AsyncClient,
    app: Any,
    settings: Settings,
    tree: OrgTree,
) -> None:
    officer = await officer_token(client, app, unit_code=tree.station_code)
    officer_id = await account_id(client, officer)
    honest, _ = await resident_token(client, settings)
    copier, _ = await resident_token(client, settings)
    photo = noisy_jpeg()
    await drain(app)
    await submit(
        client, honest, tip_body(tree, media_ids=[await upload_bytes(client, honest, photo)])
    )
    copied = str(
        (
            await submit(
                client,
                copier,
                tip_body(tree, media_ids=[await upload_bytes(client, copier, photo)]),
            )
        )["id"]
    )
    await step(client, officer, copied, "assign", {"officer_id": officer_id, "due_at": due_in()})
    await step(client, officer, copied, "verify")
    await step(client, officer, copied, "outcome", {"outcome": "valid"})
    await drain(app)
    credited = (await my_points(client, copier))["balance"]
    assert credited > 0

    [flag] = [f for f in await flags_of(client, officer) if f["record"]["id"] == copied]
    r = await client.post(
        f"{FLAGS}/{flag['id']}/resolve",
        json={"decision": "confirmed_fraud", "note": "照片系他人拍摄"},
        headers=auth(officer),
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "confirmed_fraud"
    await drain(app)
    assert (await my_points(client, copier))["balance"] == 0
    await drain(app)  # a second drain reverses nothing twice
    assert (await my_points(client, copier))["balance"] == 0


async def gql(
    client: httpx.AsyncClient, token: str, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    r = await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=auth(token)
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert "errors" not in body, body
    return dict(body["data"])


async def test_review_queue_over_graphql(
    client: httpx.AsyncClient,
    app: Any,
    settings: Settings,
    tree: OrgTree,
) -> None:
    officer = await officer_token(client, app, unit_code=tree.station_code)
    other_officer = await officer_token(client, app, unit_code=tree.other_station_code)
    first, _ = await resident_token(client, settings)
    second, _ = await resident_token(client, settings)
    photo = noisy_jpeg()
    await drain(app)
    for token in (first, second):
        media = await upload_bytes(client, token, photo)
        r = await client.post(BASE, json=hazard_body(tree.inside, [media]), headers=auth(token))
        assert r.status_code == 201, r.text
    reused = r.json()["id"]
    await drain(app)

    query = """query($kind: ReviewFlagKind) { reviewFlags(kind: $kind, status: OPEN) {
        edges { node { id recordType recordId kind status evidence } } } }"""
    data = await gql(client, officer, query, {"kind": "PHOTO_REUSED"})
    [node] = [e["node"] for e in data["reviewFlags"]["edges"] if e["node"]["recordId"] == reused]
    assert node["recordType"] == "hazard"
    other = await gql(client, other_officer, query, {"kind": "PHOTO_REUSED"})
    assert all(e["node"]["recordId"] != reused for e in other["reviewFlags"]["edges"])

    mutation = """mutation($id: ID!, $note: String) {
        resolveReviewFlag(id: $id, decision: DISMISSED, note: $note) {
          __typename
          ... on ReviewFlagPayload { flag { status note } }
          ... on Problem { code }
        } }"""
    foreign = await gql(client, other_officer, mutation, {"id": node["id"], "note": None})
    assert foreign["resolveReviewFlag"]["code"] == "review.flag_not_found"
    done = await gql(client, officer, mutation, {"id": node["id"], "note": "已核实"})
    assert done["resolveReviewFlag"]["flag"] == {"status": "DISMISSED", "note": "已核实"}
