"""SMS adapters: the development outbox, and Tencent Cloud SendSms against a loopback fake."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
from fakes.server import run_asgi_app, unused_base_url
from fakes.tencent_sms import (
    TEST_SDK_APP_ID,
    TEST_SECRET_ID,
    TEST_SECRET_KEY,
    FakeTencentSms,
)

from app.domain.identity.gateways import SmsDeliveryFailed
from app.infra.sms.dev import DevSmsSender
from app.infra.sms.tencent import TencentSmsSender

PHONE = "13800138000"
OTP = "482913"


def _assert_no_personal_data(caplog: pytest.LogCaptureFixture) -> None:
    for record in caplog.records:
        text = record.getMessage()
        assert PHONE not in text, text
        assert OTP not in text, text
        assert TEST_SECRET_KEY not in text, text


# --- development outbox ------------------------------------------------------------------


async def test_dev_sender_appends_exact_json_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    outbox = tmp_path / "var" / "dev" / "sms-outbox.jsonl"
    at = datetime(2026, 11, 22, 16, 0, tzinfo=timezone(timedelta(hours=8)))
    sender = DevSmsSender(outbox, now=lambda: at)

    with caplog.at_level(logging.DEBUG):
        await sender.send_otp("13800138000", "123456", 5)
        await sender.send_otp("13900139000", "654321", 10)

    assert outbox.read_text(encoding="utf-8").splitlines() == [
        '{"to": "13800138000", "text": "【守望】您的验证码为123456，5分钟内有效。'
        '请勿泄露给他人。", "sent_at": "2026-11-22T08:00:00Z"}',
        '{"to": "13900139000", "text": "【守望】您的验证码为654321，10分钟内有效。'
        '请勿泄露给他人。", "sent_at": "2026-11-22T08:00:00Z"}',
    ]
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("app.")]
    assert messages == [f"dev sms written to {outbox}"] * 2
    assert all(r.levelno == logging.INFO for r in caplog.records if r.name.startswith("app."))


async def test_dev_sender_concurrent_writes_stay_whole_lines(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox.jsonl"
    sender = DevSmsSender(outbox)
    sends = [sender.send_otp(f"138{i:08d}", f"{i:06d}", 5) for i in range(200)]

    await asyncio.gather(*sends)

    lines = outbox.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 200
    records = [json.loads(line) for line in lines]
    assert {r["to"] for r in records} == {f"138{i:08d}" for i in range(200)}
    for record in records:
        assert set(record) == {"to", "text", "sent_at"}
        code = f"{int(record['to'][3:]):06d}"
        assert record["text"] == f"【守望】您的验证码为{code}，5分钟内有效。请勿泄露给他人。"
        assert datetime.strptime(record["sent_at"], "%Y-%m-%dT%H:%M:%SZ")


# --- Tencent Cloud SendSms -----------------------------------------------------------------


@pytest.fixture(scope="module")
def tencent_fake() -> Iterator[tuple[FakeTencentSms, str]]:
    fake = FakeTencentSms()
    with run_asgi_app(fake.app) as base_url:
        yield fake, base_url


@pytest.fixture
def fake(tencent_fake: tuple[FakeTencentSms, str]) -> FakeTencentSms:
    tencent_fake[0].reset()
    return tencent_fake[0]


@pytest.fixture
def endpoint(tencent_fake: tuple[FakeTencentSms, str]) -> str:
    return tencent_fake[1]


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5.0) as client:
        yield client


def _sender(
    http: httpx.AsyncClient,
    endpoint: str,
    *,
    secret_key: str = TEST_SECRET_KEY,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> TencentSmsSender:
    return TencentSmsSender(
        http,
        secret_id=TEST_SECRET_ID,
        secret_key=secret_key,
        sdk_app_id=TEST_SDK_APP_ID,
        sign_name="守望",
        template_id="2000001",
        endpoint=endpoint,
        now=now,
    )


async def test_tencent_sends_signed_request(
    http: httpx.AsyncClient,
    fake: FakeTencentSms,
    endpoint: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.DEBUG):
        await _sender(http, endpoint).send_otp(PHONE, OTP, 5)

    # The fake only records a message after verifying the TC3-HMAC-SHA256 signature.
    assert fake.errors == []
    assert len(fake.received) == 1
    sms = fake.received[0]
    assert sms.phone_numbers == ["+86" + PHONE]
    assert sms.template_params == [OTP, "5"]
    assert sms.sign_name == "守望"
    assert sms.template_id == "2000001"
    assert sms.sdk_app_id == TEST_SDK_APP_ID
    assert sms.region == "ap-guangzhou"
    _assert_no_personal_data(caplog)


async def test_tencent_wrong_secret_is_rejected_by_signature_check(
    http: httpx.AsyncClient, fake: FakeTencentSms, endpoint: str
) -> None:
    sender = _sender(http, endpoint, secret_key="not-the-right-key-0000000000000")

    with pytest.raises(SmsDeliveryFailed) as raised:
        await sender.send_otp(PHONE, OTP, 5)

    assert raised.value.code == "sms.delivery_failed"
    assert fake.errors == ["AuthFailure.SignatureFailure"]
    assert fake.received == []


async def test_tencent_stale_timestamp_is_rejected(
    http: httpx.AsyncClient, fake: FakeTencentSms, endpoint: str
) -> None:
    sender = _sender(http, endpoint, now=lambda: datetime.now(UTC) - timedelta(minutes=10))

    with pytest.raises(SmsDeliveryFailed):
        await sender.send_otp(PHONE, OTP, 5)

    assert fake.errors == ["AuthFailure.SignatureExpire"]


@pytest.mark.parametrize(
    ("status_code", "message"),
    [
        (
            "FailedOperation.SignatureIncorrectOrUnapproved",
            "the signature is incorrect or not approved",
        ),
        (
            "LimitExceeded.PhoneNumberDailyLimit",
            "the number of SMS messages sent from a single mobile number every day "
            "exceeds the upper limit",
        ),
    ],
)
async def test_tencent_send_status_error_fails(
    http: httpx.AsyncClient,
    fake: FakeTencentSms,
    endpoint: str,
    caplog: pytest.LogCaptureFixture,
    status_code: str,
    message: str,
) -> None:
    fake.answer_status(status_code, message)

    with caplog.at_level(logging.DEBUG), pytest.raises(SmsDeliveryFailed):
        await _sender(http, endpoint).send_otp(PHONE, OTP, 5)

    assert fake.errors == [status_code]
    assert any(status_code in r.getMessage() for r in caplog.records)
    _assert_no_personal_data(caplog)


async def test_tencent_response_error_fails(
    http: httpx.AsyncClient,
    fake: FakeTencentSms,
    endpoint: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake.answer_error(
        "FailedOperation.InsufficientBalanceInSmsPackage",
        "the number of SMS messages in the package is insufficient",
    )

    with caplog.at_level(logging.DEBUG), pytest.raises(SmsDeliveryFailed):
        await _sender(http, endpoint).send_otp(PHONE, OTP, 5)

    assert any(
        "FailedOperation.InsufficientBalanceInSmsPackage" in r.getMessage() for r in caplog.records
    )
    _assert_no_personal_data(caplog)


async def test_tencent_server_down_fails(
    http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG), pytest.raises(SmsDeliveryFailed):
        await _sender(http, unused_base_url()).send_otp(PHONE, OTP, 5)

    assert any("ConnectError" in r.getMessage() for r in caplog.records)
    _assert_no_personal_data(caplog)


async def test_tencent_timeout_fails(endpoint: str, fake: FakeTencentSms) -> None:
    fake.delay_seconds = 1.0
    async with httpx.AsyncClient(timeout=0.2) as impatient:
        with pytest.raises(SmsDeliveryFailed):
            await _sender(impatient, endpoint).send_otp(PHONE, OTP, 5)


async def test_tencent_rejects_malformed_phone(
    http: httpx.AsyncClient, fake: FakeTencentSms, endpoint: str
) -> None:
    with pytest.raises(ValueError, match="11-digit"):
        await _sender(http, endpoint).send_otp("+8613800138000", OTP, 5)
    assert fake.received == []
