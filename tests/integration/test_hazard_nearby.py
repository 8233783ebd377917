"""The duplicate check (open hazards of a category nearby) against a real PostGIS: it
finds what is within the radius and window, skips closed, other categories and old ones,
and its plan uses the GiST index on ``hazards.location``."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from support.org import make_org_tree

from app.domain.hazards.model import DuplicateRule, TopCategory
from app.domain.shared.geo import GeoPoint
from app.domain.shared.ids import new_id
from app.domain.shared.scope import system_scope
from app.infra.db import raw
from app.infra.db.hazards_repo import (
    SqlHazardRepository,
    SqlNearbyHazards,
    nearby_args,
    nearby_sql,
)
from app.infra.db.org_locator import SqlJurisdictionLocator
from app.infra.db.tables.identity import accounts

FILLER = 4000


async def _seed(
    session: AsyncSession, district: uuid.UUID, reporter: uuid.UUID, origin: tuple[float, float]
) -> None:
    """FILLER open fire hazards spread over ~10 km around ``origin`` (far from it), so the
    planner has a reason to prefer the index."""
    await session.execute(
        sa.text(
            """
            INSERT INTO hazards (id, category, description, location, district_id,
                                 media_ids, reporter_id, status, reported_at)
            SELECT gen_random_uuid(), 'fire', '楼道堆放杂物',
                   ST_GeogFromText(format('SRID=4326;POINT(%s %s)',
                       :lon + 0.01 + (g % 100) * 0.001, :lat + 0.01 + (g / 100) * 0.001)),
                   :district, '{}', :reporter, 'reported', now()
            FROM generate_series(1, :n) AS g
            """
        ),
        {
            "lon": origin[0],
            "lat": origin[1],
            "district": district,
            "reporter": reporter,
            "n": FILLER,
        },
    )


async def _hazard(
    session: AsyncSession,
    district: uuid.UUID,
    reporter: uuid.UUID,
    at: tuple[float, float],
    *,
    category: str = "fire",
    status: str = "reported",
    age_days: int = 0,
) -> uuid.UUID:
    hid = new_id()
    await session.execute(
        sa.text(
            """
            INSERT INTO hazards (id, category, description, location, district_id,
                                 media_ids, reporter_id, status, reported_at)
            VALUES (:id, :category, '电动车违规充电', ST_GeogFromText(:point), :district,
                    ARRAY[:photo]::uuid[], :reporter, :status, :at)
            """
        ),
        {
            "id": hid,
            "category": category,
            "point": f"SRID=4326;POINT({at[0]} {at[1]})",
            "district": district,
            "photo": uuid.uuid4(),
            "reporter": reporter,
            "status": status,
            "at": datetime.now(UTC) - timedelta(days=age_days),
        },
    )
    return hid


async def test_nearby_finds_open_hazards_of_the_category_with_the_gist_index(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    tree = await make_org_tree(session_factory)
    x, y = tree.inside
    reporter = new_id()
    async with session_factory() as session:
        await session.execute(sa.insert(accounts).values(id=reporter, kind="resident"))
        await _seed(session, tree.district_id, reporter, (x, y))
        near = await _hazard(session, tree.district_id, reporter, (x + 0.0003, y))  # ~28 m
        await _hazard(session, tree.district_id, reporter, (x + 0.0008, y))  # ~76 m: outside
        await _hazard(session, tree.district_id, reporter, (x, y), category="traffic")
        await _hazard(session, tree.district_id, reporter, (x, y), status="closed")
        await _hazard(session, tree.district_id, reporter, (x, y), age_days=40)
        await session.commit()
        await session.execute(sa.text("ANALYZE hazards"))

    since = datetime.now(UTC) - timedelta(days=30)
    async with session_factory() as session:
        repo = SqlHazardRepository(session, system_scope(), indexer=None)  # type: ignore[arg-type]
        found = await repo.nearby(
            TopCategory.FIRE, GeoPoint(x, y), DuplicateRule(), since, limit=10
        )
        assert [f.id for f in found] == [near]
        assert found[0].distance_m == 30
        assert found[0].photo_id is not None
        wider = await repo.nearby(
            TopCategory.FIRE, GeoPoint(x, y), DuplicateRule(radius_m=100), since, limit=10
        )
        assert len(wider) == 2
        assert wider[0].id == near
        longer = await repo.nearby(
            TopCategory.FIRE,
            GeoPoint(x, y),
            DuplicateRule(),
            datetime.now(UTC) - timedelta(days=60),
            limit=10,
        )
        assert len(longer) == 2  # the 40-day-old one joins with a longer window

        args = nearby_args(TopCategory.FIRE, GeoPoint(x, y), DuplicateRule(), since)
        plan = await raw.fetch(session, "EXPLAIN " + nearby_sql(10), *args)
        text = "\n".join(row[0] for row in plan)
    assert "ix_hazards_location" in text, text


async def test_placed_nearby_reads_the_placement_and_the_duplicates_in_one_statement(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    """The report's read: where the point belongs (as the locator says) and the open
    hazards near it, nearest first, in one round trip; no unit covering the point gives no
    placement (the caller asks the locator) but still the hazards near it."""
    tree = await make_org_tree(session_factory)
    x, y = tree.inside
    far = (100.0 + (x % 0.01), 40.0)  # the Gobi: no unit of any test covers it
    reporter = new_id()
    async with session_factory() as session:
        await session.execute(sa.insert(accounts).values(id=reporter, kind="resident"))
        second = await _hazard(session, tree.district_id, reporter, (x + 0.0004, y))  # ~38 m
        first = await _hazard(session, tree.district_id, reporter, (x + 0.0001, y))  # ~9 m
        await _hazard(session, tree.district_id, reporter, (x, y), status="closed")
        lone = await _hazard(session, tree.district_id, reporter, (far[0] + 0.0002, far[1]))
        await session.commit()

    reader = SqlNearbyHazards(session_factory)
    since = datetime.now(UTC) - timedelta(days=30)
    seen: list[str] = []
    raw.observers.append(seen.append)
    try:
        placement, found = await reader.placed_nearby(
            TopCategory.FIRE, GeoPoint(x, y), DuplicateRule(), since, limit=10
        )
    finally:
        raw.observers.remove(seen.append)
    assert len(seen) == 1  # one statement
    assert placement == await SqlJurisdictionLocator(session_factory).locate(GeoPoint(x, y))
    assert placement is not None
    assert placement.grid_id == tree.grid_id
    assert [f.id for f in found] == [first, second]
    assert [f.distance_m for f in found] == [10, 40]

    placement, found = await reader.placed_nearby(
        TopCategory.TRAFFIC, GeoPoint(x, y), DuplicateRule(), since, limit=10
    )
    assert placement is not None
    assert placement.station_id == tree.station_id
    assert found == []  # no row of the other category: the placement still comes back

    placement, found = await reader.placed_nearby(
        TopCategory.FIRE, GeoPoint(*far), DuplicateRule(), since, limit=10
    )
    assert placement is None
    assert [f.id for f in found] == [lone]

    _, found = await reader.placed_nearby(
        TopCategory.FIRE, GeoPoint(x, y), DuplicateRule(), since, limit=1
    )
    assert [f.id for f in found] == [first]
