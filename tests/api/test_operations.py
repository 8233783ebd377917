from __future__ import annotations

import gc
import re

import httpx
from fastapi.routing import APIRoute

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
    generated = r.headers["x-request-id"]
    assert generated != "bad id!"
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    assert (await client.get("/healthz")).headers["x-request-id"] != generated


def test_rest_routes_are_registered_flat(settings: Settings) -> None:
    """Every REST operation sits in the app's own route list with its full path (one
    match per request), none behind an included router's node."""
    application = create_app(settings)
    paths = {r.path for r in application.router.routes if isinstance(r, APIRoute)}
    for operation in ("/api/v1/tips", "/api/v1/me/tips", "/api/v1/hazards", "/healthz"):
        assert operation in paths
    # The one node left is the GraphQL router's (strawberry's, included as it comes).
    nested = [r for r in application.router.routes if not hasattr(r, "path")]
    assert len(nested) == 1


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
