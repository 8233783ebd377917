"""WeChat Pay transfer callbacks (回调通知) through the app: signed with a test platform
key, the resource encrypted with AES-256-GCM under the APIv3 key. A valid SUCCESS pays a
reward left unknown exactly once, FAIL fails it, and anything unsigned, re-signed, stale
or undecryptable is refused with a FAIL body and changes nothing."""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import secrets
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import NameOID
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from support.auth import auth, officer_token, resident_token
from support.org import OrgTree, make_org_tree
from support.points import drain, valid_tip
from support.tips import account_id

from app.domain.rewards.model import PayoutResult, PayoutStatus, payout_numbers
from app.domain.rewards.ports import Payee, PaymentNotifications, PayoutRequest
from app.domain.rewards.services import PayoutService, reward_id_of_batch
from app.infra.db.tables.platform import audit_log, outbox
from app.infra.db.tables.rewards import rewards
from app.infra.payments.wechatpay import WeChatPayGateway
from app.infra.payments.wechatpay_notify import WeChatPayNotifications, notice_of
from app.settings import Env, PaymentAdapter, Settings

PLATFORM = rsa.generate_private_key(public_exponent=65537, key_size=2048)
APIV3_KEY = b"0123456789abcdefghijklmnopqrstuv"  # 32 bytes
OPENID = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
NOTIFY = "/api/v1/payments/wechatpay/notify"


def _certificate(key: rsa.RSAPrivateKey) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Tenpay.com Root CA")])
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )


CERT = _certificate(PLATFORM)
CERT_PEM = CERT.public_bytes(serialization.Encoding.PEM)
SERIAL = format(CERT.serial_number, "X")


def callback(
    resource: dict[str, Any],
    *,
    key: rsa.RSAPrivateKey = PLATFORM,
    apiv3_key: bytes = APIV3_KEY,
    serial: str = SERIAL,
    age_s: int = 0,
) -> tuple[dict[str, str], bytes]:
    """Headers and body of a callback as WeChat Pay sends it."""
    gcm_nonce = secrets.token_hex(6)  # 12 characters, used as bytes
    associated = "mch_payment"
    ciphertext = AESGCM(apiv3_key).encrypt(
        gcm_nonce.encode(), json.dumps(resource).encode(), associated.encode()
    )
    body = json.dumps(
        {
            "id": str(uuid.uuid4()),
            "create_time": "2026-11-22T16:00:00+08:00",
            "resource_type": "encrypt-resource",
            "event_type": "MCHTRANSFER.BATCH.FINISHED",
            "summary": "商家转账批次完成通知",
            "resource": {
                "original_type": "mch_payment",
                "algorithm": "AEAD_AES_256_GCM",
                "ciphertext": base64.b64encode(ciphertext).decode(),
                "associated_data": associated,
                "nonce": gcm_nonce,
            },
        },
        ensure_ascii=False,
    )
    timestamp, nonce = str(int(time.time()) - age_s), secrets.token_hex(16)
    signature = key.sign(
        f"{timestamp}\n{nonce}\n{body}\n".encode(), padding.PKCS1v15(), hashes.SHA256()
    )
    headers = {
        "Content-Type": "application/json",
        "Wechatpay-Timestamp": timestamp,
        "Wechatpay-Nonce": nonce,
        "Wechatpay-Signature": base64.b64encode(signature).decode(),
        "Wechatpay-Serial": serial,
    }
    return headers, body.encode()


def detail_result(reward: dict[str, Any], status: str, **extra: Any) -> dict[str, Any]:
    batch, detail = payout_numbers(uuid.UUID(reward["id"]))
    return {
        "mchid": "1900000109",
        "out_batch_no": batch,
        "batch_id": "1030000071100999991182020050700019480001",
        "out_detail_no": detail,
        "detail_id": "1040000071100999991182020050700019500100",
        "detail_status": status,
        "transfer_amount": reward["amount_fen"],
        "openid": OPENID,
        **extra,
    }


class SilentGateway:
    """The provider never answers: every payout is left ``unknown``."""

    async def transfer(self, request: PayoutRequest) -> PayoutResult:
        return PayoutResult(PayoutStatus.UNKNOWN, failure="transport")

    async def query(self, request: PayoutRequest) -> PayoutResult:
        return PayoutResult(PayoutStatus.UNKNOWN, failure="transport")


@pytest.fixture
async def tree(app: Any) -> OrgTree:
    return await make_org_tree(app)


@pytest.fixture
def notifications(app: Any) -> Iterator[WeChatPayNotifications]:
    """The app as configured for WeChat Pay: callbacks verified, payouts never answered."""
    services = app.state.services
    payouts = services.get(PayoutService)
    original = payouts.gateway
    payouts.gateway = SilentGateway()
    notifier = WeChatPayNotifications(platform_cert_pem=CERT_PEM, apiv3_key=APIV3_KEY)
    services.register(PaymentNotifications, notifier)
    try:
        yield notifier
    finally:
        payouts.gateway = original
        services._items.pop(PaymentNotifications, None)


async def unknown_reward(
    client: httpx.AsyncClient, app: Any, settings: Settings, tree: OrgTree
) -> tuple[dict[str, Any], str, str]:
    """An approved reward whose payout answer was lost: (reward, admin, reporter)."""
    officer = await officer_token(client, app, unit_code=tree.station_code)
    admin = await officer_token(client, app, unit_code=tree.station_code, role="station_admin")
    reporter, _ = await resident_token(client, settings)
    reporter_id = await account_id(client, reporter)
    tid = await valid_tip(client, officer, reporter, tree)
    await drain(app)
    body = {"source_type": "tip", "source_id": tid, "account_id": reporter_id}
    r = await client.post(
        "/api/v1/rewards",
        json={**body, "outcome": "tip_valid", "grade": "C"},
        headers=auth(officer),
    )
    assert r.status_code == 201, r.text
    reward = dict(r.json())
    approved = await client.post(f"/api/v1/rewards/{reward['id']}/approve", headers=auth(admin))
    assert approved.json()["status"] == "approved", approved.text
    await drain(app)
    seen = await client.get(f"/api/v1/rewards/{reward['id']}", headers=auth(admin))
    assert seen.json()["status"] == "unknown"
    return dict(seen.json()), admin, reporter


async def current(client: httpx.AsyncClient, admin: str, reward: dict[str, Any]) -> dict[str, Any]:
    r = await client.get(f"/api/v1/rewards/{reward['id']}", headers=auth(admin))
    assert r.status_code == 200, r.text
    return dict(r.json())


async def events(
    session_factory: async_sessionmaker[AsyncSession], reward: dict[str, Any], name: str
) -> int:
    async with session_factory() as s:
        query = sa.select(sa.func.count()).where(
            outbox.c.aggregate_id == uuid.UUID(reward["id"]), outbox.c.event_type == name
        )
        return int((await s.execute(query)).scalar_one())


async def test_without_wechatpay_the_callback_path_is_404(client: httpx.AsyncClient) -> None:
    headers, body = callback({"out_batch_no": "swb1", "detail_status": "SUCCESS"})
    r = await client.post(NOTIFY, content=body, headers=headers)
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "payments.notify_not_configured"


async def test_success_pays_once_and_repeats_change_nothing(
    client: httpx.AsyncClient,
    app: Any,
    settings: Settings,
    tree: OrgTree,
    notifications: WeChatPayNotifications,
    session_factory: async_sessionmaker[AsyncSession],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    reward, admin, reporter = await unknown_reward(client, app, settings, tree)
    headers, body = callback(detail_result(reward, "SUCCESS"))

    first = await client.post(NOTIFY, content=body, headers=headers)
    assert first.status_code == 204, first.text
    assert first.content == b""
    paid = await current(client, admin, reward)
    assert paid["status"] == "paid"
    assert paid["paid_at"]

    again = await client.post(NOTIFY, content=body, headers=headers)  # WeChat Pay repeats
    assert again.status_code == 204
    batch_headers, batch_body = callback(
        {
            "out_batch_no": payout_numbers(uuid.UUID(reward["id"]))[0],
            "batch_id": "1030000071100999991182020050700019480001",
            "batch_status": "FINISHED",
            "total_num": 1,
            "success_num": 1,
            "fail_num": 0,
        }
    )
    assert (await client.post(NOTIFY, content=batch_body, headers=batch_headers)).status_code == 204
    assert (await current(client, admin, reward))["version"] == paid["version"]
    assert await events(session_factory, reward, "reward.paid") == 1
    notes = await client.get("/api/v1/me/notifications", headers=auth(reporter))
    [note] = [n for n in notes.json()["items"] if n["kind"] == "reward.paid"]
    assert note["title"] == "奖励已发放"
    async with session_factory() as s:
        audits = (
            await s.execute(
                sa.select(audit_log.c.detail).where(
                    audit_log.c.record_id == uuid.UUID(reward["id"]),
                    audit_log.c.action == "reward.payout_paid",
                )
            )
        ).all()
    assert [a.detail for a in audits] == [{"via": "callback"}]
    assert OPENID not in caplog.text  # the decrypted payload is never logged


async def test_fail_fails_the_reward_and_a_later_success_changes_nothing(
    client: httpx.AsyncClient,
    app: Any,
    settings: Settings,
    tree: OrgTree,
    notifications: WeChatPayNotifications,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    reward, admin, _ = await unknown_reward(client, app, settings, tree)
    processing = callback(detail_result(reward, "PROCESSING"))
    assert (
        await client.post(NOTIFY, content=processing[1], headers=processing[0])
    ).status_code == 204
    assert (await current(client, admin, reward))["status"] == "unknown"  # not final yet

    headers, body = callback(detail_result(reward, "FAIL", fail_reason="ACCOUNT_FROZEN"))
    assert (await client.post(NOTIFY, content=body, headers=headers)).status_code == 204
    failed = await current(client, admin, reward)
    assert failed["status"] == "failed"
    async with session_factory() as s:
        failure = (
            await s.execute(
                sa.select(rewards.c.failure).where(rewards.c.id == uuid.UUID(reward["id"]))
            )
        ).scalar_one()
    assert failure == "ACCOUNT_FROZEN"

    late = callback(detail_result(reward, "SUCCESS"))
    assert (await client.post(NOTIFY, content=late[1], headers=late[0])).status_code == 204
    assert (await current(client, admin, reward))["version"] == failed["version"]
    assert await events(session_factory, reward, "reward.paid") == 0


async def test_untrusted_callbacks_are_refused_and_change_nothing(
    client: httpx.AsyncClient,
    app: Any,
    settings: Settings,
    tree: OrgTree,
    notifications: WeChatPayNotifications,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    reward, admin, _ = await unknown_reward(client, app, settings, tree)
    success = detail_result(reward, "SUCCESS")
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def tampered() -> tuple[dict[str, str], bytes]:
        headers, body = callback(success)
        return headers, body.replace(b"MCHTRANSFER", b"MCHTRANSFEX")

    def unsigned() -> tuple[dict[str, str], bytes]:
        headers, body = callback(success)
        del headers["Wechatpay-Signature"]
        return headers, body

    refusals = [
        (callback(success, key=stranger), 401, "bad_signature"),
        (tampered(), 401, "bad_signature"),
        (unsigned(), 401, "missing_signature"),
        (
            callback(success, serial="5157F09EFDC096DE15EBE81A47057A7232F1B8E1"),
            401,
            "unknown_serial",
        ),
        (callback(success, age_s=301 + 60), 401, "stale_timestamp"),  # replayed
        (callback(success, age_s=-400), 401, "stale_timestamp"),  # from the future
        (callback(success, apiv3_key=b"x" * 32), 400, "decrypt_failed"),  # signed, wrong key
    ]
    for (headers, body), status, reason in refusals:
        r = await client.post(NOTIFY, content=body, headers=headers)
        assert r.status_code == status, (reason, r.text)
        assert r.json() == {"code": "FAIL", "message": reason}
    seen = await current(client, admin, reward)
    assert (seen["status"], seen["version"]) == ("unknown", reward["version"])
    assert await events(session_factory, reward, "reward.paid") == 0


async def test_callbacks_about_no_reward_of_ours_are_acknowledged(
    client: httpx.AsyncClient, notifications: WeChatPayNotifications
) -> None:
    batch, detail = payout_numbers(uuid.uuid4())  # well-formed, no such reward
    for resource in (
        {"out_batch_no": batch, "out_detail_no": detail, "detail_status": "SUCCESS"},
        {"out_batch_no": "plfk2020042013", "detail_status": "SUCCESS"},  # not our numbering
        {"mchid": "1900000109", "summary": "其他通知"},  # not a transfer result
    ):
        headers, body = callback(resource)
        r = await client.post(NOTIFY, content=body, headers=headers)
        assert r.status_code == 204, r.text


def test_batch_numbers_map_back_to_the_reward() -> None:
    reward_id = uuid.uuid4()
    batch, _ = payout_numbers(reward_id)
    assert reward_id_of_batch(batch) == reward_id
    for other in ("", "swb", "plfk2020042013", "swb-1", "swb" + "z" * 26, "swb²"):
        assert reward_id_of_batch(other) is None


def test_production_wechatpay_needs_a_32_byte_apiv3_key(tmp_path: Path) -> None:
    key, cert = tmp_path / "apiclient_key.pem", tmp_path / "platform.pem"
    key.write_bytes(b"-"), cert.write_bytes(CERT_PEM)
    production: dict[str, Any] = {
        "_env_file": None,
        "env": Env.PRODUCTION,
        "payment_adapter": PaymentAdapter.WECHATPAY,
        "wechatpay_mchid": "1900000109",
        "wechatpay_appid": "wxd678efh567hg6787",
        "wechatpay_serial_no": "3775B6A45ACD588826D15E583A95F5DD12345678",
        "wechatpay_private_key_path": key,
        "wechatpay_platform_cert_path": cert,
    }
    with pytest.raises(ValueError, match="APIv3 key"):
        Settings(**production)
    with pytest.raises(ValueError) as refused:  # other development settings still refused
        Settings(**production, wechatpay_apiv3_key=APIV3_KEY.decode())
    assert "APIv3" not in str(refused.value)
    with pytest.raises(ValueError, match="32 bytes"):
        Settings(**{"_env_file": None, "env": Env.TEST, "wechatpay_apiv3_key": "too-short"})
    with pytest.raises(ValueError, match="32 bytes"):
        WeChatPayNotifications(platform_cert_pem=CERT_PEM, apiv3_key=b"short")
    with pytest.raises(ValueError, match="NOTIFY_URL"):
        Settings(**{"_env_file": None, "wechatpay_notify_url": "http://api.example/notify"})


async def test_transfers_name_the_callback_url() -> None:
    sent: list[dict[str, Any]] = []

    def provider(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(500)

    merchant = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = merchant.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    batch, detail = payout_numbers(uuid.uuid4())
    wanted = PayoutRequest(batch, detail, Payee(uuid.uuid4(), OPENID), 500, "守望志愿者奖励")
    for notify_url in ("https://api.shouwang.example/api/v1/payments/wechatpay/notify", ""):
        gateway = WeChatPayGateway(
            base_url="https://api.mch.weixin.qq.com",
            mchid="1900000109",
            appid="wxd678efh567hg6787",
            serial_no="3775B6A45ACD588826D15E583A95F5DD12345678",
            private_key_pem=pem,
            platform_cert_pem=CERT_PEM,
            notify_url=notify_url,
            transport=httpx.MockTransport(provider),
        )
        assert (await gateway.transfer(wanted)).status == PayoutStatus.UNKNOWN
    assert sent[0]["notify_url"] == "https://api.shouwang.example/api/v1/payments/wechatpay/notify"
    assert "notify_url" not in sent[1]


@pytest.mark.parametrize(
    ("resource", "status", "failure"),
    [
        ({"batch_status": "FINISHED", "success_num": 1, "fail_num": 0}, "succeeded", None),
        ({"batch_status": "FINISHED", "success_num": 0, "fail_num": 1}, "failed", "detail_failed"),
        ({"batch_status": "CLOSED", "close_reason": "OVERDUE_CLOSE"}, "failed", "OVERDUE_CLOSE"),
        ({"batch_status": "SUCCESS"}, "succeeded", None),
        ({"batch_status": "FAIL"}, "failed", "FAIL"),
        ({"batch_status": "PROCESSING"}, "unknown", None),
        ({"detail_status": "INIT", "out_detail_no": "swd1"}, "unknown", None),
        ({"detail_status": "FAIL", "out_detail_no": "swd1"}, "failed", "FAIL"),
    ],
)
def test_transfer_results_map_to_payout_outcomes(
    resource: dict[str, Any], status: str, failure: str | None
) -> None:
    notice = notice_of({"out_batch_no": "swb1", **resource})
    assert notice is not None
    assert (notice.out_batch_no, notice.result.status.value) == ("swb1", status)
    assert notice.result.failure == failure
    assert notice_of({"out_bill_no": "x", "state": "SUCCESS"}) is None  # another product
