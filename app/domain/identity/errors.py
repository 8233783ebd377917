"""Errors of the identity context, each with a stable code and en + zh messages.

Sign-in failures are deliberately coarse: a wrong code, an expired code and a used code
all answer the same, so the answer is no oracle for anything but "try again".
"""

from __future__ import annotations

from app.domain.shared.errors import Conflict, InvalidTransition, NotFound, Unauthenticated


class OtpInvalid(Unauthenticated):
    """Wrong, expired, used, superseded or exhausted code: one answer for all of them."""

    code = "auth.otp_invalid"
    message_en = "The verification code is wrong or no longer valid; request a new one."
    message_zh = "验证码错误或已失效，请重新获取。"


class InvalidCredentials(Unauthenticated):
    code = "auth.invalid_credentials"
    message_en = "The username or password is wrong."
    message_zh = "用户名或密码错误。"


class RefreshTokenInvalid(Unauthenticated):
    """Unknown, expired, revoked or reused refresh token."""

    code = "auth.refresh_invalid"
    message_en = "The session has ended; sign in again."
    message_zh = "登录已失效，请重新登录。"


class AccessTokenInvalid(Unauthenticated):
    code = "auth.token_invalid"
    message_en = "The access token is invalid or has expired."
    message_zh = "访问令牌无效或已过期。"


class AccountDisabled(Unauthenticated):
    """Told only to someone who proved they own the account (right code or password)."""

    code = "auth.account_disabled"
    message_en = "This account has been disabled."
    message_zh = "该账号已被停用。"


class UsernameTaken(Conflict):
    code = "officer.username_taken"
    message_en = "This username is already in use."
    message_zh = "该用户名已被使用。"


class UnitNotFound(NotFound):
    code = "org_unit.not_found"
    message_en = "The organisation unit was not found."
    message_zh = "未找到该组织单位。"


class OfficerNotFound(NotFound):
    code = "officer.not_found"
    message_en = "The officer was not found."
    message_zh = "未找到该民警账号。"


class AccountNotFound(NotFound):
    code = "account.not_found"
    message_en = "The account was not found."
    message_zh = "未找到该账号。"


class AlreadyDisabled(InvalidTransition):
    code = "account.already_disabled"
    message_en = "This account is already disabled."
    message_zh = "该账号已处于停用状态。"
