"""GraphQL surface shared by every context: limits, masking, production hardening."""

from __future__ import annotations

import httpx
from unit.test_settings import SAFE_PRODUCTION

from app.main import create_app
from app.settings import Settings


async def _gql(client: httpx.AsyncClient, query: str) -> dict[str, object]:
    r = await client.post("/graphql", json={"query": query})
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def test_simple_query(client: httpx.AsyncClient) -> None:
    assert (await _gql(client, "{ apiVersion }"))["data"] == {"apiVersion": "1"}


async def test_alias_flood_is_refused(client: httpx.AsyncClient) -> None:
    aliases = " ".join(f"a{i}: apiVersion" for i in range(40))
    body = await _gql(client, "{ " + aliases + " }")
    assert body.get("data") is None
    assert "aliases" in str(body["errors"]).lower()


async def test_token_flood_is_refused(client: httpx.AsyncClient) -> None:
    fields = " ".join("apiVersion" for _ in range(2500))
    body = await _gql(client, "{ " + fields + " }")
    assert body.get("data") is None
    assert body["errors"]


async def test_node_with_garbage_id_reveals_nothing(client: httpx.AsyncClient) -> None:
    body = await _gql(client, '{ node(id: "bm90LWEtbm9kZQ==") { id } }')
    assert body.get("data") in (None, {"node": None})
    text = str(body).lower()
    assert "traceback" not in text
    assert "sqlalchemy" not in text


async def test_production_disables_introspection_and_docs() -> None:
    app = create_app(Settings(_env_file=None, **SAFE_PRODUCTION))  # type: ignore[arg-type]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        r = await c.post("/graphql", json={"query": "{ __schema { types { name } } }"})
        assert r.status_code == 200
        assert r.json().get("data") is None
        assert (await c.get("/docs")).status_code == 404
        assert (await c.get("/graphql")).status_code != 200  # no GraphiQL page


async def test_malformed_global_id_is_a_client_error_not_unexpected(
    client: httpx.AsyncClient,
) -> None:
    body = await _gql(client, '{ node(id: "") { id } }')
    errors = body["errors"]
    assert isinstance(errors, list)
    assert errors[0]["extensions"]["code"] == "graphql.invalid_input"
    assert errors[0]["message"] != "Unexpected error."
