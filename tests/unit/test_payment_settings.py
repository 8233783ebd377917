"""Which payment adapter runs: the development one records payouts to a file and is
refused in production (by settings and by the adapter itself)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from app.bootstrap.rewards import payment_gateway
from app.infra.payments.dev import DevPaymentGateway, DisabledPaymentGateway
from app.settings import PaymentAdapter, Settings

PRODUCTION: dict[str, Any] = {
    "env": "production",
    "sms_adapter": "tencent",
    "tencent_sms_secret_id": "AKID-test",
    "tencent_sms_secret_key": "secret-key-value",
    "tencent_sms_alert_template_id": "2300001",
    "wechat_adapter": "miniprogram",
    "wechat_appid": "wx123",
    "wechat_secret": "wechat-secret",
    "jwt_secret": "x" * 48,
    "encryption_keys": "prod1:" + "A" * 43 + "=",
    "blind_index_key": "B" * 44,
    "graphiql": False,
    "cors_origins": ["https://console.example.gov.cn"],
    "media_url_secret": "m" * 48,
    "wechat_subscribe_adapter": "wechat",
    "push_adapter": "jpush",
    "jpush_app_key": "jpush-app-key",
    "jpush_master_secret": "jpush-master-secret",
}


def test_development_pays_through_the_dev_adapter(tmp_path: Path) -> None:
    s = Settings(_env_file=None, payment_dev_outbox=tmp_path / "p.jsonl")  # type: ignore[call-arg]
    assert s.payments == PaymentAdapter.DEV
    assert isinstance(payment_gateway(s), DevPaymentGateway)


def test_production_refuses_the_dev_adapter() -> None:
    with pytest.raises(ValidationError, match="PAYMENT_ADAPTER=dev"):
        Settings(_env_file=None, **{**PRODUCTION, "payment_adapter": "dev"})  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="refused in production"):
        DevPaymentGateway(Path("x.jsonl"), production=True)


def test_production_without_wechat_pay_pays_nothing() -> None:
    s = Settings(_env_file=None, **PRODUCTION)  # type: ignore[arg-type]
    assert s.payments == PaymentAdapter.NONE
    assert isinstance(payment_gateway(s), DisabledPaymentGateway)
    with pytest.raises(ValidationError, match="WeChat Pay"):
        Settings(_env_file=None, **{**PRODUCTION, "payment_adapter": "wechatpay"})  # type: ignore[arg-type]
