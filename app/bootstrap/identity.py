"""Wiring of the identity context (accounts, sign-in, sessions, the Authenticator), the
``create-officer`` operator command and the identity housekeeping task."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.api.container import Services
from app.bootstrap.platform import Platform, build_platform
from app.bootstrap.worker import TASKS
from app.domain.identity.authenticator import TokenAuthenticator
from app.domain.identity.gateways import SmsSender, WeChatAuthGateway
from app.domain.identity.officers import NewOfficer, OfficerService
from app.domain.identity.ports import (
    IdentityUnitOfWork,
    PasswordHasher,
    PrincipalChanges,
    PrincipalReader,
)
from app.domain.identity.services import (
    AccountService,
    SessionIssuer,
    SessionService,
    UowFactory,
)
from app.domain.identity.signin import SignInService
from app.domain.shared.auth import Authenticator
from app.domain.shared.clock import Clock
from app.domain.shared.scope import Scope, system_scope
from app.infra.auth.passwords import Argon2PasswordHasher
from app.infra.auth.tokens import JwtAccessTokens
from app.infra.crypto.fields import AesGcmFieldCipher, HmacBlindIndexer, parse_key_ring
from app.infra.db.identity_auth_repo import purge_expired
from app.infra.db.identity_principals import SqlPrincipalReader
from app.infra.db.identity_repo import SqlIdentityUnitOfWork
from app.infra.db.org_tree_cache import CachedJurisdictionLocator
from app.infra.db.principal_cache import CachingPrincipalReader
from app.infra.sms.dev import DevSmsSender
from app.infra.sms.tencent import TencentSmsSender
from app.infra.wechat.dev import DevWeChatAuth
from app.infra.wechat.miniprogram import WeChatMiniProgramAuth
from app.settings import Settings, SmsAdapter, WeChatAdapter

DEV_WECHAT_APPID = "dev"


def uow_factory(
    session_factory: async_sessionmaker[AsyncSession], clock: Clock | None = None
) -> UowFactory:
    def make(scope: Scope) -> IdentityUnitOfWork:
        return SqlIdentityUnitOfWork(session_factory, scope, clock)

    return make


def field_cipher(settings: Settings) -> AesGcmFieldCipher:
    keys, active = parse_key_ring(settings.encryption_keys.get_secret_value())
    return AesGcmFieldCipher(keys, active)


def blind_indexer(settings: Settings) -> HmacBlindIndexer:
    text = settings.blind_index_key.get_secret_value().strip()
    try:
        key = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_")
    except (binascii.Error, ValueError):
        raise ValueError("SHOUWANG_BLIND_INDEX_KEY is not valid base64") from None
    return HmacBlindIndexer(key)


def access_tokens(settings: Settings) -> JwtAccessTokens:
    return JwtAccessTokens(
        secret=settings.jwt_secret.get_secret_value(),
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        ttl_seconds=settings.access_token_ttl_seconds,
    )


def sms_adapter(platform: Platform) -> TencentSmsSender | DevSmsSender:
    """The SMS adapter the settings choose: login codes and emergency alerts alike."""
    s = platform.settings
    if s.sms_adapter == SmsAdapter.TENCENT:
        return TencentSmsSender(
            platform.http,
            secret_id=s.tencent_sms_secret_id,
            secret_key=s.tencent_sms_secret_key.get_secret_value(),
            sdk_app_id=s.tencent_sms_sdk_app_id,
            sign_name=s.tencent_sms_sign_name,
            template_id=s.tencent_sms_template_id,
            alert_template_id=s.tencent_sms_alert_template_id,
            region=s.tencent_sms_region,
            endpoint=s.tencent_sms_endpoint,
        )
    return DevSmsSender(s.sms_dev_outbox, now=platform.clock.now)


def sms_sender(platform: Platform) -> SmsSender:
    return sms_adapter(platform)


def wechat_gateway(platform: Platform) -> tuple[WeChatAuthGateway, str]:
    """The gateway and the appid identities are recorded under."""
    s = platform.settings
    if s.wechat_adapter == WeChatAdapter.MINIPROGRAM:
        gateway = WeChatMiniProgramAuth(
            platform.http,
            appid=s.wechat_appid,
            secret=s.wechat_secret.get_secret_value(),
            base_url=s.wechat_base_url,
        )
        return gateway, s.wechat_appid
    return DevWeChatAuth(), DEV_WECHAT_APPID


def officer_service(
    platform: Platform,
    hasher: PasswordHasher | None = None,
    changes: PrincipalChanges | None = None,
) -> OfficerService:
    return OfficerService(
        uow_factory(platform.session_factory, platform.clock),
        platform.clock,
        hasher or Argon2PasswordHasher(),
        changes,
    )


def principal_cache(platform: Platform) -> CachingPrincipalReader | None:
    """The database reader behind a NOTIFY-invalidated cache, unless its TTL is 0."""
    ttl = platform.settings.principal_cache_ttl_seconds
    if ttl <= 0:
        return None
    cache = CachingPrincipalReader(
        SqlPrincipalReader(platform.engine), platform.settings.database_url, ttl_seconds=ttl
    )
    platform.closers.append(cache.aclose)
    return cache


def wire(services: Services, platform: Platform) -> None:
    settings, clock = platform.settings, platform.clock
    factory = uow_factory(platform.session_factory, clock)
    hasher = Argon2PasswordHasher()
    tokens = access_tokens(settings)
    cipher = field_cipher(settings)
    issuer = SessionIssuer(tokens, timedelta(days=settings.refresh_token_ttl_days))
    wechat, appid = wechat_gateway(platform)
    # The cache is also what the identity services tell about the changes they commit.
    cache = principal_cache(platform)
    principals: PrincipalReader = SqlPrincipalReader(platform.engine) if cache is None else cache
    if cache is not None:
        services.register(CachingPrincipalReader, cache)
        # The same listener hears org_units change: the routing copy follows it.
        services.get(CachedJurisdictionLocator).follow(cache)
    services.register(
        SignInService,
        SignInService(
            factory,
            clock,
            issuer,
            indexer=blind_indexer(settings),
            cipher=cipher,
            sms=sms_sender(platform),
            wechat=wechat,
            wechat_appid=appid,
            hasher=hasher,
        ),
    )
    services.register(SessionService, SessionService(factory, clock, issuer, cache))
    services.register(AccountService, AccountService(factory, cipher))
    services.register(OfficerService, officer_service(platform, hasher, cache))
    services.register(Authenticator, TokenAuthenticator(tokens, principals, clock))


async def purge_identity(services: Services) -> int:
    platform = services.get(Platform)
    return await purge_expired(platform.session_factory, platform.clock.now())


TASKS["identity"] = purge_identity


async def create_officer(
    settings: Settings,
    username: str,
    password: str,
    unit_code: str,
    role: str,
    name: str | None = None,
) -> uuid.UUID:
    """``shouwang create-officer``: as the operator (system scope, audited)."""
    platform = build_platform(settings)
    try:
        officer = await officer_service(platform).create_officer(
            system_scope(),
            NewOfficer(
                username=username,
                password=password,
                unit_code=unit_code,
                role=role,
                display_name=name,
            ),
        )
        return officer.id
    finally:
        await platform.aclose()
