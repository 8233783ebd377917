"""NUL characters (which PostgreSQL cannot store) are refused with a 422 problem at the
door, for query strings, JSON bodies and GraphQL variables, and change nothing."""

from __future__ import annotations

import httpx


async def test_nul_in_query_string_is_422(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/volunteers?q=%E5%BC%A0%00x", headers={"Accept-Language": "en"})
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "invalid_characters"


async def test_nul_in_json_body_is_422(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/api/v1/auth/login",
        content='{"username": "ht.officer\\u0000", "password": "x"}',
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_characters"
    assert r.json()["detail"].startswith("请求中含有")


async def test_nul_in_graphql_variables_is_422(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/graphql",
        json={
            "query": "mutation($p: String!) { requestOtp(phone: $p) { __typename } }",
            "variables": {"p": "1390000\x000000"},
        },
    )
    assert r.status_code == 422


async def test_escaped_backslash_before_u0000_is_not_a_nul(client: httpx.AsyncClient) -> None:
    # The JSON text \\u0000 is a backslash followed by "u0000": ordinary characters.
    r = await client.post(
        "/api/v1/auth/login",
        content='{"username": "a\\\\u0000b", "password": "not-the-password"}',
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 401


async def test_lone_surrogate_in_json_is_422(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/api/v1/auth/login",
        content='{"username": "\\ud800abc", "password": "x"}',
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_characters"


async def test_paired_surrogates_are_ordinary_text(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/api/v1/auth/login",
        content='{"username": "\\ud83d\\ude00 officer", "password": "not-the-password"}',
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 401
