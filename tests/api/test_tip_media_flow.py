"""Issue 3 end to end: a resident reports with a photo, the station handles it, the
reporter hears back through the inbox; media visibility follows the tip's, anonymous tips
notify nobody and a dispute reaches the handler exactly once."""

from __future__ import annotations

import base64
import io
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from PIL import Image
from support.auth import auth, officer_token, resident_token
from support.org import OrgTree, make_org_tree
from support.tips import account_id, due_in, step, tip_body

from app.domain.delivery.services import DeliveryService
from app.infra.db.tables.media import media_objects
from app.infra.db.tables.notifications import notifications
from app.main import create_app, platform_of
from app.settings import Settings


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (60, 40), (30, 160, 60))
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (31.0, 42.0, 3.0), 3: "E", 4: (119.0, 57.0, 1.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


@pytest.fixture(scope="module")
async def tip_app(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The app with media stored in a temporary directory."""
    app = create_app(settings.model_copy(update={"media_dir": tmp_path_factory.mktemp("tm")}))
    yield app
    await platform_of(app).aclose()


@pytest.fixture
async def c(tip_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=tip_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
async def tree(tip_app: Any) -> OrgTree:
    return await make_org_tree(tip_app)


async def upload(c: httpx.AsyncClient, token: str) -> dict[str, Any]:
    files = {"file": ("现场.jpg", jpeg_with_gps(), "image/jpeg")}
    r = await c.post("/api/v1/media", files=files, headers=auth(token))
    assert r.status_code == 201, r.text
    return dict(r.json())


async def drain(app: Any) -> None:
    await app.state.services.get(DeliveryService).drain()


async def inbox(c: httpx.AsyncClient, token: str) -> list[dict[str, Any]]:
    r = await c.get("/api/v1/me/notifications", headers=auth(token))
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


async def handled(
    c: httpx.AsyncClient, tip_app: Any, tree: OrgTree, tid: str, officer: str
) -> None:
    officer_id = await account_id(c, officer)
    await step(c, officer, tid, "assign", {"officer_id": officer_id, "due_at": due_in()})
    await step(c, officer, tid, "verify")
    await step(c, officer, tid, "outcome", {"outcome": "valid", "feedback_template": "valid"})


async def test_resident_reports_with_photo_and_hears_back(
    c: httpx.AsyncClient, tip_app: Any, settings: Settings, tree: OrgTree
) -> None:
    resident, _ = await resident_token(c, settings)
    officer = await officer_token(c, tip_app, unit_code=tree.station_code)
    foreign = await officer_token(c, tip_app, unit_code=tree.other_station_code)
    photo = await upload(c, resident)

    body = tip_body(tree, media_ids=[photo["id"]])
    headers = {**auth(resident), "Idempotency-Key": str(uuid.uuid4())}
    first = await c.post("/api/v1/tips", json=body, headers=headers)
    again = await c.post("/api/v1/tips", json=body, headers=headers)
    assert first.status_code == 201, first.text
    assert again.status_code == 201, again.text
    tid = first.json()["id"]
    assert again.json()["id"] == tid
    [own] = first.json()["media"]
    assert own["id"] == photo["id"]
    assert own["kind"] == "photo"
    assert own["thumbnail_url"]

    queue = await c.get("/api/v1/tips", headers=auth(officer))
    [item] = [t for t in queue.json()["items"] if t["id"] == tid]
    [seen] = item["media"]
    assert seen["id"] == photo["id"]
    file = await c.get(seen["url"])
    assert file.status_code == 200
    with Image.open(io.BytesIO(file.content)) as im:
        assert len(im.getexif()) == 0  # no GPS, no EXIF at all
        assert "exif" not in im.info
    assert (await c.get(f"/api/v1/media/{photo['id']}", headers=auth(officer))).status_code == 200

    gid = base64.b64encode(f"Tip:{tid}".encode()).decode()
    query = "query($id: ID!) { node(id: $id) { ... on Tip { media { uuid kind url } } } }"
    gql = await c.post(
        "/graphql", json={"query": query, "variables": {"id": gid}}, headers=auth(officer)
    )
    [node_media] = gql.json()["data"]["node"]["media"]
    assert node_media["uuid"] == photo["id"]
    assert node_media["kind"] == "PHOTO"
    assert node_media["url"]

    assert (await c.get(f"/api/v1/tips/{tid}", headers=auth(foreign))).status_code == 404
    hidden = await c.get(f"/api/v1/media/{photo['id']}", headers=auth(foreign))
    assert hidden.status_code == 404
    assert hidden.json()["code"] == "media.not_found"

    await handled(c, tip_app, tree, tid, officer)
    assert await inbox(c, resident) == []  # nothing until the worker delivers
    await drain(tip_app)
    await drain(tip_app)  # a second pass changes nothing

    mine = await c.get("/api/v1/me/tips", headers={**auth(resident), "Accept-Language": "zh-CN"})
    [reported] = [t for t in mine.json()["items"] if t["id"] == tid]
    assert reported["status"] == "valid"
    assert "线索有效" in reported["feedback"][0]["message"]
    assert [m["id"] for m in reported["media"]] == [photo["id"]]
    notes = await inbox(c, resident)
    [note] = [n for n in notes if n["link"].startswith("shouwang://tips/")]
    assert note["link"] == f"shouwang://tips/{tid}"
    assert note["read"] is False
    assert note["title"] == "您的举报有新进展"
    # The valid named tip also earned points, with a notice of its own.
    assert sorted(n["title"] for n in notes) == sorted(["您的举报有新进展", "积分已到账"])
    count = await c.get("/api/v1/me/notifications/unread-count", headers=auth(resident))
    assert count.json() == {"unread": 2}

    platform = platform_of(tip_app)
    async with platform.session_factory() as s:
        attached = (
            await s.execute(
                sa.select(
                    media_objects.c.attached_record_type, media_objects.c.attached_record_id
                ).where(media_objects.c.id == uuid.UUID(photo["id"]))
            )
        ).one()
    assert tuple(attached) == ("tip", uuid.UUID(tid))


async def test_media_of_others_or_in_use_refuse_the_whole_tip(
    c: httpx.AsyncClient, tip_app: Any, settings: Settings, tree: OrgTree
) -> None:
    resident, _ = await resident_token(c, settings)
    other, _ = await resident_token(c, settings)
    mine, theirs = await upload(c, resident), await upload(c, other)

    tip_id = uuid.uuid4()
    both = tip_body(tree, tip_id=tip_id, media_ids=[mine["id"], theirs["id"]])
    r = await c.post("/api/v1/tips", json=both, headers=auth(resident))
    assert r.status_code == 404
    assert r.json()["code"] == "media.not_found"
    assert (await c.get(f"/api/v1/tips/{tip_id}", headers=auth(resident))).status_code == 404
    still = await c.get(f"/api/v1/media/{mine['id']}", headers=auth(resident))
    assert still.json()["attached"] is False  # rolled back with the tip

    await c.post(
        "/api/v1/tips", json=tip_body(tree, media_ids=[mine["id"]]), headers=auth(resident)
    )
    reused = await c.post(
        "/api/v1/tips", json=tip_body(tree, media_ids=[mine["id"]]), headers=auth(resident)
    )
    assert reused.status_code == 409
    assert reused.json()["code"] == "media.not_attachable"


async def test_anonymous_tip_notifies_nobody(
    c: httpx.AsyncClient, tip_app: Any, settings: Settings, tree: OrgTree
) -> None:
    resident, _ = await resident_token(c, settings)
    officer = await officer_token(c, tip_app, unit_code=tree.station_code)
    photo = await upload(c, resident)
    r = await c.post(
        "/api/v1/tips",
        json=tip_body(tree, anonymous=True, media_ids=[photo["id"]]),
        headers=auth(resident),
    )
    assert r.status_code == 201, r.text
    tid = r.json()["id"]
    seen = (await c.get(f"/api/v1/tips/{tid}", headers=auth(officer))).json()
    assert [m["id"] for m in seen["media"]] == [photo["id"]]
    await handled(c, tip_app, tree, tid, officer)
    await drain(tip_app)
    assert await inbox(c, resident) == []
    async with platform_of(tip_app).session_factory() as s:
        count = await s.scalar(
            sa.select(sa.func.count())
            .select_from(notifications)
            .where(notifications.c.link == f"shouwang://tips/{tid}")
        )
    assert count == 0


async def test_dispute_reaches_the_handler_once(
    c: httpx.AsyncClient, tip_app: Any, settings: Settings, tree: OrgTree
) -> None:
    resident, _ = await resident_token(c, settings)
    officer = await officer_token(c, tip_app, unit_code=tree.station_code)
    tid = (await c.post("/api/v1/tips", json=tip_body(tree), headers=auth(resident))).json()["id"]
    await handled(c, tip_app, tree, tid, officer)
    await step(c, resident, tid, "dispute", {"reason": "那人今天又出现在东门"})
    await drain(tip_app)
    await drain(tip_app)

    [note] = await inbox(c, officer)
    assert note["link"] == f"shouwang://tips/{tid}"
    english = await c.get(
        "/api/v1/me/notifications", headers={**auth(officer), "Accept-Language": "en"}
    )
    assert english.json()["items"][0]["title"] == "A report you handle was disputed"
    # The reporter heard about the outcome only (the dispute was their own doing).
    tip_notes = [n["link"] for n in await inbox(c, resident) if "/tips/" in n["link"]]
    assert tip_notes == [f"shouwang://tips/{tid}"]
