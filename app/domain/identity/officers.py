"""Officer accounts: created by the operator (CLI) or by an admin, listed and disabled by
admins inside their jurisdiction."""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from typing import Final

from app.domain.identity.errors import OfficerNotFound, UnitNotFound, UsernameTaken
from app.domain.identity.model import (
    Account,
    AccountKind,
    AccountStatus,
    OfficerView,
    RoleView,
    check_role_fits_unit,
    ensure_may_disable,
    ensure_may_grant,
    ensure_may_manage_officers,
    ensure_may_read_officers,
    parse_staff_role,
)
from app.domain.identity.policies import check_password_policy, normalise_username
from app.domain.identity.ports import (
    NoPrincipalChanges,
    OfficerCredentials,
    PasswordHasher,
    PrincipalChanges,
)
from app.domain.identity.services import UowFactory, account_created
from app.domain.identity.sessions import RevokeReason
from app.domain.shared.clock import Clock
from app.domain.shared.errors import FieldError, InvalidInput, StaleVersion
from app.domain.shared.events import DomainEvent
from app.domain.shared.ids import new_id
from app.domain.shared.scope import Scope
from app.domain.shared.text import storable

MAX_DISPLAY_NAME: Final = 64


@dataclass(frozen=True, slots=True)
class NewOfficer:
    username: str
    password: str
    unit_code: str
    role: str
    display_name: str | None = None


def _display_name(raw: str | None) -> str | None:
    name = (raw or "").strip()
    if not storable(name):
        message = "The display name contains characters that cannot be stored."
        raise InvalidInput(
            message,
            "显示名称中含有无法保存的字符。",
            code="officer.invalid_display_name",
            fields=[FieldError(field="display_name", code="invalid_characters", message=message)],
        )
    if len(name) > MAX_DISPLAY_NAME:
        message = f"Display names have at most {MAX_DISPLAY_NAME} characters."
        raise InvalidInput(
            message,
            f"显示名称最多{MAX_DISPLAY_NAME}个字符。",
            code="officer.invalid_display_name",
            fields=[FieldError(field="display_name", code="too_long", message=message)],
        )
    return name or None


@dataclass(frozen=True, slots=True)
class OfficerPage:
    items: list[OfficerView]
    next_before: uuid.UUID | None


class OfficerService:
    def __init__(
        self,
        uow_factory: UowFactory,
        clock: Clock,
        hasher: PasswordHasher,
        changes: PrincipalChanges | None = None,
    ) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._hasher = hasher
        self._changes = changes or NoPrincipalChanges()

    async def create_officer(self, scope: Scope, command: NewOfficer) -> OfficerView:
        ensure_may_manage_officers(scope)
        username = normalise_username(command.username)
        role = parse_staff_role(command.role)
        display_name = _display_name(command.display_name)
        check_password_policy(command.password, username=username)
        # Hash before the transaction opens: it is slow and holds no lock.
        password_hash = await self._hasher.hash(command.password)
        now = self._clock.now()
        unit_code = command.unit_code.strip()
        async with self._uow(scope) as uow:
            unit = await uow.units.by_code(scope, unit_code) if storable(unit_code) else None
            if unit is None:
                raise UnitNotFound()
            check_role_fits_unit(role, unit)
            ensure_may_grant(scope, role, unit)
            await uow.serialize(b"username:" + username.encode())
            if await uow.officers.username_taken(username):
                raise UsernameTaken()
            account = Account.new(
                AccountKind.OFFICER, now, account_id=new_id(), display_name=display_name
            )
            await uow.accounts.add(account)
            await uow.accounts.add_role(account.id, role, unit.id, granted_by=scope.account_id)
            await uow.officers.add_credentials(
                OfficerCredentials(account.id, username, password_hash), now
            )
            # Ids and codes only: usernames are often the officer's name in pinyin.
            uow.audit(
                "officer.created", "account", account.id, {"role": role.value, "unit_id": unit.id}
            )
            uow.add_event(account_created(account, None, now))
            await uow.commit()
        return OfficerView(
            id=account.id,
            username=username,
            display_name=display_name,
            status=account.status,
            roles=(
                RoleView(
                    role=role,
                    unit_id=unit.id,
                    unit_code=unit.code,
                    unit_name=unit.name,
                    unit_level=unit.level,
                    station_id=unit.station_id,
                    district_id=unit.district_id,
                ),
            ),
            created_at=account.created_at,
            version=account.version,
        )

    async def get_officer(self, scope: Scope, officer_id: uuid.UUID) -> OfficerView:
        ensure_may_read_officers(scope)
        async with self._uow(scope) as uow:
            officer = await uow.officers.get(scope, officer_id)
        if officer is None:
            raise OfficerNotFound()
        return officer

    async def list_officers(
        self, scope: Scope, *, limit: int, before: uuid.UUID | None = None
    ) -> OfficerPage:
        ensure_may_read_officers(scope)
        async with self._uow(scope) as uow:
            rows = await uow.officers.page(scope, limit=limit + 1, before=before)
            items = rows[:limit]
            # Listing people is a privileged read.
            uow.audit("officers.listed", "account", None, {"count": len(items)})
            await uow.commit()
        more = len(rows) > limit
        return OfficerPage(items=items, next_before=items[-1].id if more and items else None)

    async def disable_officer(
        self, scope: Scope, officer_id: uuid.UUID, *, expected_version: int | None = None
    ) -> OfficerView:
        """Disable the account and revoke every session of it at once: the authenticator
        checks both on each request, so the officer's access tokens stop working too."""
        ensure_may_manage_officers(scope)
        now = self._clock.now()
        async with self._uow(scope) as uow:
            officer = await uow.officers.get(scope, officer_id)
            if officer is None:
                raise OfficerNotFound()
            ensure_may_disable(scope, officer)
            account = await uow.accounts.get(officer_id, for_update=True)
            if account is None:
                raise OfficerNotFound()
            if expected_version is not None and expected_version != account.version:
                raise StaleVersion()
            account.disable()
            await uow.accounts.save(account)
            revoked = await uow.sessions.revoke_account_sessions(
                account.id, RevokeReason.ACCOUNT_DISABLED, now
            )
            uow.audit("officer.disabled", "account", account.id, {"sessions_revoked": len(revoked)})
            for session_id in revoked:
                uow.audit(
                    "session.revoked",
                    "auth_session",
                    session_id,
                    {"reason": RevokeReason.ACCOUNT_DISABLED.value, "account_id": account.id},
                )
            uow.add_event(DomainEvent("account.disabled", "account", account.id, now, {}))
            await uow.commit()
        self._changes.changed(account.id)
        return dataclasses.replace(officer, status=AccountStatus.DISABLED, version=account.version)
