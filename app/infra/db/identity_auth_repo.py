"""Sign-in repositories: OTP challenges and sends, login attempts, sessions and refresh
tokens; plus the housekeeping purge of what has expired."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.identity.model import SignInMethod
from app.domain.identity.otp import ChallengeClosed, OtpChallenge
from app.domain.identity.sessions import AuthSession, RefreshToken, RevokeReason
from app.infra.db.tables.identity import (
    auth_sessions,
    login_attempts,
    otp_challenges,
    otp_sends,
    refresh_tokens,
)


def _split(rows: Any) -> tuple[list[datetime], list[datetime]]:
    """Rows carry ``at`` and two match flags: (times of the first, times of the second)."""
    firsts: list[datetime] = []
    seconds: list[datetime] = []
    for row in rows:
        if row.first:
            firsts.append(row.at)
        if row.second:
            seconds.append(row.at)
    return firsts, seconds


class SqlOtpRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def send_times(
        self, phone_index: bytes, ip_index: bytes, since: datetime
    ) -> tuple[list[datetime], list[datetime]]:
        by_phone = otp_sends.c.phone_index == phone_index
        by_ip = otp_sends.c.ip_index == ip_index
        rows = await self._s.execute(
            sa.select(
                otp_sends.c.sent_at.label("at"), by_phone.label("first"), by_ip.label("second")
            ).where(otp_sends.c.sent_at > since, sa.or_(by_phone, by_ip))
        )
        return _split(rows)

    async def record_send(self, phone_index: bytes, ip_index: bytes, at: datetime) -> None:
        await self._s.execute(
            sa.insert(otp_sends).values(phone_index=phone_index, ip_index=ip_index, sent_at=at)
        )

    async def close_open(self, phone_index: bytes, at: datetime) -> None:
        await self._s.execute(
            sa.update(otp_challenges)
            .where(
                otp_challenges.c.phone_index == phone_index, otp_challenges.c.closed_at.is_(None)
            )
            .values(closed_at=at, closed_reason=ChallengeClosed.SUPERSEDED.value)
        )

    async def add(self, challenge: OtpChallenge) -> None:
        await self._s.execute(
            sa.insert(otp_challenges).values(
                id=challenge.id,
                phone_index=challenge.phone_index,
                code_digest=challenge.code_digest,
                created_at=challenge.created_at,
                expires_at=challenge.expires_at,
                attempts=challenge.attempts,
            )
        )

    async def latest_open(self, phone_index: bytes) -> OtpChallenge | None:
        row = (
            await self._s.execute(
                sa.select(otp_challenges)
                .where(
                    otp_challenges.c.phone_index == phone_index,
                    otp_challenges.c.closed_at.is_(None),
                )
                .order_by(otp_challenges.c.created_at.desc())
                .limit(1)
                .with_for_update()
            )
        ).first()
        if row is None:
            return None
        return OtpChallenge(
            id=row.id,
            phone_index=bytes(row.phone_index),
            code_digest=bytes(row.code_digest),
            created_at=row.created_at,
            expires_at=row.expires_at,
            attempts=row.attempts,
            closed_at=row.closed_at,
            closed_reason=ChallengeClosed(row.closed_reason) if row.closed_reason else None,
        )

    async def save(self, challenge: OtpChallenge) -> None:
        await self._s.execute(
            sa.update(otp_challenges)
            .where(otp_challenges.c.id == challenge.id)
            .values(
                attempts=challenge.attempts,
                closed_at=challenge.closed_at,
                closed_reason=challenge.closed_reason.value if challenge.closed_reason else None,
            )
        )


class SqlLoginAttemptRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def failure_times(
        self, username_index: bytes, ip_index: bytes, since: datetime
    ) -> tuple[list[datetime], list[datetime]]:
        by_user = login_attempts.c.username_index == username_index
        by_ip = login_attempts.c.ip_index == ip_index
        rows = await self._s.execute(
            sa.select(
                login_attempts.c.at.label("at"), by_user.label("first"), by_ip.label("second")
            ).where(login_attempts.c.at > since, sa.or_(by_user, by_ip))
        )
        return _split(rows)

    async def add(
        self, attempt_id: uuid.UUID, username_index: bytes, ip_index: bytes, at: datetime
    ) -> None:
        await self._s.execute(
            sa.insert(login_attempts).values(
                id=attempt_id, username_index=username_index, ip_index=ip_index, at=at
            )
        )

    async def clear_username(self, username_index: bytes) -> None:
        await self._s.execute(
            sa.delete(login_attempts).where(login_attempts.c.username_index == username_index)
        )


def _session(row: Any) -> AuthSession:
    return AuthSession(
        id=row.id,
        account_id=row.account_id,
        method=SignInMethod(row.method),
        created_at=row.created_at,
        user_agent=row.user_agent,
        revoked_at=row.revoked_at,
        revoke_reason=RevokeReason(row.revoke_reason) if row.revoke_reason else None,
    )


class SqlSessionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add_session(self, session: AuthSession) -> None:
        await self._s.execute(
            sa.insert(auth_sessions).values(
                id=session.id,
                account_id=session.account_id,
                method=session.method.value,
                user_agent=session.user_agent,
                created_at=session.created_at,
            )
        )

    async def add_token(self, token: RefreshToken) -> None:
        await self._s.execute(
            sa.insert(refresh_tokens).values(
                id=token.id,
                session_id=token.session_id,
                token_hash=token.token_hash,
                issued_at=token.issued_at,
                expires_at=token.expires_at,
            )
        )

    async def token_by_hash(self, token_hash: bytes) -> RefreshToken | None:
        row = (
            await self._s.execute(
                sa.select(refresh_tokens)
                .where(refresh_tokens.c.token_hash == token_hash)
                .with_for_update()
            )
        ).first()
        if row is None:
            return None
        return RefreshToken(
            id=row.id,
            session_id=row.session_id,
            token_hash=bytes(row.token_hash),
            issued_at=row.issued_at,
            expires_at=row.expires_at,
            rotated_at=row.rotated_at,
        )

    async def session(self, session_id: uuid.UUID) -> AuthSession | None:
        row = (
            await self._s.execute(
                sa.select(auth_sessions).where(auth_sessions.c.id == session_id).with_for_update()
            )
        ).first()
        return _session(row) if row else None

    async def save_token(self, token: RefreshToken) -> None:
        await self._s.execute(
            sa.update(refresh_tokens)
            .where(refresh_tokens.c.id == token.id)
            .values(rotated_at=token.rotated_at)
        )

    async def save_session(self, session: AuthSession) -> None:
        await self._s.execute(
            sa.update(auth_sessions)
            .where(auth_sessions.c.id == session.id)
            .values(
                revoked_at=session.revoked_at,
                revoke_reason=session.revoke_reason.value if session.revoke_reason else None,
            )
        )

    async def revoke_account_sessions(
        self, account_id: uuid.UUID, reason: RevokeReason, at: datetime
    ) -> list[uuid.UUID]:
        rows = await self._s.execute(
            sa.update(auth_sessions)
            .where(auth_sessions.c.account_id == account_id, auth_sessions.c.revoked_at.is_(None))
            .values(revoked_at=at, revoke_reason=reason.value)
            .returning(auth_sessions.c.id)
        )
        return [r.id for r in rows]


# Rate-limit rows are needed for the longest window (a day for OTP sends).
_KEEP_LIMIT_ROWS = timedelta(days=1)


async def purge_expired(session_factory: async_sessionmaker[AsyncSession], now: datetime) -> int:
    """Delete expired OTP challenges, old rate-limit rows, expired refresh tokens and
    sessions that are revoked or have no live refresh token left."""
    removed = 0
    async with session_factory() as s, s.begin():
        for statement in (
            sa.delete(otp_challenges).where(otp_challenges.c.expires_at < now),
            sa.delete(otp_sends).where(otp_sends.c.sent_at < now - _KEEP_LIMIT_ROWS),
            sa.delete(login_attempts).where(login_attempts.c.at < now - _KEEP_LIMIT_ROWS),
            sa.delete(refresh_tokens).where(refresh_tokens.c.expires_at < now),
            sa.delete(auth_sessions).where(
                sa.or_(
                    auth_sessions.c.revoked_at < now - _KEEP_LIMIT_ROWS,
                    sa.and_(
                        auth_sessions.c.created_at < now - _KEEP_LIMIT_ROWS,
                        ~sa.exists(
                            sa.select(sa.literal(1)).where(
                                refresh_tokens.c.session_id == auth_sessions.c.id
                            )
                        ),
                    ),
                )
            ),
        ):
            result = await s.execute(statement)
            removed += int(result.rowcount or 0)  # type: ignore[attr-defined]
    return removed
