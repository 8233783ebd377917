"""/healthz (process up), /readyz (database reachable, migrations at head), /metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from app.api.container import services_of
from app.domain.shared.health import HealthProbe

router = APIRouter(tags=["operations"])


@router.get("/healthz", operation_id="healthz", summary="Process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    operation_id="readyz",
    summary="Database reachable and migrations at head",
    responses={503: {"description": "Not ready"}},
)
async def readyz(request: Request) -> JSONResponse:
    probe = services_of(request).get_any(HealthProbe)
    readiness = await probe.readiness()
    body = {
        "status": "ready" if readiness.ready else "not_ready",
        "database": readiness.database,
        "migrations_current": readiness.migrations_current,
    }
    if readiness.detail:
        body["detail"] = readiness.detail
    return JSONResponse(body, status_code=200 if readiness.ready else 503)


@router.get(
    "/metrics", operation_id="metrics", summary="Prometheus metrics", include_in_schema=True
)
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
