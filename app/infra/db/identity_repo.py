"""Identity repositories over SQLAlchemy Core: accounts, officers, organisation units, and
the unit of work that bundles them with the sign-in repositories."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.identity.model import (
    Account,
    AccountKind,
    AccountStatus,
    OfficerView,
    OrgUnitRef,
    RoleView,
    UnitLevel,
)
from app.domain.identity.ports import OfficerCredentials
from app.domain.shared.errors import StaleVersion
from app.domain.shared.ids import new_id
from app.domain.shared.protection import Sealed
from app.domain.shared.scope import Role, Scope
from app.infra.db.identity_auth_repo import (
    SqlLoginAttemptRepository,
    SqlOtpRepository,
    SqlSessionRepository,
)
from app.infra.db.scoping import station_scope
from app.infra.db.tables.identity import (
    account_phones,
    account_roles,
    accounts,
    officer_credentials,
    wechat_identities,
)
from app.infra.db.tables.organisation import org_units
from app.infra.db.uow import SqlUnitOfWork


def station_key(units: Any) -> sa.ColumnElement[Any]:
    """The station a unit belongs to, the station itself included."""
    return sa.func.coalesce(
        units.c.station_id, sa.case((units.c.level == "station", units.c.id), else_=None)
    )


def district_key(units: Any) -> sa.ColumnElement[Any]:
    """The district a unit belongs to, the district itself included."""
    return sa.func.coalesce(
        units.c.district_id, sa.case((units.c.level == "district", units.c.id), else_=None)
    )


def _account(row: Any) -> Account:
    return Account(
        id=row.id,
        kind=AccountKind(row.kind),
        display_name=row.display_name,
        status=AccountStatus(row.status),
        created_at=row.created_at,
        version=row.version,
    )


_UNIT_COLUMNS = (
    org_units.c.code.label("unit_code"),
    org_units.c.name.label("unit_name"),
    org_units.c.level.label("unit_level"),
    station_key(org_units).label("unit_station_id"),
    district_key(org_units).label("unit_district_id"),
)


def _role_view(row: Any) -> RoleView:
    return RoleView(
        role=Role(row.role),
        unit_id=row.unit_id,
        unit_code=row.unit_code,
        unit_name=row.unit_name,
        unit_level=UnitLevel(row.unit_level) if row.unit_level else None,
        station_id=row.unit_station_id,
        district_id=row.unit_district_id,
    )


class SqlAccountRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, account: Account) -> None:
        await self._s.execute(
            sa.insert(accounts).values(
                id=account.id,
                kind=account.kind.value,
                display_name=account.display_name,
                status=account.status.value,
                version=account.version,
                created_at=account.created_at,
                updated_at=account.created_at,
            )
        )

    async def get(self, account_id: uuid.UUID, *, for_update: bool = False) -> Account | None:
        query = sa.select(accounts).where(accounts.c.id == account_id)
        if for_update:
            query = query.with_for_update()
        row = (await self._s.execute(query)).first()
        return _account(row) if row else None

    async def save(self, account: Account) -> None:
        result = await self._s.execute(
            sa.update(accounts)
            .where(accounts.c.id == account.id, accounts.c.version == account.version)
            .values(
                status=account.status.value,
                display_name=account.display_name,
                version=accounts.c.version + 1,
                updated_at=sa.func.now(),
            )
        )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            raise StaleVersion()
        account.version += 1

    async def add_role(
        self, account_id: uuid.UUID, role: Role, unit_id: uuid.UUID | None, granted_by: uuid.UUID
    ) -> None:
        await self._s.execute(
            sa.insert(account_roles).values(
                id=new_id(),
                account_id=account_id,
                role=role.value,
                unit_id=unit_id,
                granted_by=granted_by,
            )
        )

    async def roles_of(self, account_id: uuid.UUID) -> list[RoleView]:
        rows = await self._s.execute(
            sa.select(account_roles.c.role, account_roles.c.unit_id, *_UNIT_COLUMNS)
            .select_from(
                account_roles.outerjoin(org_units, org_units.c.id == account_roles.c.unit_id)
            )
            .where(account_roles.c.account_id == account_id)
            .order_by(account_roles.c.created_at, account_roles.c.id)
        )
        return [_role_view(r) for r in rows]

    async def by_phone_index(self, phone_index: bytes) -> Account | None:
        row = (
            await self._s.execute(
                sa.select(accounts)
                .join(account_phones, account_phones.c.account_id == accounts.c.id)
                .where(account_phones.c.phone_index == phone_index)
            )
        ).first()
        return _account(row) if row else None

    async def add_phone(self, account_id: uuid.UUID, phone_index: bytes, sealed: Sealed) -> None:
        await self._s.execute(
            sa.insert(account_phones).values(
                account_id=account_id,
                phone_index=phone_index,
                phone_key_id=sealed.key_id,
                phone_ciphertext=sealed.ciphertext,
            )
        )

    async def phone_of(self, account_id: uuid.UUID) -> Sealed | None:
        row = (
            await self._s.execute(
                sa.select(account_phones.c.phone_key_id, account_phones.c.phone_ciphertext).where(
                    account_phones.c.account_id == account_id
                )
            )
        ).first()
        return Sealed(row.phone_key_id, bytes(row.phone_ciphertext)) if row else None

    async def by_wechat(self, appid: str, openid: str) -> Account | None:
        row = (
            await self._s.execute(
                sa.select(accounts)
                .join(wechat_identities, wechat_identities.c.account_id == accounts.c.id)
                .where(wechat_identities.c.appid == appid, wechat_identities.c.openid == openid)
            )
        ).first()
        return _account(row) if row else None

    async def add_wechat(
        self, account_id: uuid.UUID, appid: str, openid: str, unionid: str | None
    ) -> None:
        await self._s.execute(
            sa.insert(wechat_identities).values(
                id=new_id(), account_id=account_id, appid=appid, openid=openid, unionid=unionid
            )
        )

    async def has_wechat(self, account_id: uuid.UUID) -> bool:
        found = await self._s.scalar(
            sa.select(sa.literal(True)).where(wechat_identities.c.account_id == account_id).limit(1)
        )
        return bool(found)


def _officers_in_scope(scope: Scope) -> sa.ColumnElement[bool]:
    """Officers holding at least one role bound to a unit inside ``scope``."""
    bound = (
        sa.select(sa.literal(1))
        .select_from(account_roles.join(org_units, org_units.c.id == account_roles.c.unit_id))
        .where(
            account_roles.c.account_id == accounts.c.id,
            station_scope(station_key(org_units), district_key(org_units), scope),
        )
    )
    return sa.exists(bound)


class SqlOfficerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def credentials(self, username: str) -> OfficerCredentials | None:
        row = (
            await self._s.execute(
                sa.select(officer_credentials).where(officer_credentials.c.username == username)
            )
        ).first()
        if row is None:
            return None
        return OfficerCredentials(row.account_id, row.username, row.password_hash)

    async def username_taken(self, username: str) -> bool:
        found = await self._s.scalar(
            sa.select(sa.literal(True)).where(officer_credentials.c.username == username)
        )
        return bool(found)

    async def add_credentials(self, credentials: OfficerCredentials, at: datetime) -> None:
        await self._s.execute(
            sa.insert(officer_credentials).values(
                account_id=credentials.account_id,
                username=credentials.username,
                password_hash=credentials.password_hash,
                password_changed_at=at,
            )
        )

    async def set_password_hash(self, account_id: uuid.UUID, password_hash: str) -> None:
        await self._s.execute(
            sa.update(officer_credentials)
            .where(officer_credentials.c.account_id == account_id)
            .values(password_hash=password_hash, updated_at=sa.func.now())
        )

    async def get(self, scope: Scope, account_id: uuid.UUID) -> OfficerView | None:
        found = await self._views(scope, [accounts.c.id == account_id], limit=1)
        return found[0] if found else None

    async def page(
        self, scope: Scope, *, limit: int, before: uuid.UUID | None
    ) -> list[OfficerView]:
        where = [accounts.c.id < before] if before is not None else []
        return await self._views(scope, where, limit=limit)

    async def _views(
        self, scope: Scope, where: Sequence[sa.ColumnElement[bool]], *, limit: int
    ) -> list[OfficerView]:
        page = (
            sa.select(
                accounts.c.id,
                accounts.c.display_name,
                accounts.c.status,
                accounts.c.created_at,
                accounts.c.version,
                officer_credentials.c.username,
            )
            .join(officer_credentials, officer_credentials.c.account_id == accounts.c.id)
            .where(accounts.c.kind == AccountKind.OFFICER.value, _officers_in_scope(scope), *where)
            .order_by(accounts.c.id.desc())
            .limit(limit)
            .subquery("page")
        )
        rows = await self._s.execute(
            sa.select(page, account_roles.c.role, account_roles.c.unit_id, *_UNIT_COLUMNS)
            .select_from(
                page.join(account_roles, account_roles.c.account_id == page.c.id).outerjoin(
                    org_units, org_units.c.id == account_roles.c.unit_id
                )
            )
            .order_by(page.c.id.desc(), account_roles.c.created_at, account_roles.c.id)
        )
        views: dict[uuid.UUID, OfficerView] = {}
        for row in rows:
            current = views.get(row.id)
            roles = (*current.roles, _role_view(row)) if current else (_role_view(row),)
            views[row.id] = OfficerView(
                id=row.id,
                username=row.username,
                display_name=row.display_name,
                status=AccountStatus(row.status),
                roles=roles,
                created_at=row.created_at,
                version=row.version,
            )
        return list(views.values())


class SqlUnitReader:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def by_code(self, scope: Scope, code: str) -> OrgUnitRef | None:
        station = station_key(org_units)
        district = district_key(org_units)
        row = (
            await self._s.execute(
                sa.select(
                    org_units.c.id,
                    org_units.c.code,
                    org_units.c.name,
                    org_units.c.level,
                    station.label("station_key"),
                    district.label("district_key"),
                ).where(org_units.c.code == code, station_scope(station, district, scope))
            )
        ).first()
        if row is None:
            return None
        return OrgUnitRef(
            id=row.id,
            code=row.code,
            name=row.name,
            level=UnitLevel(row.level),
            station_id=row.station_key,
            district_id=row.district_key,
        )


def advisory_lock_id(key: bytes) -> int:
    """A signed 64-bit lock id for ``pg_advisory_xact_lock``, namespaced to identity."""
    digest = hashlib.sha256(b"shouwang.identity\x00" + key).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class SqlIdentityUnitOfWork(SqlUnitOfWork):
    accounts: SqlAccountRepository
    officers: SqlOfficerRepository
    units: SqlUnitReader
    otp: SqlOtpRepository
    login_attempts: SqlLoginAttemptRepository
    sessions: SqlSessionRepository

    def _open_repositories(self) -> None:
        session = self.session
        self.accounts = SqlAccountRepository(session)
        self.officers = SqlOfficerRepository(session)
        self.units = SqlUnitReader(session)
        self.otp = SqlOtpRepository(session)
        self.login_attempts = SqlLoginAttemptRepository(session)
        self.sessions = SqlSessionRepository(session)

    async def serialize(self, *keys: bytes) -> None:
        # Sorted, so two requests locking overlapping keys cannot deadlock.
        for lock_id in sorted({advisory_lock_id(k) for k in keys}):
            await self.session.execute(sa.select(sa.func.pg_advisory_xact_lock(lock_id)))

    def audit_as(
        self,
        actor_id: uuid.UUID,
        actor_role: str,
        action: str,
        record_type: str,
        record_id: uuid.UUID | None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        self._audits.append(
            {
                "actor_id": actor_id,
                "actor_role": actor_role,
                "action": action,
                "record_type": record_type,
                "record_id": record_id,
                "request_id": self.scope.request_id,
                "detail": detail or {},
                "at": self.clock.now(),
            }
        )
