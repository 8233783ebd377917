"""The principal cache against real PostgreSQL: hits cost no query, changes committed by any
connection evict through NOTIFY (migration 0015), a lost listener means no caching until a
new one is in place, and a load racing an invalidation is not stored."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from support.org import OrgTree, make_org_tree

from app.bootstrap.identity import uow_factory
from app.domain.identity.model import Account, AccountKind, AccountStatus, SignInMethod
from app.domain.identity.ports import Principal, PrincipalReader
from app.domain.identity.sessions import AuthSession
from app.domain.shared.ids import new_id
from app.domain.shared.scope import Role, system_scope
from app.infra.db.identity_principals import SqlPrincipalReader
from app.infra.db.principal_cache import CachingPrincipalReader

SF = async_sessionmaker[AsyncSession]
WAIT_S = 3.0


class Counting:
    """The inner reader, counting the loads that reached the database."""

    def __init__(self, inner: PrincipalReader) -> None:
        self.inner = inner
        self.loads = 0

    async def load(self, account_id: uuid.UUID, session_id: uuid.UUID) -> Principal | None:
        self.loads += 1
        return await self.inner.load(account_id, session_id)


@pytest.fixture(scope="module")
async def tree(session_factory: SF) -> OrgTree:
    return await make_org_tree(session_factory)


@pytest.fixture
async def cache(
    session_factory: SF, database_url: str
) -> AsyncIterator[tuple[CachingPrincipalReader, Counting]]:
    counting = Counting(SqlPrincipalReader(session_factory.kw["bind"]))
    reader = CachingPrincipalReader(counting, database_url, ttl_seconds=60)
    assert await reader.wait_listening(WAIT_S)
    yield reader, counting
    await reader.aclose()


async def _officer(sf: SF, unit_id: uuid.UUID) -> tuple[uuid.UUID, uuid.UUID]:
    now = datetime.now(UTC)
    async with uow_factory(sf)(system_scope()) as uow:
        account = Account.new(AccountKind.OFFICER, now, account_id=new_id(), display_name="王警官")
        await uow.accounts.add(account)
        await uow.accounts.add_role(account.id, Role.OFFICER, unit_id, granted_by=account.id)
        session = AuthSession(new_id(), account.id, SignInMethod.PASSWORD, now)
        await uow.sessions.add_session(session)
        await uow.commit()
    return account.id, session.id


async def _execute(sf: SF, sql: str, **params: Any) -> None:
    async with sf() as s, s.begin():
        await s.execute(sa.text(sql), params)


async def _eventually(check: Callable[[], Awaitable[bool]], timeout: float = WAIT_S) -> bool:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if await check():
            return True
        await asyncio.sleep(0.02)
    return False


async def _settle(reader: CachingPrincipalReader, sf: SF) -> None:
    """Wait until the notifications of changes committed so far have arrived: they come in
    commit order, so once a marker sent now is heard, so are they."""
    marker, heard = uuid.uuid4(), asyncio.Event()
    evict = reader.changed

    def spy(account_id: uuid.UUID) -> None:
        evict(account_id)
        if account_id == marker:
            heard.set()

    reader.changed = spy  # type: ignore[method-assign]
    try:
        await _execute(sf, "SELECT pg_notify('shouwang_principals', :m)", m=str(marker))
        await asyncio.wait_for(heard.wait(), WAIT_S)
    finally:
        del reader.changed


async def test_a_hit_reads_nothing_and_a_refusal_is_never_cached(
    cache: tuple[CachingPrincipalReader, Counting], session_factory: SF, tree: OrgTree
) -> None:
    reader, counting = cache
    account, session = await _officer(session_factory, tree.station_id)
    await _settle(reader, session_factory)
    first = await reader.load(account, session)
    second = await reader.load(account, session)
    assert first is not None
    assert second == first
    assert counting.loads == 1

    unknown = uuid.uuid4()
    assert await reader.load(account, unknown) is None
    assert await reader.load(account, unknown) is None
    assert counting.loads == 3


@pytest.mark.parametrize(
    "change",
    [
        "UPDATE accounts SET status = 'disabled' WHERE id = :a",
        "UPDATE auth_sessions SET revoked_at = now(), revoke_reason = 'logout' WHERE id = :s",
        "DELETE FROM account_roles WHERE account_id = :a",
    ],
    ids=["account-disabled", "session-revoked", "role-removed"],
)
async def test_a_change_committed_elsewhere_evicts(
    cache: tuple[CachingPrincipalReader, Counting],
    session_factory: SF,
    tree: OrgTree,
    change: str,
) -> None:
    reader, _ = cache
    account, session = await _officer(session_factory, tree.station_id)
    await _settle(reader, session_factory)
    before = await reader.load(account, session)
    assert before is not None
    assert before.status is AccountStatus.ACTIVE
    assert before.bindings
    assert reader.size >= 1

    # Another connection, as another API process would.
    await _execute(session_factory, change, a=account, s=session)

    async def changed() -> bool:
        p = await reader.load(account, session)
        return p is not None and p != before

    assert await _eventually(changed)
    after = await reader.load(account, session)
    assert after is not None
    assert (after.status, after.session_revoked, bool(after.bindings)) != (
        AccountStatus.ACTIVE,
        False,
        True,
    )


async def test_an_org_unit_change_clears_everything(
    cache: tuple[CachingPrincipalReader, Counting], session_factory: SF, tree: OrgTree
) -> None:
    reader, _ = cache
    account, session = await _officer(session_factory, tree.station_id)
    await _settle(reader, session_factory)
    await reader.load(account, session)
    assert reader.size >= 1
    await _execute(
        session_factory, "UPDATE org_units SET name = name WHERE id = :u", u=tree.station_id
    )

    async def empty() -> bool:
        return reader.size == 0

    assert await _eventually(empty)


async def test_a_lost_listener_bypasses_the_cache_until_it_is_back(
    cache: tuple[CachingPrincipalReader, Counting], session_factory: SF, tree: OrgTree
) -> None:
    reader, counting = cache
    account, session = await _officer(session_factory, tree.station_id)
    await _settle(reader, session_factory)
    await reader.load(account, session)
    pid = reader.server_pid
    assert pid is not None

    await _execute(session_factory, "SELECT pg_terminate_backend(:pid)", pid=pid)

    async def lost() -> bool:
        return not reader.listening

    assert await _eventually(lost)
    assert reader.size == 0
    # Every load reads the database now (and starts reconnecting in the background).
    loads = counting.loads
    await reader.load(account, session)
    await reader.load(account, session)
    assert counting.loads >= loads + 1

    assert await reader.wait_listening(WAIT_S)
    assert reader.server_pid not in (None, pid)
    await reader.load(account, session)
    loads = counting.loads
    assert await reader.load(account, session) is not None
    assert counting.loads == loads  # cached again
    # ...and the new listener hears changes.
    await _execute(
        session_factory, "UPDATE accounts SET status = 'disabled' WHERE id = :a", a=account
    )

    async def disabled() -> bool:
        p = await reader.load(account, session)
        return p is not None and p.status is AccountStatus.DISABLED

    assert await _eventually(disabled)


async def test_unreachable_database_means_no_cache(
    session_factory: SF, database_url: str, tree: OrgTree
) -> None:
    counting = Counting(SqlPrincipalReader(session_factory.kw["bind"]))
    url = sa.engine.make_url(database_url).set(port=1).render_as_string(hide_password=False)
    reader = CachingPrincipalReader(counting, url, ttl_seconds=60)
    try:
        account, session = await _officer(session_factory, tree.station_id)
        assert not await reader.wait_listening(0.5)
        for _ in range(3):
            assert await reader.load(account, session) is not None
        assert counting.loads == 3
        assert reader.size == 0
    finally:
        await reader.aclose()


# --- unit level: a fake inner reader, a fake clock, a listener taken as connected --------


class _Conn:
    def is_closed(self) -> bool:
        return False


class _Fake:
    def __init__(self) -> None:
        self.loads = 0
        self.gate: asyncio.Event | None = None
        self.status = AccountStatus.ACTIVE

    async def load(self, account_id: uuid.UUID, session_id: uuid.UUID) -> Principal | None:
        self.loads += 1
        status = self.status
        if self.gate is not None:
            await self.gate.wait()
        return Principal(account_id, status, False, ())


def _connected(inner: PrincipalReader, **kw: Any) -> CachingPrincipalReader:
    reader = CachingPrincipalReader(inner, "postgresql+asyncpg://unused@127.0.0.1/x", **kw)
    reader._conn = _Conn()
    return reader


async def test_a_load_racing_an_invalidation_is_not_stored() -> None:
    fake = _Fake()
    reader = _connected(fake)
    account, session = uuid.uuid4(), uuid.uuid4()
    fake.gate = asyncio.Event()
    pending = asyncio.create_task(reader.load(account, session))
    await asyncio.sleep(0)
    assert fake.loads == 1
    reader.changed(account)  # the account changed while the old state was being read
    fake.gate.set()
    assert (await pending) is not None
    assert reader.size == 0

    fake.gate = None
    await reader.load(account, session)
    await reader.load(account, session)
    assert fake.loads == 2  # the next load is stored, then hit
    assert reader.size == 1


async def test_entries_expire_and_the_oldest_go_first() -> None:
    now = [100.0]
    fake = _Fake()
    reader = _connected(fake, ttl_seconds=30, max_entries=2, clock=lambda: now[0])
    a, b, c, s = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await reader.load(a, s)
    now[0] += 29
    await reader.load(a, s)
    assert fake.loads == 1
    now[0] += 2
    await reader.load(a, s)
    assert fake.loads == 2  # expired, read again

    await reader.load(b, s)
    await reader.load(a, s)  # a is now the most recently used
    await reader.load(c, s)  # evicts b
    assert reader.size == 2
    loads = fake.loads
    await reader.load(a, s)
    assert fake.loads == loads
    await reader.load(b, s)
    assert fake.loads == loads + 1


async def test_disabled_principals_and_a_zero_ttl_are_not_cached() -> None:
    fake = _Fake()
    fake.status = AccountStatus.DISABLED
    reader = _connected(fake)
    account, session = uuid.uuid4(), uuid.uuid4()
    await reader.load(account, session)
    await reader.load(account, session)
    assert fake.loads == 2

    fake.status = AccountStatus.ACTIVE
    off = _connected(fake, ttl_seconds=0)
    await off.load(account, session)
    await off.load(account, session)
    assert fake.loads == 4
    assert off.size == 0


async def test_notifications_evict_one_account_or_everyone() -> None:
    fake = _Fake()
    reader = _connected(fake)
    a, b, s = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await reader.load(a, s)
    await reader.load(b, s)
    reader._received(None, 0, "shouwang_principals", str(a))
    assert reader.size == 1
    await reader.load(b, s)
    assert fake.loads == 2
    reader._received(None, 0, "shouwang_principals", "*")
    assert reader.size == 0
