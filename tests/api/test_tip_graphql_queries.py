"""The officer console's GraphQL queue: the number of SQL statements does not grow with
the page size (station, grid and media come from per-request batches, the latest feedback
from one history query for the page), and the depth and page-size limits hold."""

from __future__ import annotations

import io
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from PIL import Image
from sqlalchemy import event
from support.auth import auth, officer_token, resident_token
from support.org import OrgTree, make_org_tree
from support.tips import DESCRIPTION, account_id, due_in, step, submit, tip_body

from app.bootstrap.platform import Platform
from app.domain.shared.geo import to_wgs84
from app.domain.shared.scope import Role, Scope
from app.domain.tips.model import Category, Urgency
from app.domain.tips.services import NewTip, TipService
from app.infra.db import raw
from app.main import create_app, platform_of
from app.settings import Settings

CONSOLE = """
query($first: Int!) {
  tips(first: $first) {
    pageInfo { hasNextPage }
    edges { node {
      id uuid category status urgency submittedAt overdue assigneeId
      station { name } grid { name }
      media { uuid kind url }
      feedback { template message }
      latestFeedback { template message at }
    } }
  }
}"""


@pytest.fixture(scope="module")
async def console_app(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Any]:
    app = create_app(settings.model_copy(update={"media_dir": tmp_path_factory.mktemp("tq")}))
    yield app
    await platform_of(app).aclose()


@pytest.fixture
async def c(console_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=console_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


def photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 40, 40)).save(out, "JPEG")
    return out.getvalue()


async def fill_queue(app: Any, c: httpx.AsyncClient, settings: Settings, tree: OrgTree) -> None:
    """52 tips in the station: 50 from as many (anonymous) residents, then two with photos
    through the API, so both pages measured below hold tips with media."""
    service = app.state.services.get(TipService)
    lon, lat = tree.inside
    for _ in range(50):
        reporter = Scope(account_id=uuid.uuid4(), roles=frozenset({Role.RESIDENT}))
        new = NewTip(
            category=Category.THEFT,
            description=DESCRIPTION,
            location=to_wgs84(lon, lat, "wgs84"),
            urgency=Urgency.NORMAL,
            anonymous=True,
        )
        await service.submit(reporter, new)
    resident, _ = await resident_token(c, settings)
    for _ in range(2):
        files = {"file": ("现场.jpg", photo(), "image/jpeg")}
        r = await c.post("/api/v1/media", files=files, headers=auth(resident))
        assert r.status_code == 201, r.text
        await submit(c, resident, tip_body(tree, media_ids=[r.json()["id"]]))


async def console(c: httpx.AsyncClient, token: str, first: int) -> dict[str, Any]:
    r = await c.post(
        "/graphql",
        json={"query": CONSOLE, "variables": {"first": first}},
        headers=auth(token),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert "errors" not in body, body
    return dict(body["data"]["tips"])


async def test_console_query_statements_do_not_grow_with_page_size(
    console_app: Any, c: httpx.AsyncClient, settings: Settings
) -> None:
    tree = await make_org_tree(console_app)
    await fill_queue(console_app, c, settings, tree)
    officer = await officer_token(c, console_app, unit_code=tree.station_code)
    # The two newest tips (on both pages measured) get an outcome, so feedback to show.
    officer_id = await account_id(c, officer)
    newest = await console(c, officer, 2)
    for edge in newest["edges"]:
        tip_id = edge["node"]["uuid"]
        await step(c, officer, tip_id, "assign", {"officer_id": officer_id, "due_at": due_in()})
        await step(c, officer, tip_id, "verify")
        await step(c, officer, tip_id, "outcome", {"outcome": "valid"})

    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    engine = console_app.state.services.get(Platform).engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    raw.observers.append(statements.append)  # hot statements run on the driver connection
    try:
        small = await console(c, officer, 5)
        at_five = len(statements)
        statements.clear()
        large = await console(c, officer, 50)
        at_fifty = len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", count)
        raw.observers.remove(statements.append)

    assert len(small["edges"]) == 5
    assert len(large["edges"]) == 50
    assert large["pageInfo"]["hasNextPage"] is True
    for page in (small, large):
        nodes = [e["node"] for e in page["edges"]]
        assert len({n["station"]["name"] for n in nodes}) == 1
        assert len({n["grid"]["name"] for n in nodes}) == 1
        with_media = [n for n in nodes if n["media"]]
        assert len(with_media) == 2
        assert all(m["kind"] == "PHOTO" and m["url"] for n in with_media for m in n["media"])
        with_feedback = [n for n in nodes if n["latestFeedback"]]
        assert len(with_feedback) == 2
        assert all(n["latestFeedback"]["template"] == "valid" for n in with_feedback)
        assert all(n["latestFeedback"]["message"].startswith("感谢") for n in with_feedback)
        assert all(n["latestFeedback"]["at"] for n in with_feedback)
    assert at_fifty == at_five, (at_five, at_fifty)
    # The page with its feedback entries, media, org units: one each. (The session check
    # is answered by the principal cache after the first request.)
    assert at_fifty == 3, statements

    # Page size is clamped to what the services accept: at least one, at most MAX_PAGE.
    for first in (0, -5):
        one = await console(c, officer, first)
        assert len(one["edges"]) == 1
        assert one["pageInfo"]["hasNextPage"] is True
    everything = await console(c, officer, 10_000)
    assert len(everything["edges"]) == 52
    assert everything["pageInfo"]["hasNextPage"] is False


async def test_overly_deep_console_query_is_refused(client: httpx.AsyncClient, app: Any) -> None:
    tree = await make_org_tree(app)
    officer = await officer_token(client, app, unit_code=tree.station_code)
    nested = "name"
    for _ in range(12):
        nested = f"parent {{ {nested} }}"
    query = f"{{ tips(first: 1) {{ edges {{ node {{ station {{ {nested} }} }} }} }} }}"
    r = await client.post("/graphql", json={"query": query}, headers=auth(officer))
    assert r.status_code == 200, r.text
    [error] = r.json()["errors"]
    assert "exceeds maximum operation depth" in error["message"]
