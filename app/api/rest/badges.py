"""/api/v1/badges/{token}: the public check behind a volunteer badge's QR code.

No sign-in: anyone who scans the badge can see whether the person is a real, active
volunteer. Only masked, non-identifying facts are returned; tokens are random (192 bits),
so there is nothing to enumerate.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from app.api.container import services_of
from app.api.rest import API_V1
from app.domain.volunteers.badge import BadgeService

router = APIRouter(prefix=API_V1, tags=["badges"])


class BadgeTeamOut(BaseModel):
    brand: str
    name: str


class BadgeOut(BaseModel):
    masked_name: str
    has_photo: bool
    volunteer_number: str
    active: bool
    valid_until: date | None
    teams: list[BadgeTeamOut]


@router.get(
    "/badges/{token}",
    operation_id="checkBadge",
    summary="Check a volunteer badge (public, no sign-in)",
    response_model=BadgeOut,
    responses={404: {"description": "No badge with this code"}},
)
async def check_badge(request: Request, token: str) -> Any:
    badge = await services_of(request).get(BadgeService).check(token)
    body = BadgeOut(
        masked_name=badge.masked_name,
        has_photo=badge.has_photo,
        volunteer_number=badge.volunteer_number,
        active=badge.active,
        valid_until=badge.valid_until,
        teams=[BadgeTeamOut(brand=t.brand, name=t.name) for t in badge.teams],
    )
    # A suspension must show at once: no caching by the scanning phone or a proxy.
    return JSONResponse(body.model_dump(mode="json"), headers={"Cache-Control": "no-store"})
