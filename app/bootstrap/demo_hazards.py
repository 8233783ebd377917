"""Demo data of hazards (隐患) for the synthetic Wujin district: two departments with
sign-in accounts (the fire brigade ``wj.fire`` and a property company ``wj.property``) and
sub-categories routed to them. Loaded through the same use cases a user would drive;
idempotent: what exists is kept."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from app.api.container import Services
from app.bootstrap import demo_data as data
from app.bootstrap.identity import uow_factory as identity_uow_factory
from app.bootstrap.platform import Platform
from app.domain.hazards.errors import CategoryCodeTaken
from app.domain.hazards.model import DepartmentKind, TopCategory
from app.domain.hazards.services import HazardSetupService, NewCategory
from app.domain.identity.model import Account, AccountKind
from app.domain.identity.policies import normalise_username
from app.domain.identity.ports import OfficerCredentials
from app.domain.organisation.ports import OrgUnitDirectory
from app.domain.shared.ids import new_id
from app.domain.shared.scope import Role, Scope
from app.infra.auth.passwords import Argon2PasswordHasher

if TYPE_CHECKING:
    from app.bootstrap.demo import SeedSummary

# (username, department name, kind, display name)
DEPARTMENTS = [
    ("wj.fire", "武进区消防救援大队", DepartmentKind.FIRE, "武进区消防救援大队 值班员"),
    ("wj.property", "花园小区物业服务中心", DepartmentKind.PROPERTY_COMPANY, "花园小区物业 管理员"),
]
# (top, code, zh, en, department index, rectification days)
CATEGORIES = [
    (TopCategory.FIRE, "ebike_charging", "电动车违规充电", "Illegal e-bike charging", 0, 7),
    (
        TopCategory.FIRE,
        "dangling_wires",
        "出租屋私拉乱接电线",
        "Dangling wires in rented rooms",
        0,
        7,
    ),
    (TopCategory.FIRE, "blocked_exit", "消防通道堵塞", "Blocked fire exit", 1, 3),
    (TopCategory.HOUSING_CONSTRUCTION, "falling_objects", "外墙脱落隐患", "Loose facade", 1, 14),
]


async def create_department_account(
    services: Services, scope: Scope, username: str, password: str, display_name: str
) -> uuid.UUID | None:
    """A password sign-in account bound to no unit, with the ``department`` role; None
    when the username is taken (kept)."""
    platform = services.get(Platform)
    name = normalise_username(username)
    password_hash = await Argon2PasswordHasher().hash(password)
    now = platform.clock.now()
    async with identity_uow_factory(platform.session_factory, platform.clock)(scope) as uow:
        await uow.serialize(b"username:" + name.encode())
        if await uow.officers.username_taken(name):
            return None
        account = Account.new(
            AccountKind.OFFICER, now, account_id=new_id(), display_name=display_name
        )
        await uow.accounts.add(account)
        await uow.accounts.add_role(account.id, Role.DEPARTMENT, None, granted_by=scope.account_id)
        await uow.officers.add_credentials(OfficerCredentials(account.id, name, password_hash), now)
        uow.audit("department_account.created", "account", account.id, {"role": "department"})
        await uow.commit()
    return account.id


async def seed_hazards(services: Services, scope: Scope, summary: SeedSummary) -> None:
    district = await services.get_any(OrgUnitDirectory).by_code(data.DISTRICT_CODE)
    if district is None:
        return
    setup = services.get(HazardSetupService)
    existing = {(d.district_id, d.name): d for d in await setup.departments(scope)}
    department_ids: list[uuid.UUID] = []
    for username, name, kind, display in DEPARTMENTS:
        department = existing.get((district.id, name))
        summary.add("hazard departments", department is None)
        if department is None:
            department = await setup.create_department(scope, district.id, name, kind)
        department_ids.append(department.id)
        account = await create_department_account(
            services, scope, username, data.DEMO_PASSWORD, display
        )
        summary.add("department accounts", account is not None)
        if account is not None:
            await setup.add_member(scope, department.id, account)
    for top, code, zh, en, dep, days in CATEGORIES:
        try:
            await setup.create_category(
                scope,
                NewCategory(
                    district_id=district.id,
                    top=top,
                    code=code,
                    name_zh=zh,
                    name_en=en,
                    department_id=department_ids[dep],
                    rectification_days=days,
                ),
            )
            summary.add("hazard sub-categories", True)
        except CategoryCodeTaken:
            summary.add("hazard sub-categories", False)
