"""Identity against real PostgreSQL: the create-officer command, the principal reader
behind the authenticator, and the housekeeping purge."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from support.org import OrgTree, make_org_tree
from typer.testing import CliRunner

from app.bootstrap.commands import create_officer
from app.bootstrap.identity import purge_identity, uow_factory
from app.cli import cli
from app.domain.identity.errors import UnitNotFound
from app.domain.identity.model import Account, AccountKind, SignInMethod, UnitLevel
from app.domain.identity.otp import OtpChallenge
from app.domain.identity.sessions import AuthSession, RefreshToken, RevokeReason
from app.domain.shared.clock import FixedClock
from app.domain.shared.errors import InvalidInput
from app.domain.shared.ids import new_id
from app.domain.shared.scope import Role, system_scope
from app.infra.db.identity_auth_repo import purge_expired
from app.infra.db.identity_principals import SqlPrincipalReader
from app.settings import Settings

PASSWORD = "Correct-Horse-9-battery"


@pytest.fixture(scope="module")
async def tree(session_factory: async_sessionmaker[AsyncSession]) -> OrgTree:
    return await make_org_tree(session_factory)


async def _scalar(sf: async_sessionmaker[AsyncSession], sql: str, **params: Any) -> Any:
    async with sf() as s:
        return await s.scalar(sa.text(sql), params)


async def test_create_officer_command(
    settings: Settings, tree: OrgTree, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    username = f"cli-{uuid.uuid4().hex[:8]}"
    account_id = await create_officer(
        settings, username, PASSWORD, tree.station_code, "station_admin", "周强"
    )
    sf = session_factory
    stored = await _scalar(
        sf, "SELECT password_hash FROM officer_credentials WHERE account_id = :a", a=account_id
    )
    assert stored.startswith("$argon2id$v=19$")
    assert PASSWORD not in stored
    assert await _scalar(sf, "SELECT kind FROM accounts WHERE id = :a", a=account_id) == "officer"
    assert (
        await _scalar(sf, "SELECT display_name FROM accounts WHERE id = :a", a=account_id) == "周强"
    )
    role = await _scalar(
        sf, "SELECT role || ':' || unit_id FROM account_roles WHERE account_id = :a", a=account_id
    )
    assert role == f"station_admin:{tree.station_id}"
    audit = await _scalar(
        sf,
        "SELECT actor_role FROM audit_log WHERE action = 'officer.created' AND record_id = :a",
        a=account_id,
    )
    assert audit == "system"

    with pytest.raises(UnitNotFound):
        await create_officer(settings, f"x{username}", PASSWORD, "NO-SUCH-UNIT", "officer")
    with pytest.raises(InvalidInput):
        await create_officer(
            settings, f"y{username}", PASSWORD, tree.station_code, "district_admin"
        )


def test_create_officer_cli(settings: Settings, tree: OrgTree) -> None:
    username = f"typer-{uuid.uuid4().hex[:8]}"
    env = {
        "SHOUWANG_DATABASE_URL": settings.database_url,
        "SHOUWANG_SMS_DEV_OUTBOX": str(settings.sms_dev_outbox),
    }
    args = ["create-officer", username, "--password", PASSWORD, "--unit", tree.station_code]
    result = CliRunner().invoke(cli, [*args, "--role", "officer"], env=env)
    assert result.exit_code == 0, result.output
    assert username in result.output


async def _session_for(
    sf: async_sessionmaker[AsyncSession], role: Role, unit_id: uuid.UUID | None, **kw: Any
) -> tuple[uuid.UUID, uuid.UUID]:
    now = datetime.now(UTC)
    async with uow_factory(sf)(system_scope()) as uow:
        kind = AccountKind.RESIDENT if unit_id is None else AccountKind.OFFICER
        account = Account.new(kind, now, account_id=new_id(), display_name=None)
        await uow.accounts.add(account)
        await uow.accounts.add_role(account.id, role, unit_id, granted_by=account.id)
        session = AuthSession(new_id(), account.id, SignInMethod.PASSWORD, now, **kw)
        await uow.sessions.add_session(session)
        await uow.sessions.save_session(session)  # a session given as revoked
        await uow.commit()
    return account.id, session.id


async def test_principal_of_a_district_admin_covers_every_station(
    session_factory: async_sessionmaker[AsyncSession], tree: OrgTree
) -> None:
    reader = SqlPrincipalReader(session_factory.kw["bind"])
    account, session = await _session_for(session_factory, Role.DISTRICT_ADMIN, tree.district_id)
    principal = await reader.load(account, session)
    assert principal is not None
    assert not principal.session_revoked
    (binding,) = principal.bindings
    assert binding.unit_level is UnitLevel.DISTRICT
    assert binding.district_station_ids == {tree.station_id, tree.other_station_id}
    assert await reader.load(account, uuid.uuid4()) is None


async def test_principal_of_station_staff_and_residents(
    session_factory: async_sessionmaker[AsyncSession], tree: OrgTree
) -> None:
    reader = SqlPrincipalReader(session_factory.kw["bind"])
    account, session = await _session_for(session_factory, Role.OFFICER, tree.station_id)
    principal = await reader.load(account, session)
    assert principal is not None
    (binding,) = principal.bindings
    assert (binding.station_id, binding.district_id) == (tree.station_id, tree.district_id)
    assert binding.district_station_ids == frozenset()

    resident, rs = await _session_for(
        session_factory,
        Role.RESIDENT,
        None,
        revoked_at=datetime.now(UTC),
        revoke_reason=RevokeReason.LOGOUT,
    )
    loaded = await reader.load(resident, rs)
    assert loaded is not None
    assert loaded.session_revoked
    assert [b.role for b in loaded.bindings] == [Role.RESIDENT]
    assert await reader.load(resident, session) is None  # someone else's session


async def test_purge_removes_only_what_expired(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    sf = session_factory
    now = datetime.now(UTC)
    old = now - timedelta(days=40)
    past = FixedClock(old)
    phone_old, phone_new = uuid.uuid4().bytes * 2, uuid.uuid4().bytes * 2
    async with uow_factory(sf, past)(system_scope()) as uow:
        account = Account.new(AccountKind.RESIDENT, old, account_id=new_id(), display_name=None)
        await uow.accounts.add(account)
        stale = AuthSession(new_id(), account.id, SignInMethod.OTP, old)
        live = AuthSession(new_id(), account.id, SignInMethod.OTP, now)
        for session, issued in ((stale, old), (live, now)):
            await uow.sessions.add_session(session)
            await uow.sessions.add_token(
                RefreshToken(
                    new_id(), session.id, uuid.uuid4().bytes, issued, issued + timedelta(days=30)
                )
            )
        for phone, at in ((phone_old, old), (phone_new, now)):
            challenge, _ = OtpChallenge.issue(_Indexer(), phone, at, challenge_id=new_id())
            await uow.otp.add(challenge)
            await uow.otp.record_send(phone, phone, at)
            await uow.login_attempts.add(new_id(), phone, phone, at)
        await uow.commit()

    removed = await purge_expired(sf, now)
    assert removed >= 5

    async def count(table: str, where: str, **params: Any) -> int:
        return int(await _scalar(sf, f"SELECT count(*) FROM {table} WHERE {where}", **params))

    assert await count("auth_sessions", "id = :i", i=stale.id) == 0
    assert await count("auth_sessions", "id = :i", i=live.id) == 1
    assert await count("refresh_tokens", "session_id = :i", i=live.id) == 1
    assert await count("otp_challenges", "phone_index = :p", p=phone_old) == 0
    assert await count("otp_challenges", "phone_index = :p", p=phone_new) == 1
    assert await count("otp_sends", "phone_index = :p", p=phone_old) == 0
    assert await count("otp_sends", "phone_index = :p", p=phone_new) == 1
    assert await count("login_attempts", "username_index = :p", p=phone_old) == 0
    assert await count("login_attempts", "username_index = :p", p=phone_new) == 1


async def test_purge_is_registered_as_a_worker_task(app: Any) -> None:
    from app.bootstrap.worker import TASKS

    assert TASKS["identity"] is purge_identity
    assert await purge_identity(app.state.services) >= 0


class _Indexer:
    def index(self, value: str, *, purpose: str) -> bytes:
        return (purpose + value).encode()
