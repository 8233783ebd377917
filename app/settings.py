"""Settings from the environment (prefix ``SHOUWANG_``), with safe development defaults.

``SHOUWANG_ENV=production`` refuses to start with development adapters, default secrets,
GraphiQL or open CORS.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Development-only secrets: fixed so local runs and tests are reproducible; production
# refuses them.
DEV_JWT_SECRET = "dev-only-jwt-secret-change-me-0123456789abcdef"  # noqa: S105
DEV_ENCRYPTION_KEYS = "dev1:ZGV2LW9ubHktZW5jcnlwdGlvbi1rZXktMzJieXRlcyE="
DEV_BLIND_INDEX_KEY = "ZGV2LW9ubHktYmxpbmQtaW5kZXgta2V5LTMyYnl0ZXMhIQ=="
DEV_MEDIA_URL_SECRET = "dev-only-media-url-secret-change-me-0123456789"  # noqa: S105


class Env(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class SmsAdapter(StrEnum):
    DEV = "dev"
    TENCENT = "tencent"


class MediaStorageKind(StrEnum):
    LOCAL = "local"
    S3 = "s3"


class WeChatAdapter(StrEnum):
    DEV = "dev"
    MINIPROGRAM = "miniprogram"


class WeChatSubscribeAdapter(StrEnum):
    DEV = "dev"
    WECHAT = "wechat"


class PushAdapter(StrEnum):
    DEV = "dev"
    JPUSH = "jpush"


class PaymentAdapter(StrEnum):
    DEV = "dev"  # records payouts to a local JSONL file
    WECHATPAY = "wechatpay"  # WeChat Pay v3 merchant transfer (商家转账到零钱)
    NONE = "none"  # no cash payouts: approved rewards fail with payments_disabled


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SHOUWANG_", env_file=".env", extra="ignore", env_nested_delimiter="__"
    )

    env: Env = Env.DEVELOPMENT
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/shouwang"
    # Connections kept open per process (no overflow: past the pool, requests wait for a
    # connection). Under load each request holds one for a few milliseconds: size the
    # pool for the concurrency one process serves.
    db_pool_size: int = Field(default=20, ge=1, le=200)
    # A second, lighter pool (asyncpg's own) for single statements outside transactions:
    # idempotency keys, routing, principals, page reads. Opened on first use.
    db_native_pool_size: int = Field(default=10, ge=1, le=200)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    log_level: str = "INFO"
    log_json: bool = True

    # Tokens
    jwt_secret: SecretStr = SecretStr(DEV_JWT_SECRET)
    jwt_issuer: str = "shouwang"
    jwt_audience: str = "shouwang-api"
    access_token_ttl_seconds: int = Field(default=600, ge=60, le=900)
    # Principals (status, session, roles) are cached per process and evicted through
    # Postgres NOTIFY; the TTL bounds a listener that died silently. 0: no cache.
    principal_cache_ttl_seconds: float = Field(default=30, ge=0, le=300)
    refresh_token_ttl_days: int = Field(default=30, ge=1, le=180)

    # Personal data protection: "keyid:base64key,..." (first is active), HMAC key base64.
    encryption_keys: SecretStr = SecretStr(DEV_ENCRYPTION_KEYS)
    blind_index_key: SecretStr = SecretStr(DEV_BLIND_INDEX_KEY)

    # Fraud controls: hourly submission limits (429 past them) per account (hazards; tips
    # have their own) and per device (X-Device-Id; hazards and tips each), and the review
    # queue's device rule: more reports than this from one device in 24 h raise a flag.
    hazard_hourly_limit: int = Field(default=10, ge=1, le=1000)
    device_hourly_limit: int = Field(default=20, ge=1, le=1000)
    review_device_reports_per_day: int = Field(default=20, ge=1, le=10000)

    # Emergency units: days location history (and last known locations) of on-duty
    # members are kept (PIPL: location tracks are sensitive); housekeeping purges older.
    emergency_location_retention_days: int = Field(default=7, ge=1, le=365)
    # Seconds an alert waits for a realtime connection to take it before the member counts
    # as not connected (then push goes at once instead of after its delay).
    emergency_realtime_grace_s: float = Field(default=5.0, ge=1.0, le=60.0)
    # How often the worker runs its tickers: due ring decisions and escalations (seconds).
    worker_tick_interval_s: float = Field(default=1.0, ge=0.1, le=30.0)

    # SMS
    sms_adapter: SmsAdapter = SmsAdapter.DEV
    sms_dev_outbox: Path = Path(".local/sms-outbox.jsonl")
    tencent_sms_secret_id: str = ""
    tencent_sms_secret_key: SecretStr = SecretStr("")
    tencent_sms_sdk_app_id: str = ""
    tencent_sms_sign_name: str = ""
    tencent_sms_template_id: str = ""
    # Emergency alerts to members not connected: "{1}调派：您附近有警情需要支援（{2}），
    # 请立即打开守望查看并响应。编号{3}" (marker 紧急/演练, incident type, short code).
    tencent_sms_alert_template_id: str = ""
    tencent_sms_region: str = "ap-guangzhou"
    tencent_sms_endpoint: str = "https://sms.tencentcloudapi.com"

    # WeChat mini-program
    wechat_adapter: WeChatAdapter = WeChatAdapter.DEV
    wechat_appid: str = ""
    wechat_secret: SecretStr = SecretStr("")
    wechat_base_url: str = "https://api.weixin.qq.com"

    # Notification channels beyond the inbox: WeChat subscribe messages and vendor push.
    # Template ids per notification kind (empty: that kind is not sent through WeChat).
    wechat_subscribe_adapter: WeChatSubscribeAdapter = WeChatSubscribeAdapter.DEV
    wechat_template_tip_update: str = ""
    wechat_template_volunteer_status: str = ""
    wechat_subscribe_page: str = "pages/notifications/index"
    wechat_miniprogram_state: str = "formal"
    push_adapter: PushAdapter = PushAdapter.DEV
    jpush_app_key: str = ""
    jpush_master_secret: SecretStr = SecretStr("")
    jpush_base_url: str = "https://api.jpush.cn"
    jpush_apns_production: bool = True
    channel_dev_outbox: Path | None = None

    # Cash reward payouts. Unset: dev outside production, none in production.
    payment_adapter: PaymentAdapter | None = None
    payment_dev_outbox: Path = Path(".local/payouts.jsonl")
    wechatpay_mchid: str = ""
    wechatpay_appid: str = ""
    wechatpay_serial_no: str = ""
    wechatpay_private_key_path: Path | None = None
    wechatpay_platform_cert_path: Path | None = None
    wechatpay_base_url: str = "https://api.mch.weixin.qq.com"
    # APIv3 key (32 bytes, set in the merchant platform): decrypts transfer callbacks sent
    # to POST /api/v1/payments/wechatpay/notify.
    wechatpay_apiv3_key: SecretStr = SecretStr("")
    # Sent as notify_url with every transfer (public https, no query): where WeChat Pay
    # posts the result. Empty: no callbacks; reconciliation polls instead.
    wechatpay_notify_url: str = ""

    # HTTP surface
    cors_origins: list[str] = Field(default_factory=lambda: ["*"])
    graphiql: bool = True
    graphql_max_depth: int = 12
    graphql_max_aliases: int = 30
    graphql_max_tokens: int = 2000
    trusted_proxies: list[str] = Field(default_factory=list)

    # Worker: outbox delivery (retries back off base·2^n seconds up to the cap, then the
    # event is dead-lettered) and housekeeping.
    worker_poll_interval_s: float = Field(default=1.0, gt=0, le=60)
    worker_housekeeping_interval_s: float = Field(default=300, ge=10)
    delivery_max_attempts: int = Field(default=8, ge=1, le=50)
    delivery_backoff_base_s: float = Field(default=1.0, gt=0)
    delivery_backoff_cap_s: float = Field(default=600, gt=0)
    delivery_lease_s: float = Field(default=120, ge=5)

    # Idempotency keys live at least 24 hours (CONVENTIONS.md).
    idempotency_ttl_hours: int = Field(default=24, ge=24)
    privacy_notice_version: str = "2026-11"

    # Media (photos, videos, voice notes): local directory (URLs signed by the API) or S3.
    media_storage: MediaStorageKind = MediaStorageKind.LOCAL
    media_dir: Path = Path(".local/media")
    media_url_secret: SecretStr = SecretStr(DEV_MEDIA_URL_SECRET)
    media_url_ttl_seconds: int = Field(default=900, ge=60, le=86400)
    media_upload_ttl_seconds: int = Field(default=900, ge=60, le=86400)
    media_max_photo_mb: int = Field(default=15, ge=1, le=100)
    media_max_video_mb: int = Field(default=50, ge=1, le=500)
    media_max_audio_mb: int = Field(default=10, ge=1, le=100)
    media_max_photo_megapixels: int = Field(default=40, ge=1, le=200)
    media_s3_endpoint_url: str = ""
    media_s3_bucket: str = ""
    media_s3_region: str = "us-east-1"
    media_s3_access_key_id: str = ""
    media_s3_secret_access_key: SecretStr = SecretStr("")

    @property
    def is_production(self) -> bool:
        return self.env == Env.PRODUCTION

    @property
    def payments(self) -> PaymentAdapter:
        if self.payment_adapter is not None:
            return self.payment_adapter
        return PaymentAdapter.NONE if self.is_production else PaymentAdapter.DEV

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        apiv3_key = self.wechatpay_apiv3_key.get_secret_value()
        if apiv3_key and len(apiv3_key.encode()) != 32:
            raise ValueError("SHOUWANG_WECHATPAY_APIV3_KEY must be 32 bytes")
        notify_url = self.wechatpay_notify_url
        if notify_url and not (notify_url.startswith("https://") and "?" not in notify_url):
            raise ValueError("SHOUWANG_WECHATPAY_NOTIFY_URL must be https:// without a query")
        if not self.is_production:
            return self
        problems: list[str] = []
        if self.sms_adapter == SmsAdapter.DEV:
            problems.append("SHOUWANG_SMS_ADAPTER=dev is a development adapter")
        if self.wechat_adapter == WeChatAdapter.DEV:
            problems.append("SHOUWANG_WECHAT_ADAPTER=dev is a development adapter")
        if self.wechat_subscribe_adapter == WeChatSubscribeAdapter.DEV:
            problems.append("SHOUWANG_WECHAT_SUBSCRIBE_ADAPTER=dev is a development adapter")
        if self.push_adapter == PushAdapter.DEV:
            problems.append("SHOUWANG_PUSH_ADAPTER=dev is a development adapter")
        if self.payment_adapter == PaymentAdapter.DEV:
            problems.append("SHOUWANG_PAYMENT_ADAPTER=dev is a development adapter")
        if self.payment_adapter == PaymentAdapter.WECHATPAY and not (
            self.wechatpay_mchid
            and self.wechatpay_appid
            and self.wechatpay_serial_no
            and self.wechatpay_private_key_path
            and self.wechatpay_platform_cert_path
            and apiv3_key
        ):
            problems.append(
                "WeChat Pay mchid/appid/serial/key/platform certificate/APIv3 key are missing"
            )
        if (
            self.jwt_secret.get_secret_value() == DEV_JWT_SECRET
            or len(self.jwt_secret.get_secret_value()) < 32
        ):
            problems.append("SHOUWANG_JWT_SECRET must be set to a random value of 32+ chars")
        if self.encryption_keys.get_secret_value() == DEV_ENCRYPTION_KEYS:
            problems.append("SHOUWANG_ENCRYPTION_KEYS must be set (not the development key)")
        if self.blind_index_key.get_secret_value() == DEV_BLIND_INDEX_KEY:
            problems.append("SHOUWANG_BLIND_INDEX_KEY must be set (not the development key)")
        if self.graphiql:
            problems.append("SHOUWANG_GRAPHIQL must be false")
        if "*" in self.cors_origins:
            problems.append("SHOUWANG_CORS_ORIGINS must list explicit origins, not '*'")
        if self.media_storage == MediaStorageKind.LOCAL and (
            self.media_url_secret.get_secret_value() == DEV_MEDIA_URL_SECRET
            or len(self.media_url_secret.get_secret_value()) < 32
        ):
            problems.append("SHOUWANG_MEDIA_URL_SECRET must be set to a random value of 32+ chars")
        if self.media_storage == MediaStorageKind.S3 and not self.media_s3_bucket:
            problems.append("SHOUWANG_MEDIA_S3_BUCKET is missing")
        if self.sms_adapter == SmsAdapter.TENCENT and not (
            self.tencent_sms_secret_id and self.tencent_sms_secret_key.get_secret_value()
        ):
            problems.append("Tencent SMS credentials are missing")
        if self.sms_adapter == SmsAdapter.TENCENT and not self.tencent_sms_alert_template_id:
            problems.append(
                "SHOUWANG_TENCENT_SMS_ALERT_TEMPLATE_ID is missing (emergency alerts by SMS)"
            )
        if self.wechat_adapter == WeChatAdapter.MINIPROGRAM and not (
            self.wechat_appid and self.wechat_secret.get_secret_value()
        ):
            problems.append("WeChat appid/secret are missing")
        if self.wechat_subscribe_adapter == WeChatSubscribeAdapter.WECHAT and not (
            self.wechat_appid and self.wechat_secret.get_secret_value()
        ):
            problems.append("WeChat appid/secret are missing for subscribe messages")
        if self.push_adapter == PushAdapter.JPUSH and not (
            self.jpush_app_key and self.jpush_master_secret.get_secret_value()
        ):
            problems.append("JPush app key/master secret are missing")
        if problems:
            raise ValueError("refusing to start in production: " + "; ".join(problems))
        return self


def load_settings() -> Settings:
    return Settings()
