from __future__ import annotations

import gc

import httpx

from app.main import YOUNG_GC_THRESHOLD, create_app
from app.settings import Settings


async def test_healthz(client: httpx.AsyncClient) -> None:
    r = await client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}
    assert r.headers["x-request-id"]


async def test_readyz_reports_database_and_migration_head(client: httpx.AsyncClient) -> None:
    r = await client.get("/readyz")
    assert r.status_code == 200, r.text
    assert r.json()["migrations_current"] is True


async def test_metrics_exposes_request_counters(client: httpx.AsyncClient) -> None:
    await client.get("/healthz")
    r = await client.get("/metrics")
    assert r.status_code == 200
    assert "shouwang_http_requests_total" in r.text


async def test_unknown_route_is_a_problem_document(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/nope", headers={"Accept-Language": "en"})
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == 404
    assert body["code"] == "route.not_found"
    assert body["title"] == "Not found"


async def test_request_id_is_echoed_when_well_formed(client: httpx.AsyncClient) -> None:
    r = await client.get("/healthz", headers={"X-Request-ID": "req-12345678"})
    assert r.headers["x-request-id"] == "req-12345678"
    r = await client.get("/healthz", headers={"X-Request-ID": "bad id!"})
    assert r.headers["x-request-id"] != "bad id!"


async def test_metrics_label_routes_by_template_not_raw_values(client: httpx.AsyncClient) -> None:
    token = "not-a-real-badge-token-abcdef"
    await client.get(f"/api/v1/badges/{token}")
    text = (await client.get("/metrics")).text
    assert 'route="/api/v1/badges/{token}"' in text
    assert token not in text


async def test_serving_collects_young_objects_less_often(settings: Settings) -> None:
    """While the app serves, the young generation is collected every YOUNG_GC_THRESHOLD
    allocations rather than CPython's 700 (a collection every few requests, ~10 % of the
    CPU under load); shutting down puts the previous thresholds back."""
    before = gc.get_threshold()
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        assert gc.get_threshold() == (YOUNG_GC_THRESHOLD, *before[1:])
    assert gc.get_threshold() == before
