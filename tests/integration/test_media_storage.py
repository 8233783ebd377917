"""Storage adapters: the local directory with signed, expiring URLs, and the S3 adapter
against moto's S3 server on 127.0.0.1."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from moto.server import ThreadedMotoServer

from app.domain.media.model import MediaNotFound
from app.domain.shared.clock import FixedClock
from app.infra.media.local import LocalMediaStorage
from app.infra.media.s3 import S3Config, S3MediaStorage


def _query(url: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(url)
    return parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()}


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 22, 9, 0, tzinfo=UTC))


@pytest.fixture
def local(tmp_path: Path, clock: FixedClock) -> LocalMediaStorage:
    return LocalMediaStorage(tmp_path / "media", b"k" * 32, clock)


async def test_local_put_get_stream_delete(local: LocalMediaStorage) -> None:
    await local.put("media/a/original.jpg", b"\xff\xd8bytes", "image/jpeg")
    assert await local.get("media/a/original.jpg") == b"\xff\xd8bytes"
    assert await local.size("media/a/original.jpg") == 7
    assert b"".join([c async for c in local.stream("media/a/original.jpg")]) == b"\xff\xd8bytes"
    await local.delete("media/a/original.jpg")
    assert await local.get("media/a/original.jpg") is None
    assert await local.size("media/a/original.jpg") is None
    await local.delete("media/a/original.jpg")  # deleting twice is fine


async def test_local_keys_cannot_escape_the_directory(local: LocalMediaStorage) -> None:
    for key in ("../etc/passwd", "/etc/passwd", "media/../../x", "a//b", ""):
        with pytest.raises(MediaNotFound):
            await local.get(key)


async def test_signed_get_url_expires_and_resists_tampering(
    local: LocalMediaStorage, clock: FixedClock
) -> None:
    url = await local.url_for("media/a/original.jpg", 600)
    path, q = _query(url)
    assert path == "/api/v1/media/files/media/a/original.jpg"
    exp, sig = int(q["exp"]), q["sig"]
    assert local.allows_get("media/a/original.jpg", exp, sig)
    assert not local.allows_get("media/b/original.jpg", exp, sig)  # other key
    assert not local.allows_get("media/a/original.jpg", exp + 3600, sig)  # longer life
    assert not local.allows_get("media/a/original.jpg", exp, "0" * 64)
    other = LocalMediaStorage(local.root, b"z" * 32, clock)
    assert not other.allows_get("media/a/original.jpg", exp, sig)  # other secret
    clock.advance(seconds=601)
    assert not local.allows_get("media/a/original.jpg", exp, sig)


async def test_signed_put_url_binds_type_and_size(
    local: LocalMediaStorage, clock: FixedClock
) -> None:
    upload = await local.presign_put("uploads/x1", "video/mp4", 1000, 300)
    assert upload.method == "PUT"
    assert upload.headers == {"Content-Type": "video/mp4"}
    path, q = _query(upload.url)
    assert path == "/api/v1/media/uploads/x1"
    exp, sig, size = int(q["exp"]), q["sig"], int(q["max"])
    assert local.allows_put("uploads/x1", exp, sig, "video/mp4", size)
    assert not local.allows_put("uploads/x1", exp, sig, "video/mp4", size * 10)
    assert not local.allows_put("uploads/x1", exp, sig, "image/jpeg", size)
    assert not local.allows_get("uploads/x1", exp, sig)  # a PUT signature is not a GET one
    clock.advance(seconds=301)
    assert not local.allows_put("uploads/x1", exp, sig, "video/mp4", size)


# --- S3 against moto ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
async def s3(moto_url: str) -> S3MediaStorage:
    bucket = f"media-{uuid.uuid4().hex[:12]}"
    storage = S3MediaStorage(
        S3Config(
            bucket=bucket,
            endpoint_url=moto_url,
            access_key_id="testing",
            secret_access_key="testing",
        )
    )
    async with storage._client() as client:
        await client.create_bucket(Bucket=bucket)
    return storage


async def test_s3_put_get_size_stream_delete(s3: S3MediaStorage) -> None:
    await s3.put("media/m1/original.jpg", b"\xff\xd8photo", "image/jpeg")
    assert await s3.get("media/m1/original.jpg") == b"\xff\xd8photo"
    assert await s3.size("media/m1/original.jpg") == 7
    assert b"".join([c async for c in s3.stream("media/m1/original.jpg")]) == b"\xff\xd8photo"
    await s3.delete("media/m1/original.jpg")
    assert await s3.get("media/m1/original.jpg") is None
    assert await s3.size("media/m1/original.jpg") is None
    with pytest.raises(MediaNotFound):
        [c async for c in s3.stream("media/m1/original.jpg")]


async def test_s3_presigned_put_then_presigned_get(s3: S3MediaStorage) -> None:
    upload = await s3.presign_put("uploads/m2", "audio/mpeg", 100, 300)
    async with httpx.AsyncClient() as http:
        put = await http.put(upload.url, content=b"ID3voice", headers=upload.headers)
        assert put.status_code == 200, put.text
        assert await s3.size("uploads/m2") == 8
        got = await http.get(await s3.url_for("uploads/m2", 60))
        assert got.status_code == 200
        assert got.content == b"ID3voice"
    # moto does not verify signatures; check the URL is a SigV4 presign with our expiry.
    _, q = _query(await s3.url_for("uploads/m2", 60))
    assert q["X-Amz-Expires"] == "60"
    assert q["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert "X-Amz-Signature" in q
