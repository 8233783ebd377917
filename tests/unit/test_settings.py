from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.settings import Settings

SAFE_PRODUCTION = {
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


def test_development_defaults_are_usable() -> None:
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    assert s.host == "127.0.0.1"
    assert s.port == 8000
    assert s.database_url.startswith("postgresql+asyncpg://")


def test_safe_production_settings_start() -> None:
    s = Settings(_env_file=None, **SAFE_PRODUCTION)  # type: ignore[arg-type]
    assert s.is_production


@pytest.mark.parametrize(
    ("override", "complaint"),
    [
        ({"sms_adapter": "dev"}, "SMS_ADAPTER=dev"),
        ({"wechat_adapter": "dev"}, "WECHAT_ADAPTER=dev"),
        ({"wechat_subscribe_adapter": "dev"}, "WECHAT_SUBSCRIBE_ADAPTER=dev"),
        ({"push_adapter": "dev"}, "PUSH_ADAPTER=dev"),
        ({"jpush_master_secret": ""}, "JPush app key/master secret are missing"),
        ({"jwt_secret": "dev-only-jwt-secret-change-me-0123456789abcdef"}, "JWT_SECRET"),
        (
            {"encryption_keys": "dev1:ZGV2LW9ubHktZW5jcnlwdGlvbi1rZXktMzJieXRlcyE="},
            "ENCRYPTION_KEYS",
        ),
        (
            {"blind_index_key": "ZGV2LW9ubHktYmxpbmQtaW5kZXgta2V5LTMyYnl0ZXMhIQ=="},
            "BLIND_INDEX_KEY",
        ),
        ({"graphiql": True}, "GRAPHIQL"),
        ({"cors_origins": ["*"]}, "CORS_ORIGINS"),
    ],
)
def test_production_refuses_unsafe_settings(override: dict[str, object], complaint: str) -> None:
    with pytest.raises(ValidationError, match=complaint):
        Settings(_env_file=None, **{**SAFE_PRODUCTION, **override})  # type: ignore[arg-type]


def test_settings_come_from_prefixed_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOUWANG_PORT", "9001")
    monkeypatch.setenv("SHOUWANG_SMS_DEV_OUTBOX", "/tmp/x.jsonl")
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    assert s.port == 9001
    assert str(s.sms_dev_outbox) == "/tmp/x.jsonl"
