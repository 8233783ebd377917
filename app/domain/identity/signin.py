"""Sign-in use cases: SMS one-time code, WeChat mini-program login, officer password."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from app.domain.identity.errors import AccountDisabled, InvalidCredentials, OtpInvalid
from app.domain.identity.gateways import SmsSender, WeChatAuthGateway, WeChatCodeInvalid
from app.domain.identity.model import (
    Account,
    AccountKind,
    ClientInfo,
    SignInMethod,
    TokenPair,
    anonymous_scope,
)
from app.domain.identity.otp import OTP_DIGITS, OTP_TTL, OtpChallenge, code_digest
from app.domain.identity.ports import IdentityUnitOfWork, PasswordHasher
from app.domain.identity.services import (
    IP_PURPOSE,
    PHONE_CONTEXT,
    PHONE_PURPOSE,
    USERNAME_PURPOSE,
    SessionIssuer,
    UowFactory,
    account_created,
)
from app.domain.identity.throttle import (
    LOGIN_FAILURES_PER_IP,
    LOGIN_FAILURES_PER_USERNAME,
    OTP_SEND_WINDOWS,
    LoginRateLimited,
    OtpRateLimited,
    check_windows,
    raise_if_limited,
)
from app.domain.shared.clock import Clock
from app.domain.shared.ids import new_id
from app.domain.shared.personal_data import parse_cn_mobile
from app.domain.shared.protection import BlindIndexer, FieldCipher
from app.domain.shared.scope import Role
from app.domain.shared.text import storable

_DAY: Final = timedelta(days=1)
_MAX_WECHAT_CODE: Final = 128


@dataclass(frozen=True, slots=True)
class OtpSent:
    """The same answer whether or not the phone has an account."""

    expires_in: int
    resend_after: int


class SignInService:
    def __init__(
        self,
        uow_factory: UowFactory,
        clock: Clock,
        issuer: SessionIssuer,
        *,
        indexer: BlindIndexer,
        cipher: FieldCipher,
        sms: SmsSender,
        wechat: WeChatAuthGateway,
        wechat_appid: str,
        hasher: PasswordHasher,
    ) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._issuer = issuer
        self._indexer = indexer
        self._cipher = cipher
        self._sms = sms
        self._wechat = wechat
        self._appid = wechat_appid
        self._hasher = hasher

    # --- SMS one-time code ----------------------------------------------------------------

    async def request_otp(self, phone: str, client: ClientInfo) -> OtpSent:
        number = parse_cn_mobile(phone)
        phone_index = self._indexer.index(number, purpose=PHONE_PURPOSE)
        ip_index = self._indexer.index(client.ip, purpose=IP_PURPOSE)
        now = self._clock.now()
        async with self._uow(anonymous_scope(client.request_id)) as uow:
            await uow.serialize(b"phone:" + phone_index, b"ip:" + ip_index)
            by_phone, by_ip = await uow.otp.send_times(phone_index, ip_index, now - _DAY)
            raise_if_limited(
                [
                    check_windows(by_phone, OTP_SEND_WINDOWS, now),
                    check_windows(by_ip, OTP_SEND_WINDOWS, now),
                ],
                OtpRateLimited,
            )
            await uow.otp.close_open(phone_index, now)
            challenge, code = OtpChallenge.issue(
                self._indexer, phone_index, now, challenge_id=new_id()
            )
            await uow.otp.add(challenge)
            await uow.otp.record_send(phone_index, ip_index, now)
            await uow.commit()
        # After the commit: a code that was sent is always one the database knows.
        await self._sms.send_otp(number, code, int(OTP_TTL.total_seconds()) // 60)
        return OtpSent(
            expires_in=int(OTP_TTL.total_seconds()),
            resend_after=OTP_SEND_WINDOWS[0].seconds,
        )

    async def verify_otp(self, phone: str, code: str, client: ClientInfo) -> TokenPair:
        number = parse_cn_mobile(phone)
        candidate = code.strip()
        if len(candidate) != OTP_DIGITS or not (candidate.isascii() and candidate.isdigit()):
            raise OtpInvalid()
        phone_index = self._indexer.index(number, purpose=PHONE_PURPOSE)
        now = self._clock.now()
        async with self._uow(anonymous_scope(client.request_id)) as uow:
            await uow.serialize(b"phone:" + phone_index)
            challenge = await uow.otp.latest_open(phone_index)
            if challenge is None:
                raise OtpInvalid()
            matched = challenge.attempt(code_digest(self._indexer, challenge.id, candidate), now)
            await uow.otp.save(challenge)
            if not matched:
                await uow.commit()  # the spent attempt must count
                raise OtpInvalid()
            account = await uow.accounts.by_phone_index(phone_index)
            if account is None:
                account = await self._new_resident(uow, SignInMethod.OTP, now)
                sealed = self._cipher.seal(number, context=PHONE_CONTEXT)
                await uow.accounts.add_phone(account.id, phone_index, sealed)
            if not account.active:
                await uow.commit()  # the code is used up all the same
                raise AccountDisabled()
            pair = await self._issuer.start(uow, account, SignInMethod.OTP, client, now)
            await uow.commit()
        return pair

    # --- WeChat mini-program --------------------------------------------------------------

    async def sign_in_with_wechat(self, code: str, client: ClientInfo) -> TokenPair:
        if not code or len(code) > _MAX_WECHAT_CODE:
            raise WeChatCodeInvalid()
        identity = await self._wechat.exchange_code(code)
        now = self._clock.now()
        async with self._uow(anonymous_scope(client.request_id)) as uow:
            key = f"{self._appid}\x00{identity.openid}".encode()
            await uow.serialize(b"wechat:" + key)
            account = await uow.accounts.by_wechat(self._appid, identity.openid)
            if account is None:
                account = await self._new_resident(uow, SignInMethod.WECHAT, now)
                await uow.accounts.add_wechat(
                    account.id, self._appid, identity.openid, identity.unionid
                )
            account.ensure_can_sign_in()
            pair = await self._issuer.start(uow, account, SignInMethod.WECHAT, client, now)
            await uow.commit()
        return pair

    # --- Officer password -----------------------------------------------------------------

    async def sign_in_with_password(
        self, username: str, password: str, client: ClientInfo
    ) -> TokenPair:
        name = username.strip().lower()
        user_index = self._indexer.index(name, purpose=USERNAME_PURPOSE)
        ip_index = self._indexer.index(client.ip, purpose=IP_PURPOSE)
        now = self._clock.now()
        scope = anonymous_scope(client.request_id)
        # 1. Check the limits and record this attempt as a failure before the slow hash
        #    check, so parallel guesses see each other; a success erases it again.
        async with self._uow(scope) as uow:
            await uow.serialize(b"user:" + user_index, b"ip:" + ip_index)
            since = now - timedelta(seconds=LOGIN_FAILURES_PER_USERNAME.seconds)
            by_user, by_ip = await uow.login_attempts.failure_times(user_index, ip_index, since)
            raise_if_limited(
                [
                    check_windows(by_user, (LOGIN_FAILURES_PER_USERNAME,), now),
                    check_windows(by_ip, (LOGIN_FAILURES_PER_IP,), now),
                ],
                LoginRateLimited,
            )
            # A name the database cannot even hold belongs to nobody.
            credentials = await uow.officers.credentials(name) if storable(name) else None
            await uow.login_attempts.add(new_id(), user_index, ip_index, now)
            await uow.commit()
        # 2. The hash check, outside any transaction; unknown names cost the same time.
        if credentials is None:
            await self._hasher.dummy_verify(password)
            await self._audit_failure(None, client)
            raise InvalidCredentials()
        if not await self._hasher.verify(credentials.password_hash, password):
            await self._audit_failure(credentials.account_id, client)
            raise InvalidCredentials()
        rehashed: str | None = None
        if self._hasher.needs_rehash(credentials.password_hash):
            rehashed = await self._hasher.hash(password)
        # 3. Proven: forget the failures of this username and start the session.
        async with self._uow(scope) as uow:
            account = await uow.accounts.get(credentials.account_id)
            if account is None:
                raise InvalidCredentials()
            account.ensure_can_sign_in()
            await uow.login_attempts.clear_username(user_index)
            if rehashed is not None:
                await uow.officers.set_password_hash(account.id, rehashed)
            pair = await self._issuer.start(uow, account, SignInMethod.PASSWORD, client, now)
            await uow.commit()
        return pair

    async def _audit_failure(self, account_id: uuid.UUID | None, client: ClientInfo) -> None:
        """Known and unknown usernames take the same path, so timing tells them apart no
        better than the answer does; the username itself is not recorded."""
        async with self._uow(anonymous_scope(client.request_id)) as uow:
            uow.audit(
                "auth.sign_in_failed",
                "account",
                account_id,
                {"method": SignInMethod.PASSWORD.value},
            )
            await uow.commit()

    # --- shared ---------------------------------------------------------------------------

    async def _new_resident(
        self, uow: IdentityUnitOfWork, method: SignInMethod, at: datetime
    ) -> Account:
        account = Account.new(AccountKind.RESIDENT, at, account_id=new_id(), display_name=None)
        await uow.accounts.add(account)
        await uow.accounts.add_role(account.id, Role.RESIDENT, None, granted_by=account.id)
        uow.audit_as(
            account.id,
            AccountKind.RESIDENT.value,
            "account.created",
            "account",
            account.id,
            {"kind": AccountKind.RESIDENT.value, "method": method.value},
        )
        uow.add_event(account_created(account, method, at))
        return account
