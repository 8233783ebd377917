"""Access-token codec (PyJWT, HS256 only), Argon2id hashing and the dev WeChat adapter."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from argon2 import PasswordHasher as Argon2Hasher
from argon2 import Type
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from app.domain.identity.errors import AccessTokenInvalid
from app.domain.identity.gateways import WeChatCodeInvalid
from app.infra.auth.passwords import Argon2PasswordHasher
from app.infra.auth.tokens import JwtAccessTokens
from app.infra.wechat.dev import DevWeChatAuth

SECRET = "unit-test-secret-0123456789abcdef-0123"
NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
ACCOUNT = uuid.uuid4()
SESSION = uuid.uuid4()


def _codec(**overrides: object) -> JwtAccessTokens:
    params: dict[str, object] = {
        "secret": SECRET,
        "issuer": "shouwang",
        "audience": "shouwang-api",
        "ttl_seconds": 600,
    }
    params.update(overrides)
    return JwtAccessTokens(**params)  # type: ignore[arg-type]


def _claims(**overrides: object) -> dict[str, object]:
    issued = int(NOW.timestamp())
    claims: dict[str, object] = {
        "iss": "shouwang",
        "aud": "shouwang-api",
        "sub": str(ACCOUNT),
        "sid": str(SESSION),
        "jti": "j1",
        "iat": issued,
        "exp": issued + 600,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def test_round_trip_carries_account_session_and_expiry() -> None:
    codec = _codec()
    token = codec.issue(ACCOUNT, SESSION, NOW)
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "HS256"
    payload = jwt.decode(token, options={"verify_signature": False})
    assert set(payload) == {"iss", "aud", "sub", "sid", "jti", "iat", "exp"}
    assert payload["exp"] - payload["iat"] == 600
    claims = codec.decode(token, NOW + timedelta(minutes=9))
    assert (claims.account_id, claims.session_id) == (ACCOUNT, SESSION)
    assert claims.expires_at == NOW + timedelta(minutes=10)
    assert codec.issue(ACCOUNT, SESSION, NOW) != token  # fresh jti each time


def test_expired_token_is_refused_after_the_leeway() -> None:
    codec = _codec()
    token = codec.issue(ACCOUNT, SESSION, NOW)
    codec.decode(token, NOW + timedelta(minutes=10, seconds=5))
    with pytest.raises(AccessTokenInvalid):
        codec.decode(token, NOW + timedelta(minutes=10, seconds=11))


def test_token_from_the_future_is_refused() -> None:
    token = _codec().issue(ACCOUNT, SESSION, NOW + timedelta(minutes=5))
    with pytest.raises(AccessTokenInvalid):
        _codec().decode(token, NOW)


def test_alg_none_is_refused() -> None:
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    body = _b64(json.dumps(_claims()).encode())
    with pytest.raises(AccessTokenInvalid):
        _codec().decode(f"{header}.{body}.", NOW)


def test_rs256_token_is_refused_even_signed_with_a_real_key() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    token = jwt.encode(_claims(), pem, algorithm="RS256")
    with pytest.raises(AccessTokenInvalid):
        _codec().decode(token, NOW)


def test_hs256_with_another_secret_is_refused() -> None:
    token = jwt.encode(_claims(), "another-secret-0123456789abcdef-xyz", algorithm="HS256")
    with pytest.raises(AccessTokenInvalid):
        _codec().decode(token, NOW)


@pytest.mark.parametrize(
    "claims",
    [
        _claims(aud="someone-else"),
        _claims(iss="evil"),
        _claims(sid=None),
        _claims(jti=None),
        _claims(sub="not-a-uuid"),
        _claims(exp=int(NOW.timestamp()) + 3600),  # longer than 15 minutes
    ],
)
def test_wrong_or_missing_claims_are_refused(claims: dict[str, object]) -> None:
    token = jwt.encode(claims, SECRET, algorithm="HS256")
    with pytest.raises(AccessTokenInvalid):
        _codec().decode(token, NOW)


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "Bearer x.y.z"])
def test_garbage_is_refused(garbage: str) -> None:
    with pytest.raises(AccessTokenInvalid):
        _codec().decode(garbage, NOW)


def test_codec_refuses_long_lived_tokens_and_short_secrets() -> None:
    with pytest.raises(ValueError, match="15 minutes"):
        _codec(ttl_seconds=901)
    with pytest.raises(ValueError, match="32"):
        _codec(secret="short")


# --- Argon2id ------------------------------------------------------------------------------

CHEAP = Argon2Hasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)


async def test_argon2id_hash_verify_and_format() -> None:
    hasher = Argon2PasswordHasher(CHEAP)
    hashed = await hasher.hash("Correct-Horse-9-battery")
    assert hashed.startswith("$argon2id$")
    assert await hasher.verify(hashed, "Correct-Horse-9-battery")
    assert not await hasher.verify(hashed, "Correct-Horse-9-batterY")
    assert not await hasher.verify("not a hash", "Correct-Horse-9-battery")
    assert not hasher.needs_rehash(hashed)


async def test_rehash_needed_when_parameters_change() -> None:
    old = await Argon2PasswordHasher(CHEAP).hash("Correct-Horse-9-battery")
    stronger = Argon2PasswordHasher(Argon2Hasher(time_cost=2, memory_cost=8 * 1024, parallelism=1))
    assert stronger.needs_rehash(old)
    assert await stronger.verify(old, "Correct-Horse-9-battery")
    assert stronger.needs_rehash("garbage")


async def test_dummy_verify_runs_a_real_verification() -> None:
    hasher = Argon2PasswordHasher(CHEAP)
    await hasher.dummy_verify("anything")
    assert hasher._dummy is not None
    assert hasher._dummy.startswith("$argon2id$")


def test_only_argon2id_is_accepted() -> None:
    with pytest.raises(ValueError, match="Argon2id"):
        Argon2PasswordHasher(Argon2Hasher(type=Type.I))


# --- dev WeChat ----------------------------------------------------------------------------


async def test_dev_wechat_is_stable_per_code() -> None:
    dev = DevWeChatAuth()
    a = await dev.exchange_code("code-a")
    assert a == await dev.exchange_code("code-a")
    assert a.openid != (await dev.exchange_code("code-b")).openid
    assert a.openid.startswith("dev-")
    assert a.unionid is None
    with pytest.raises(WeChatCodeInvalid):
        await dev.exchange_code("")
