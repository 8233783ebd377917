"""Media over REST and GraphQL: upload with EXIF stripped, signed file URLs, visibility,
limits, idempotent replay and the presigned (local storage) flow end to end."""

from __future__ import annotations

import io
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from PIL import Image
from support.auth import auth, resident_token

from app.domain.media.model import Attachment
from app.domain.media.services import MediaVisibilityRegistry, attach_media
from app.domain.shared.scope import Scope
from app.infra.db.media_repo import SqlMediaUnitOfWork
from app.main import create_app, platform_of
from app.settings import Settings


def jpeg_with_gps(width: int = 60, height: int = 40) -> bytes:
    image = Image.new("RGB", (width, height), (30, 160, 60))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° on display
    exif[0x8825] = {1: "N", 2: (31.0, 42.0, 3.0), 3: "E", 4: (119.0, 57.0, 1.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


@pytest.fixture(scope="module")
async def media_app(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The app with media stored in a temporary directory and small limits."""
    own = settings.model_copy(
        update={"media_dir": tmp_path_factory.mktemp("media"), "media_max_photo_mb": 1}
    )
    app = create_app(own)
    yield app
    await platform_of(app).aclose()


@pytest.fixture
async def mclient(media_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=media_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def _upload(
    client: httpx.AsyncClient, token: str, data: bytes, **headers: str
) -> httpx.Response:
    files = {"file": ("照片.jpg", data, "image/png")}  # the declared type is ignored
    return await client.post("/api/v1/media", files=files, headers={**auth(token), **headers})


async def test_photo_upload_strips_exif_and_is_served_by_signed_url(
    mclient: httpx.AsyncClient, settings: Settings
) -> None:
    token, _ = await resident_token(mclient, settings)
    created = await _upload(mclient, token, jpeg_with_gps())
    assert created.status_code == 201, created.text
    body = created.json()
    assert created.headers["location"] == f"/api/v1/media/{body['id']}"
    assert body["kind"] == "photo"
    assert body["content_type"] == "image/jpeg"
    assert body["status"] == "ready"
    assert (body["width"], body["height"]) == (40, 60)
    file = await mclient.get(body["url"])
    assert file.status_code == 200
    assert file.headers["content-type"] == "image/jpeg"
    assert file.headers["x-content-type-options"] == "nosniff"
    with Image.open(io.BytesIO(file.content)) as im:
        assert im.size == (40, 60)
        assert len(im.getexif()) == 0
        assert "exif" not in im.info
        assert "xmp" not in im.info
    thumb = await mclient.get(body["thumbnail_url"])
    assert thumb.status_code == 200
    tampered = body["url"].replace("sig=", "sig=0")
    denied = await mclient.get(tampered)
    assert denied.status_code == 403
    assert denied.json()["code"] == "media.url_invalid"
    again = await mclient.get(f"/api/v1/media/{body['id']}", headers=auth(token))
    assert again.status_code == 200
    assert again.json()["id"] == body["id"]


async def test_other_accounts_get_404_until_the_record_context_allows(
    mclient: httpx.AsyncClient, media_app: Any, settings: Settings
) -> None:
    owner, _ = await resident_token(mclient, settings)
    other, _ = await resident_token(mclient, settings)
    media_id = (await _upload(mclient, owner, jpeg_with_gps())).json()["id"]
    foreign = await mclient.get(f"/api/v1/media/{media_id}", headers=auth(other))
    assert foreign.status_code == 404
    assert foreign.json()["code"] == "media.not_found"
    assert (await mclient.get("/api/v1/media/not-a-uuid", headers=auth(owner))).status_code == 404
    assert (await mclient.get(f"/api/v1/media/{media_id}")).status_code == 401

    # Attach inside another context's unit of work, as the tips context will.
    me = await _scope_of(mclient, owner)
    record_id = uuid.uuid4()
    platform = platform_of(media_app)
    async with SqlMediaUnitOfWork(platform.session_factory, me) as uow:
        await attach_media(uow, me, [uuid.UUID(media_id)], "test_record", record_id)
        await uow.commit()
    other_scope = await _scope_of(mclient, other)

    class AllowOther:
        async def can_see(self, scope: Scope, attachment: Attachment) -> bool:
            return scope.account_id == other_scope.account_id and attachment.record_id == record_id

    media_app.state.services.get(MediaVisibilityRegistry).register("test_record", AllowOther())
    allowed = await mclient.get(f"/api/v1/media/{media_id}", headers=auth(other))
    assert allowed.status_code == 200
    assert allowed.json()["attached"] is True


async def _scope_of(client: httpx.AsyncClient, token: str) -> Scope:
    from app.domain.shared.auth import Authenticator

    transport = client._transport
    assert isinstance(transport, httpx.ASGITransport)
    authenticator = transport.app.state.services.get_any(Authenticator)  # type: ignore[attr-defined]
    scope: Scope = await authenticator.authenticate(token, request_id="test")
    return scope


async def test_oversized_and_unsupported_uploads_are_refused_clearly(
    mclient: httpx.AsyncClient, settings: Settings
) -> None:
    token, _ = await resident_token(mclient, settings)
    big = Image.new("RGB", (1200, 1200))
    out = io.BytesIO()
    big.save(out, "PNG", compress_level=0)  # ~4 MB, over the 1 MB photo limit here
    too_big = await _upload(mclient, token, out.getvalue())
    assert too_big.status_code == 422
    assert too_big.json()["code"] == "media.too_large"
    odd = await _upload(mclient, token, b"MZ\x90\x00 this is a windows executable")
    assert odd.status_code == 422
    assert odd.json()["code"] == "media.unsupported_type"
    missing = await mclient.post("/api/v1/media", files={"other": ("x", b"y")}, headers=auth(token))
    assert missing.status_code == 422
    assert missing.json()["code"] == "media.file_missing"


async def test_idempotent_replay_returns_the_same_object(
    mclient: httpx.AsyncClient, settings: Settings
) -> None:
    token, _ = await resident_token(mclient, settings)
    key = f"media-{uuid.uuid4().hex}"
    data = jpeg_with_gps()
    first = await _upload(mclient, token, data, **{"Idempotency-Key": key})
    second = await _upload(mclient, token, data, **{"Idempotency-Key": key})
    assert first.status_code == second.status_code == 201
    assert second.headers["idempotent-replayed"] == "true"
    assert second.json()["id"] == first.json()["id"]
    other = await _upload(mclient, token, jpeg_with_gps(80, 20), **{"Idempotency-Key": key})
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency.key_reused"


async def test_presigned_local_flow_end_to_end(
    mclient: httpx.AsyncClient, settings: Settings
) -> None:
    token, _ = await resident_token(mclient, settings)
    data = jpeg_with_gps()
    begun = await mclient.post(
        "/api/v1/media/uploads",
        json={"kind": "photo", "content_type": "image/jpeg", "size": len(data)},
        headers=auth(token),
    )
    assert begun.status_code == 201, begun.text
    ticket = begun.json()
    assert ticket["method"] == "PUT"
    assert ticket["upload_url"].startswith(f"/api/v1/media/uploads/{ticket['id']}?")
    early = await mclient.post(f"/api/v1/media/{ticket['id']}/complete", headers=auth(token))
    assert early.status_code == 422
    assert early.json()["code"] == "media.upload_missing"
    wrong_type = await mclient.put(
        ticket["upload_url"], content=data, headers={"Content-Type": "video/mp4"}
    )
    assert wrong_type.status_code == 403
    too_much = await mclient.put(
        ticket["upload_url"], content=data + b"x", headers=ticket["headers"]
    )
    assert too_much.status_code == 422
    assert too_much.json()["code"] == "media.too_large"
    put = await mclient.put(ticket["upload_url"], content=data, headers=ticket["headers"])
    assert put.status_code == 204
    other, _ = await resident_token(mclient, settings)
    stolen = await mclient.post(f"/api/v1/media/{ticket['id']}/complete", headers=auth(other))
    assert stolen.status_code == 404
    done = await mclient.post(f"/api/v1/media/{ticket['id']}/complete", headers=auth(token))
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "ready"
    assert (done.json()["width"], done.json()["height"]) == (40, 60)
    with Image.open(io.BytesIO((await mclient.get(done.json()["url"])).content)) as im:
        assert len(im.getexif()) == 0
    twice = await mclient.post(f"/api/v1/media/{ticket['id']}/complete", headers=auth(token))
    assert twice.status_code == 409


async def test_presigned_upload_of_a_disguised_file_is_rejected(
    mclient: httpx.AsyncClient, settings: Settings
) -> None:
    token, _ = await resident_token(mclient, settings)
    payload = b"<?php system($_GET['c']); ?>"
    ticket = (
        await mclient.post(
            "/api/v1/media/uploads",
            json={"kind": "photo", "content_type": "image/jpeg", "size": len(payload)},
            headers=auth(token),
        )
    ).json()
    put = await mclient.put(ticket["upload_url"], content=payload, headers=ticket["headers"])
    assert put.status_code == 204
    done = await mclient.post(f"/api/v1/media/{ticket['id']}/complete", headers=auth(token))
    assert done.status_code == 422
    assert done.json()["code"] == "media.unsupported_type"
    after = (await mclient.get(f"/api/v1/media/{ticket['id']}", headers=auth(token))).json()
    assert after["status"] == "rejected"
    assert after["rejection_reason"] == "media.unsupported_type"
    assert after["url"] is None


async def test_graphql_media_node_and_begin_upload(
    mclient: httpx.AsyncClient, settings: Settings
) -> None:
    token, _ = await resident_token(mclient, settings)
    other, _ = await resident_token(mclient, settings)
    media_id = (await _upload(mclient, token, jpeg_with_gps())).json()["id"]
    query = """query($id: ID!) { node(id: $id) { ... on Media {
        uuid kind contentType width height status url thumbnailUrl } } }"""
    from strawberry.relay import GlobalID

    gid = str(GlobalID("Media", media_id))
    mine = await mclient.post(
        "/graphql", json={"query": query, "variables": {"id": gid}}, headers=auth(token)
    )
    node = mine.json()["data"]["node"]
    assert node["uuid"] == media_id
    assert node["kind"] == "PHOTO"
    assert node["url"].startswith("/api/v1/media/files/")
    theirs = await mclient.post(
        "/graphql", json={"query": query, "variables": {"id": gid}}, headers=auth(other)
    )
    assert theirs.json()["data"]["node"] is None
    mutation = """mutation { beginMediaUpload(input: {kind: AUDIO, contentType: "audio/mpeg",
        size: 2048}) { __typename ... on BeginMediaUploadPayload { uploadUrl method
        headers { name value } media { status kind } } ... on InvalidInput { code } } }"""
    begun = await mclient.post("/graphql", json={"query": mutation}, headers=auth(token))
    result = begun.json()["data"]["beginMediaUpload"]
    assert result["__typename"] == "BeginMediaUploadPayload", result
    assert result["method"] == "PUT"
    assert result["media"] == {"status": "pending", "kind": "AUDIO"}
    assert result["headers"] == [{"name": "Content-Type", "value": "audio/mpeg"}]
