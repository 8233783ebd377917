"""The dispatch candidate finder (KNN over last known locations and unit bases) against a
real PostGIS: on duty vs off duty, capability filter, radius, exclusions, members placed
at their unit's base, one answer per volunteer, team leavers, district isolation; units
with their on-duty counts; and the plan walks the partial GiST index."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from support.org import OrgTree, make_org_tree

from app.domain.emergency.glossary import Capability
from app.domain.shared.geo import GeoPoint
from app.domain.shared.ids import new_id
from app.infra.db.emergency_candidates import (
    NEAREST_MEMBERS,
    SqlCandidateFinder,
    find_members,
    member_args,
)
from app.infra.db.raw import Autocommit

NOW = datetime.now(UTC).replace(microsecond=0)
LATER = NOW + timedelta(hours=2)
M_PER_DEG_LAT = 110_900.0  # near 31.7°N, within a few metres over a kilometre
FIRST_AID = Capability.FIRST_AID
FIRE = Capability.FIRE


def north(at: tuple[float, float], metres: float) -> tuple[float, float]:
    return (at[0], at[1] + metres / M_PER_DEG_LAT)


def wkt(at: tuple[float, float]) -> str:
    return f"SRID=4326;POINT({at[0]} {at[1]})"


class Seeder:
    """Rows straight into the tables (the finder only reads them)."""

    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def volunteer(self, tree: OrgTree, name: str) -> uuid.UUID:
        vid = new_id()
        await self.s.execute(
            sa.text(
                """
                INSERT INTO volunteers (id, station_id, district_id, name,
                    resident_id_key_id, resident_id_sealed, resident_id_bidx,
                    phone_key_id, phone_sealed, phone_bidx, address_key_id, address_sealed,
                    source_category, status, origin)
                VALUES (:id, :station, :district, :name, 'k1', '\\x00', uuid_send(:id),
                        'k1', '\\x00', uuid_send(:id), 'k1', '\\x00', 'resident', 'active',
                        'import')
                """
            ),
            {"id": vid, "station": tree.station_id, "district": tree.district_id, "name": name},
        )
        return vid

    async def unit(
        self,
        tree: OrgTree,
        base: tuple[float, float],
        offers: list[str],
        *,
        station: uuid.UUID | None = None,
        name: str = "花园社区最小应急单元",
    ) -> uuid.UUID:
        uid = new_id()
        station_id = station or tree.station_id
        await self.s.execute(
            sa.text(
                "INSERT INTO teams (id, station_id, district_id, brand, name, type) "
                "VALUES (:id, :station, :district, '阳湖N警', :name, 'emergency_unit')"
            ),
            {"id": uid, "station": station_id, "district": tree.district_id, "name": name},
        )
        await self.s.execute(
            sa.text(
                "INSERT INTO emergency_units (id, station_id, district_id, base, offers) "
                "VALUES (:id, :station, :district, ST_GeogFromText(:base), :offers)"
            ),
            {
                "id": uid,
                "station": station_id,
                "district": tree.district_id,
                "base": wkt(base),
                "offers": offers,
            },
        )
        return uid

    async def member(
        self,
        unit: uuid.UUID,
        vid: uuid.UUID,
        capabilities: list[str],
        *,
        available_until: datetime | None = None,
        left: bool = False,
    ) -> None:
        await self.s.execute(
            sa.text(
                "INSERT INTO team_memberships (id, team_id, volunteer_id, joined_at, left_at) "
                "VALUES (:id, :unit, :vid, :joined, :left)"
            ),
            {
                "id": new_id(),
                "unit": unit,
                "vid": vid,
                "joined": NOW - timedelta(days=30),
                "left": NOW - timedelta(days=1) if left else None,
            },
        )
        await self.s.execute(
            sa.text(
                "INSERT INTO emergency_unit_members (unit_id, volunteer_id, capabilities, "
                "available_from, available_until) VALUES (:unit, :vid, :caps, :from_, :until)"
            ),
            {
                "unit": unit,
                "vid": vid,
                "caps": capabilities,
                "from_": NOW - timedelta(minutes=10) if available_until else None,
                "until": available_until,
            },
        )

    async def located(
        self, vid: uuid.UUID, at: tuple[float, float], on_duty_until: datetime | None
    ) -> None:
        await self.s.execute(
            sa.text(
                "INSERT INTO emergency_last_locations (volunteer_id, location, at, "
                "on_duty_until) VALUES (:vid, ST_GeogFromText(:at), :now, :until)"
            ),
            {"vid": vid, "at": wkt(at), "now": NOW, "until": on_duty_until},
        )

    async def filler(self, tree: OrgTree, origin: tuple[float, float], n: int) -> None:
        """``n`` on-duty members of one unit of the tree's district, 3 to 8 km away (north),
        so the planner has a reason to walk the index."""
        unit = await self.unit(tree, north(origin, 9000), ["first_aid"], name="填充单元")
        await self.s.execute(
            sa.text(
                """
                WITH v AS (
                    INSERT INTO volunteers (id, station_id, district_id, name,
                        resident_id_key_id, resident_id_sealed, resident_id_bidx,
                        phone_key_id, phone_sealed, phone_bidx, address_key_id,
                        address_sealed, source_category, status, origin)
                    SELECT gen_random_uuid(), :station, :district, '志愿者' || g, 'k1',
                           '\\x00', decode(md5('f' || g || :salt), 'hex'), 'k1', '\\x00',
                           '\\x00', 'k1', '\\x00', 'resident', 'active', 'import'
                    FROM generate_series(1, :n) AS g
                    RETURNING id),
                tm AS (
                    INSERT INTO team_memberships (id, team_id, volunteer_id, joined_at)
                    SELECT gen_random_uuid(), :unit, id, now() FROM v),
                mb AS (
                    INSERT INTO emergency_unit_members (unit_id, volunteer_id, capabilities)
                    SELECT :unit, id, '{first_aid}' FROM v)
                INSERT INTO emergency_last_locations (volunteer_id, location, at, on_duty_until)
                SELECT id, ST_MakePoint(:lon + random() * 0.02,
                                        :lat + 0.03 + random() * 0.045)::geography,
                       now(), :until
                FROM v
                """
            ),
            {
                "station": tree.station_id,
                "district": tree.district_id,
                "n": n,
                "salt": str(uuid.uuid4()),
                "unit": unit,
                "lon": origin[0],
                "lat": origin[1],
                "until": LATER,
            },
        )


def ids(found: list[Any]) -> list[uuid.UUID]:
    return [f.volunteer_id for f in found]


@pytest.fixture(scope="module")
async def world(session_factory: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
    tree = await make_org_tree(session_factory)
    other = await make_org_tree(session_factory)  # another district
    p = tree.inside
    w: dict[str, Any] = {"tree": tree, "other": other, "p": p}
    async with session_factory() as session:
        seed = Seeder(session)
        a = await seed.unit(tree, north(p, 200), ["first_aid", "fire"], name="花园应急一队")
        b = await seed.unit(
            tree, north(p, 600), ["first_aid"], station=tree.other_station_id, name="新城应急队"
        )
        far = await seed.unit(tree, north(p, 4000), ["fire"], name="远郊应急队")
        c = await seed.unit(other, north(p, 100), ["first_aid", "fire"], name="邻区应急队")
        w |= {"a": a, "b": b, "far": far, "c": c}
        for key, name in [
            ("zhang", "张伟"),
            ("li", "李娜"),
            ("wang", "王芳"),
            ("liu", "刘洋"),
            ("chen", "陈静"),
            ("zhao", "赵磊"),
            ("sun", "孙悦"),
            ("zhou", "周杰"),
            ("wu", "吴敏"),
            ("qian", "钱程"),
        ]:
            w[key] = await seed.volunteer(other if key == "wu" else tree, name)
        # On duty, located 100 m away, both capabilities.
        await seed.member(a, w["zhang"], ["first_aid", "fire"])
        await seed.located(w["zhang"], north(p, 100), LATER)
        # On duty 300 m away, first aid only.
        await seed.member(a, w["li"], ["first_aid"])
        await seed.located(w["li"], north(p, 300), LATER)
        # 50 m away but off duty (no duty end): never a candidate.
        await seed.member(a, w["wang"], ["first_aid", "fire"])
        await seed.located(w["wang"], north(p, 50), None)
        # On duty 5 km away.
        await seed.member(a, w["liu"], ["first_aid", "fire"])
        await seed.located(w["liu"], north(p, 5000), LATER)
        # Available now, never located: at unit A's base (200 m).
        await seed.member(a, w["chen"], ["first_aid"], available_until=LATER)
        # Available and located 400 m away: the location wins over the base.
        await seed.member(a, w["zhao"], ["first_aid"], available_until=LATER)
        await seed.located(w["zhao"], north(p, 400), LATER)
        # On duty 80 m away but has left the team.
        await seed.member(a, w["sun"], ["first_aid"], left=True)
        await seed.located(w["sun"], north(p, 80), LATER)
        # Available in B (600 m) and in A (200 m), no location: once, at A's base.
        await seed.member(b, w["zhou"], ["first_aid"], available_until=LATER)
        await seed.member(a, w["zhou"], ["first_aid"], available_until=LATER)
        # Another district's member on duty 30 m away.
        await seed.member(c, w["wu"], ["first_aid", "fire"])
        await seed.located(w["wu"], north(p, 30), LATER)
        # Duty ended a minute ago, 60 m away.
        await seed.member(b, w["qian"], ["first_aid"])
        await seed.located(w["qian"], north(p, 60), NOW - timedelta(minutes=1))
        await seed.filler(tree, p, 3000)
        await session.commit()
    async with session_factory() as session:
        await session.execute(sa.text("ANALYZE"))
    return w


async def test_members_on_duty_nearest_first_with_base_positions(
    session_factory: async_sessionmaker[AsyncSession], world: dict[str, Any]
) -> None:
    finder = SqlCandidateFinder(session_factory)
    tree: OrgTree = world["tree"]
    found = await finder.nearest_members(
        GeoPoint(*world["p"]),
        district_id=tree.district_id,
        radius_m=1000,
        limit=10,
        required=frozenset(),
        now=NOW,
    )
    assert ids(found) == [world["zhang"], world["chen"], world["zhou"], world["li"], world["zhao"]]
    by_id = {f.volunteer_id: f for f in found}
    assert by_id[world["zhang"]].located is True
    assert by_id[world["zhang"]].distance_m == pytest.approx(100, abs=2)
    assert by_id[world["zhang"]].unit_id == world["a"]
    assert by_id[world["zhang"]].capabilities == {FIRST_AID, FIRE}
    assert by_id[world["chen"]].located is False
    assert by_id[world["chen"]].distance_m == pytest.approx(200, abs=2)
    assert by_id[world["zhou"]].unit_id == world["a"]  # the nearer base of its two units
    assert by_id[world["zhao"]].located is True
    assert by_id[world["zhao"]].distance_m == pytest.approx(400, abs=3)

    limited = await finder.nearest_members(
        GeoPoint(*world["p"]),
        district_id=tree.district_id,
        radius_m=1000,
        limit=2,
        required=frozenset(),
        now=NOW,
    )
    assert ids(limited) == [world["zhang"], world["chen"]]


async def test_capability_radius_and_exclusions(
    session_factory: async_sessionmaker[AsyncSession], world: dict[str, Any]
) -> None:
    finder = SqlCandidateFinder(session_factory)
    tree: OrgTree = world["tree"]
    point = GeoPoint(*world["p"])
    fire = await finder.nearest_members(
        point,
        district_id=tree.district_id,
        radius_m=1000,
        limit=10,
        required=frozenset({FIRE, FIRST_AID}),
        now=NOW,
    )
    assert ids(fire) == [world["zhang"]]
    wider = await finder.nearest_members(
        point,
        district_id=tree.district_id,
        radius_m=6000,
        limit=10,
        required=frozenset({FIRE}),
        now=NOW,
    )
    assert ids(wider) == [world["zhang"], world["liu"]]
    # 刘洋 lies behind ~1,000 on-duty first-aid-only members: the walk had to grow.
    _, rounds = await find_members(
        Autocommit.of(session_factory).fetch,
        point,
        district_id=tree.district_id,
        radius_m=6000,
        limit=10,
        required=frozenset({FIRE}),
        now=NOW,
    )
    assert rounds > 2
    excluded = await finder.nearest_members(
        point,
        district_id=tree.district_id,
        radius_m=1000,
        limit=3,
        required=frozenset(),
        now=NOW,
        exclude=[world["zhang"], world["chen"]],
    )
    assert ids(excluded) == [world["zhou"], world["li"], world["zhao"]]
    # Later, once everyone's duty has ended, nobody is left.
    after = await finder.nearest_members(
        point,
        district_id=tree.district_id,
        radius_m=1000,
        limit=10,
        required=frozenset(),
        now=LATER + timedelta(minutes=1),
    )
    assert after == []


async def test_other_district_sees_only_its_own(
    session_factory: async_sessionmaker[AsyncSession], world: dict[str, Any]
) -> None:
    finder = SqlCandidateFinder(session_factory)
    other: OrgTree = world["other"]
    found = await finder.nearest_members(
        GeoPoint(*world["p"]),
        district_id=other.district_id,
        radius_m=1000,
        limit=10,
        required=frozenset(),
        now=NOW,
    )
    assert ids(found) == [world["wu"]]
    units = await finder.nearest_units(
        GeoPoint(*world["p"]),
        district_id=other.district_id,
        radius_m=1000,
        limit=10,
        required=frozenset(),
        now=NOW,
    )
    assert [u.unit_id for u in units] == [world["c"]]
    assert await finder.districts_of([world["tree"].station_id, other.other_station_id]) == {
        world["tree"].district_id,
        other.district_id,
    }


async def test_units_by_base_with_offers_and_on_duty_counts(
    session_factory: async_sessionmaker[AsyncSession], world: dict[str, Any]
) -> None:
    finder = SqlCandidateFinder(session_factory)
    tree: OrgTree = world["tree"]
    point = GeoPoint(*world["p"])
    units = await finder.nearest_units(
        point, district_id=tree.district_id, radius_m=1000, limit=10, required=frozenset(), now=NOW
    )
    assert [u.unit_id for u in units] == [world["a"], world["b"]]
    a, b = units
    assert a.distance_m == pytest.approx(200, abs=2)
    assert a.station_id == tree.station_id
    assert b.station_id == tree.other_station_id
    assert a.offers == {FIRST_AID, FIRE}
    # A: 张伟, 李娜, 刘洋 (located on duty), 陈静, 赵磊, 周杰 (available); not 王芳 (off),
    # not 孙悦 (left the team).
    assert a.on_duty == 6
    assert b.on_duty == 1  # 周杰 only: 钱程's duty has ended
    fire = await finder.nearest_units(
        point,
        district_id=tree.district_id,
        radius_m=5000,
        limit=10,
        required=frozenset({FIRE}),
        now=NOW,
    )
    assert [u.unit_id for u in fire] == [world["a"], world["far"]]


async def test_members_query_walks_the_partial_gist_index(
    session_factory: async_sessionmaker[AsyncSession], world: dict[str, Any]
) -> None:
    tree: OrgTree = world["tree"]
    args = member_args(
        GeoPoint(*world["p"]),
        district_id=tree.district_id,
        radius_m=1000,
        limit=10,
        required=frozenset({FIRST_AID}),
        now=NOW,
    )
    async with session_factory() as session:
        conn = await session.connection()
        raw = (await conn.get_raw_connection()).driver_connection
        assert raw is not None
        rows = await raw.fetch("EXPLAIN " + NEAREST_MEMBERS, *args)
    plan = "\n".join(r[0] for r in rows)
    assert "ix_emergency_last_locations_on_duty" in plan, plan
