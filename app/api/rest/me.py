"""GET /api/v1/me (core contract): the caller's account and, if they have one, their own
volunteer profile in full — status, number, badge, teams and certificates."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from app.api.container import services_of
from app.api.context import current_scope
from app.api.rest import API_V1
from app.api.rest.officers import RoleOut
from app.api.rest.volunteer_schemas import TeamOut, TrainingOut, VolunteerOut
from app.domain.identity.model import AccountView
from app.domain.identity.services import AccountService
from app.domain.shared.clock import local_date
from app.domain.shared.scope import Scope
from app.domain.volunteers.services import VolunteerService
from app.domain.volunteers.views import MyProfile

router = APIRouter(prefix=API_V1, tags=["me"])


class AccountRoleOut(RoleOut):
    pass  # the same shape under its own name in the contract


class AccountOut(BaseModel):
    id: uuid.UUID
    kind: str
    display_name: str | None
    status: str
    roles: list[AccountRoleOut]
    masked_phone: str | None
    wechat_bound: bool
    created_at: datetime

    @classmethod
    def of(cls, a: AccountView) -> AccountOut:
        return cls(
            id=a.id,
            kind=a.kind.value,
            display_name=a.display_name,
            status=a.status.value,
            roles=[AccountRoleOut.of(r) for r in a.roles],
            masked_phone=a.masked_phone,
            wechat_bound=a.wechat_bound,
            created_at=a.created_at,
        )


class CertificateOut(TrainingOut):
    valid_today: bool


class MyVolunteerOut(VolunteerOut):
    teams: list[TeamOut]
    certificates: list[CertificateOut]

    @classmethod
    def of_profile(cls, p: MyProfile, now: datetime) -> MyVolunteerOut:
        today = local_date(now)
        return cls(
            **VolunteerOut.of(p.volunteer).model_dump(),
            teams=[TeamOut.of(t) for t in p.teams],
            certificates=[
                CertificateOut(
                    **TrainingOut.of(c).model_dump(), valid_today=c.record.valid_on(today)
                )
                for c in p.certificates
            ],
        )


class MeOut(BaseModel):
    account: AccountOut
    volunteer: MyVolunteerOut | None


@router.get(
    "/me",
    operation_id="getMe",
    summary="The caller's account and own volunteer profile (or null)",
    response_model=MeOut,
    responses={401: {"description": "Not signed in"}},
)
async def get_me(request: Request, scope: Annotated[Scope, Depends(current_scope)]) -> Any:
    services = services_of(request)
    account = await services.get(AccountService).get_account(scope)
    volunteers = services.get(VolunteerService)
    profile = await volunteers.my_profile(scope)
    return MeOut(
        account=AccountOut.of(account),
        volunteer=MyVolunteerOut.of_profile(profile, volunteers.clock.now()) if profile else None,
    )
