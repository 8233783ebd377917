"""Routing from the in-process copy of the organisation tree: the same answers as the
locate statement wherever the copy answers, the database wherever it could disagree, and
the copy forgotten when org_units change (NOTIFY through the principal cache's listener),
when the listener is lost, and when a change races a load."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from support.org import OrgTree, make_org_tree

from app.domain.organisation.model import Placement
from app.domain.shared.geo import GeoPoint
from app.infra.db import raw
from app.infra.db.identity_principals import SqlPrincipalReader
from app.infra.db.org_locator import SqlJurisdictionLocator
from app.infra.db.org_tree_cache import CachedJurisdictionLocator, TreeWatch
from app.infra.db.principal_cache import CachingPrincipalReader

SF = async_sessionmaker[AsyncSession]
WAIT_S = 3.0


class CountingLocator:
    def __init__(self, inner: SqlJurisdictionLocator) -> None:
        self.inner = inner
        self.calls = 0

    async def locate(self, point: GeoPoint) -> Placement:
        self.calls += 1
        return await self.inner.locate(point)


class FakeWatch:
    def __init__(self, listening: bool = True) -> None:
        self.listening = listening
        self.asked = 0
        self.callbacks: list[Callable[[], None]] = []

    def ensure_listening(self) -> None:
        self.asked += 1

    def on_reset(self, callback: Callable[[], None]) -> None:
        self.callbacks.append(callback)

    def reset(self) -> None:
        for callback in self.callbacks:
            callback()


@pytest.fixture(scope="module")
async def tree(session_factory: SF) -> OrgTree:
    return await make_org_tree(session_factory)


def _locator(sf: SF) -> tuple[CachedJurisdictionLocator, CountingLocator]:
    counting = CountingLocator(SqlJurisdictionLocator(sf))
    return CachedJurisdictionLocator(counting, raw.Autocommit.of(sf)), counting


async def _loaded(sf: SF, watch: TreeWatch) -> tuple[CachedJurisdictionLocator, CountingLocator]:
    """A locator following ``watch`` with its copy loaded."""
    cached, counting = _locator(sf)
    cached.follow(watch)
    assert await cached.load_now()
    return cached, counting


def _points(tree: OrgTree) -> list[GeoPoint]:
    """A lattice over the tree's district and a margin around it, borders included: the
    lattice step divides every edge of the tree's boxes (multiples of 0.0005°)."""
    x, y = tree.inside[0] - 0.002, tree.inside[1] - 0.0025  # the district's corner
    step = 0.0005
    return [
        GeoPoint(round(x + i * step, 7), round(y + j * step, 7))
        for i in range(-2, 19)
        for j in range(-2, 19)
    ]


async def test_the_copy_answers_as_the_database_does(session_factory: SF, tree: OrgTree) -> None:
    cached, counting = await _loaded(session_factory, FakeWatch())
    copy = cached.tree
    assert copy is not None
    sql = SqlJurisdictionLocator(session_factory)
    answered = 0
    for point in _points(tree):
        mine = copy.locate(point)
        if mine is not None:
            answered += 1
            assert mine == await sql.locate(point), point
        # Through the locator: the copy's answer, or the database's where it has none.
        assert await cached.locate(point) == await sql.locate(point), point
    # Most of the lattice is answered by the copy (not border ties nor points outside).
    assert answered > 150
    inside = GeoPoint(*tree.inside)
    calls = counting.calls
    placed = await cached.locate(inside)
    assert counting.calls == calls
    assert (placed.grid_id, placed.community_id, placed.station_id, placed.district_id) == (
        tree.grid_id,
        tree.community_id,
        tree.station_id,
        tree.district_id,
    )


async def test_shared_borders_and_outside_points_go_to_the_database(
    session_factory: SF, tree: OrgTree
) -> None:
    cached, counting = await _loaded(session_factory, FakeWatch())
    copy = cached.tree
    assert copy is not None
    # A corner the two stations share (on the district's edge too): a tie between them.
    async with session_factory() as session:
        row = (
            await session.execute(
                sa.text(
                    "SELECT ST_X(p.geom) AS x, ST_Y(p.geom) AS y"
                    " FROM org_units a, org_units b, ST_DumpPoints(a.boundary) p"
                    " WHERE a.id = :a AND b.id = :b AND ST_Covers(b.boundary, p.geom) LIMIT 1"
                ),
                {"a": tree.station_id, "b": tree.other_station_id},
            )
        ).one()
    border = GeoPoint(row.x, row.y)
    assert copy.locate(border) is None
    calls = counting.calls
    placed = await cached.locate(border)
    assert counting.calls == calls + 1
    assert placed.station_id in (tree.station_id, tree.other_station_id)
    far = GeoPoint(10.0, 10.0)
    assert copy.locate(far) is None
    assert (await cached.locate(far)).district_id is None


async def test_no_copy_without_a_listener(session_factory: SF, tree: OrgTree) -> None:
    cached, counting = _locator(session_factory)
    inside = GeoPoint(*tree.inside)
    await cached.locate(inside)  # nothing follows it: the database, always
    assert counting.calls == 1
    assert cached.tree is None
    watch = FakeWatch(listening=False)
    cached.follow(watch)
    placed = await cached.locate(inside)
    assert counting.calls == 2
    assert watch.asked == 1
    assert placed.grid_id == tree.grid_id
    assert not await cached.load_now()  # loaded, but not kept while nobody listens
    assert cached.tree is None


async def test_a_reset_forgets_the_copy_and_a_racing_load_is_dropped(
    session_factory: SF, tree: OrgTree
) -> None:
    cached, counting = _locator(session_factory)
    watch = FakeWatch()
    cached.follow(watch)
    inside = GeoPoint(*tree.inside)
    assert await cached.load_now()
    watch.reset()
    assert cached.tree is None
    await cached.locate(inside)  # the database, and a load starts
    assert counting.calls == 1
    await asyncio.sleep(0)  # the load has read the generation and awaits its rows
    watch.reset()  # a change announced while that load runs
    assert not await cached.load_now()
    # The racing load was dropped; the next one is kept.
    assert await cached.load_now()
    calls = counting.calls
    assert (await cached.locate(inside)).grid_id == tree.grid_id
    assert counting.calls == calls


@pytest.fixture
async def listener(session_factory: SF, database_url: str) -> AsyncIterator[CachingPrincipalReader]:
    reader = CachingPrincipalReader(
        SqlPrincipalReader(session_factory.kw["bind"]), database_url, ttl_seconds=60
    )
    assert await reader.wait_listening(WAIT_S)
    yield reader
    await reader.aclose()


async def _eventually(check: Callable[[], bool]) -> bool:
    deadline = asyncio.get_running_loop().time() + WAIT_S
    while asyncio.get_running_loop().time() < deadline:
        if check():
            return True
        await asyncio.sleep(0.02)
    return False


async def _move(sf: SF, unit_id: object, dy: float) -> None:
    """Shift a unit's boundary north by ``dy`` degrees, on a connection of its own."""
    async with sf() as s, s.begin():
        await s.execute(
            sa.text("UPDATE org_units SET boundary = ST_Translate(boundary, 0, :dy) WHERE id = :u"),
            {"dy": dy, "u": unit_id},
        )


async def test_an_org_unit_change_committed_anywhere_forgets_the_copy(
    session_factory: SF, tree: OrgTree, listener: CachingPrincipalReader
) -> None:
    cached, counting = await _loaded(session_factory, listener)
    # Another connection moves the grid away from the point (as an import would).
    inside = GeoPoint(*tree.inside)
    await _move(session_factory, tree.grid_id, 0.0035)
    try:
        assert await _eventually(lambda: cached.tree is None)
        placed = await cached.locate(inside)
        assert placed.grid_id is None
        assert placed.community_id == tree.community_id
        # A fresh copy sees the change too.
        assert await cached.load_now()
        calls = counting.calls
        again = await cached.locate(inside)
        assert counting.calls == calls
        assert again == placed
    finally:
        await _move(session_factory, tree.grid_id, -0.0035)


async def test_a_lost_listener_forgets_the_copy(
    session_factory: SF, tree: OrgTree, listener: CachingPrincipalReader
) -> None:
    cached, counting = await _loaded(session_factory, listener)
    pid = listener.server_pid
    async with session_factory() as s, s.begin():
        await s.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": pid})
    assert await _eventually(lambda: not listener.listening)
    assert cached.tree is None
    calls = counting.calls
    await cached.locate(GeoPoint(*tree.inside))
    assert counting.calls == calls + 1
