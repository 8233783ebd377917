"""Alert texts through the SMS adapters: Tencent Cloud SendSms with the alert template
against the loopback fake (signature checked there), and the development outbox. Login
codes keep their own template on the same adapter."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
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
from pydantic import SecretStr, ValidationError

from app.bootstrap.emergency_alerts import alert_texter
from app.bootstrap.platform import build_platform
from app.domain.emergency.alert_delivery import AlertSms, AlertSmsFailed
from app.domain.emergency.glossary import IncidentType
from app.infra.sms.dev import DevSmsSender
from app.infra.sms.tencent import TencentSmsSender
from app.settings import Settings, SmsAdapter

PHONE = "13800138000"
OTP_TEMPLATE = "2000001"
ALERT_TEMPLATE = "2000002"
FIRE = AlertSms(IncidentType.FIRE, drill=False, code="K7QH2M")
DRILL = AlertSms(IncidentType.DROWNING, drill=True, code="B3XW9P")


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
    alert_template_id: str = ALERT_TEMPLATE,
    secret_key: str = TEST_SECRET_KEY,
) -> TencentSmsSender:
    return TencentSmsSender(
        http,
        secret_id=TEST_SECRET_ID,
        secret_key=secret_key,
        sdk_app_id=TEST_SDK_APP_ID,
        sign_name="守望",
        template_id=OTP_TEMPLATE,
        alert_template_id=alert_template_id,
        endpoint=endpoint,
    )


def _assert_nothing_personal(caplog: pytest.LogCaptureFixture) -> None:
    for record in caplog.records:
        text = record.getMessage()
        for secret in (PHONE, FIRE.code, DRILL.code, "火情", TEST_SECRET_KEY):
            assert secret not in text, text


async def test_alert_goes_out_signed_with_the_alert_template(
    http: httpx.AsyncClient,
    fake: FakeTencentSms,
    endpoint: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sender = _sender(http, endpoint)

    with caplog.at_level(logging.DEBUG):
        await sender.send_alert(PHONE, FIRE)
        await sender.send_alert(PHONE, DRILL)

    # The fake records a message only after verifying the TC3-HMAC-SHA256 signature.
    assert fake.errors == []
    assert [(m.template_id, m.template_params) for m in fake.received] == [
        (ALERT_TEMPLATE, ["紧急", "火情", "K7QH2M"]),
        (ALERT_TEMPLATE, ["演练", "落水", "B3XW9P"]),
    ]
    assert all(m.phone_numbers == ["+86" + PHONE] for m in fake.received)
    assert all(m.sign_name == "守望" and m.sdk_app_id == TEST_SDK_APP_ID for m in fake.received)
    _assert_nothing_personal(caplog)


async def test_login_codes_keep_their_template_on_the_same_adapter(
    http: httpx.AsyncClient, fake: FakeTencentSms, endpoint: str
) -> None:
    await _sender(http, endpoint).send_otp(PHONE, "482913", 5)

    [sms] = fake.received
    assert (sms.template_id, sms.template_params) == (OTP_TEMPLATE, ["482913", "5"])


async def test_alert_without_a_configured_template_fails_without_sending(
    http: httpx.AsyncClient,
    fake: FakeTencentSms,
    endpoint: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.DEBUG), pytest.raises(AlertSmsFailed) as raised:
        await _sender(http, endpoint, alert_template_id="").send_alert(PHONE, FIRE)

    assert raised.value.code == "emergency.alert_sms_failed"
    assert fake.received == []
    assert fake.errors == []
    assert any("alert template is not configured" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("setup", "expected_error"),
    [
        ("status", "LimitExceeded.PhoneNumberDailyLimit"),
        ("error", "FailedOperation.TemplateIncorrectOrUnapproved"),
        ("signature", "AuthFailure.SignatureFailure"),
    ],
)
async def test_refused_alert_raises_so_the_outbox_retries(
    http: httpx.AsyncClient,
    fake: FakeTencentSms,
    endpoint: str,
    caplog: pytest.LogCaptureFixture,
    setup: str,
    expected_error: str,
) -> None:
    key = TEST_SECRET_KEY
    if setup == "status":
        fake.answer_status(expected_error, "daily limit")
    elif setup == "error":
        fake.answer_error(expected_error, "the template is not approved")
    else:
        key = "not-the-right-key-0000000000000"

    with caplog.at_level(logging.DEBUG), pytest.raises(AlertSmsFailed):
        await _sender(http, endpoint, secret_key=key).send_alert(PHONE, FIRE)

    assert fake.errors == [expected_error]
    _assert_nothing_personal(caplog)


async def test_unreachable_provider_raises(http: httpx.AsyncClient) -> None:
    with pytest.raises(AlertSmsFailed):
        await _sender(http, unused_base_url()).send_alert(PHONE, FIRE)


async def test_dev_outbox_gets_the_rendered_alert(tmp_path: Path) -> None:
    outbox = tmp_path / "sms-outbox.jsonl"
    sender = DevSmsSender(outbox, now=lambda: datetime(2026, 11, 22, 8, 0, tzinfo=UTC))

    await sender.send_alert(PHONE, DRILL)
    await sender.send_otp(PHONE, "123456", 5)

    first, second = (json.loads(line) for line in outbox.read_text("utf-8").splitlines())
    assert first == {
        "to": PHONE,
        "text": "【守望】演练调派：您附近有警情需要支援（落水），"
        "请立即打开守望查看并响应。编号B3XW9P",
        "sent_at": "2026-11-22T08:00:00Z",
    }
    assert second["text"] == "【守望】您的验证码为123456，5分钟内有效。请勿泄露给他人。"


async def test_settings_choose_the_tencent_alert_template(
    settings: Settings, fake: FakeTencentSms, endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOUWANG_TENCENT_SMS_ALERT_TEMPLATE_ID", ALERT_TEMPLATE)
    from_env = Settings(_env_file=None)  # type: ignore[call-arg]
    assert from_env.tencent_sms_alert_template_id == ALERT_TEMPLATE
    configured = settings.model_copy(
        update={
            "sms_adapter": SmsAdapter.TENCENT,
            "tencent_sms_secret_id": TEST_SECRET_ID,
            "tencent_sms_secret_key": SecretStr(TEST_SECRET_KEY),
            "tencent_sms_sdk_app_id": TEST_SDK_APP_ID,
            "tencent_sms_sign_name": "守望",
            "tencent_sms_template_id": OTP_TEMPLATE,
            "tencent_sms_alert_template_id": ALERT_TEMPLATE,
            "tencent_sms_endpoint": endpoint,
        }
    )
    platform = build_platform(configured)
    try:
        texter = alert_texter(platform)
        assert isinstance(texter, TencentSmsSender)
        await texter.send_alert(PHONE, FIRE)
    finally:
        await platform.aclose()

    [sms] = fake.received
    assert (sms.template_id, sms.template_params) == (ALERT_TEMPLATE, ["紧急", "火情", "K7QH2M"])


async def test_development_settings_choose_the_outbox(settings: Settings) -> None:
    platform = build_platform(settings)
    try:
        texter = alert_texter(platform)
    finally:
        await platform.aclose()
    assert isinstance(texter, DevSmsSender)
    assert texter.outbox_path == settings.sms_dev_outbox


def test_production_refuses_the_development_sms_adapter_for_alerts_too() -> None:
    with pytest.raises(ValidationError, match="SMS_ADAPTER=dev"):
        Settings(_env_file=None, env="production", sms_adapter="dev")  # type: ignore[call-arg,arg-type]
