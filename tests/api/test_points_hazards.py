"""``hazard.verified`` credits the reporters the district's merge policy names, through the
``HazardReporters`` port the hazards context provides (a fake here), once per event."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from support.auth import auth, officer_token, resident_token
from support.org import OrgTree, make_org_tree
from support.points import my_points
from support.tips import account_id

from app.domain.delivery.model import OutboxEvent
from app.domain.delivery.services import HandlerRegistry
from app.domain.points.model import Report
from app.domain.points.ports import HazardReporters, NoHazardReporters
from app.settings import Settings

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


class FakeHazards:
    def __init__(self) -> None:
        self.reports: dict[uuid.UUID, list[Report]] = {}

    async def reporters(self, hazard_id: uuid.UUID) -> list[Report]:
        return self.reports.get(hazard_id, [])

    async def locate(self, hazard_id: uuid.UUID) -> tuple[uuid.UUID | None, uuid.UUID] | None:
        return None


@pytest.fixture
async def tree(app: Any) -> OrgTree:
    return await make_org_tree(app)


@pytest.fixture
def hazards(app: Any) -> Iterator[FakeHazards]:
    services = app.state.services
    original = services.get_any(HazardReporters)
    fake = FakeHazards()
    services.register(HazardReporters, fake)
    try:
        yield fake
    finally:
        services.register(HazardReporters, original)


async def deliver(
    app: Any, hazard_id: uuid.UUID, tree: OrgTree, outcome: str, event_id: uuid.UUID
) -> None:
    event = OutboxEvent(
        0,
        event_id,
        "hazard.verified",
        "hazard",
        hazard_id,
        {
            "hazard_id": str(hazard_id),
            "station_id": str(tree.station_id),
            "district_id": str(tree.district_id),
            "category": "fire",
            "outcome": outcome,
        },
        T0,
        1,
    )
    handlers = app.state.services.get(HandlerRegistry).handlers_for("hazard.verified")
    [(name, handler)] = [(n, h) for n, h in handlers if n == "points.credit_hazard"]
    await handler(event, event.key(name))


async def test_verified_hazard_credits_by_merge_policy(
    client: httpx.AsyncClient, app: Any, settings: Settings, tree: OrgTree, hazards: FakeHazards
) -> None:
    first, _ = await resident_token(client, settings)
    second, _ = await resident_token(client, settings)
    first_id = uuid.UUID(await account_id(client, first))
    second_id = uuid.UUID(await account_id(client, second))
    merged = uuid.uuid4()
    hazards.reports[merged] = [
        Report(
            second_id, reported_at=T0 + timedelta(minutes=5), verified_at=T0 + timedelta(hours=1)
        ),
        Report(first_id, reported_at=T0, verified_at=T0 + timedelta(hours=2)),
        Report(None, reported_at=T0 - timedelta(minutes=1)),
    ]
    event_id = uuid.uuid4()
    await deliver(app, merged, tree, "real", event_id)
    await deliver(app, merged, tree, "real", event_id)  # redelivered: nothing more
    # first_verified (the default): the second reporter's report was verified first.
    assert (await my_points(client, second))["balance"] == 10
    assert (await my_points(client, first))["balance"] == 0

    admin = await officer_token(client, app, unit_code=tree.district_code, role="district_admin")
    r = await client.put(
        "/api/v1/points/rules/hazard_verified",
        json={"amount": 15, "merge_policy": "split"},
        headers=auth(admin),
    )
    assert r.status_code == 200, r.text
    split = uuid.uuid4()
    hazards.reports[split] = [
        Report(first_id, reported_at=T0),
        Report(second_id, reported_at=T0 + timedelta(minutes=1)),
    ]
    await deliver(app, split, tree, "real", uuid.uuid4())
    assert (await my_points(client, first))["balance"] == 8
    assert (await my_points(client, second))["balance"] == 17

    # Later found not to be a hazard: its credits are reversed.
    await deliver(app, split, tree, "not_hazard", uuid.uuid4())
    assert (await my_points(client, first))["balance"] == 0
    assert (await my_points(client, second))["balance"] == 10


async def test_no_hazard_reporters_until_the_hazards_context_provides_them() -> None:
    assert await NoHazardReporters().reporters(uuid.uuid4()) == []
    assert await NoHazardReporters().locate(uuid.uuid4()) is None
