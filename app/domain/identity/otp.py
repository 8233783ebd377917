"""SMS one-time codes (短信验证码): 6 digits, 5 minutes, single use, at most 5 attempts.

Only a keyed digest of the code is stored, bound to the challenge id, so a leaked table
neither reveals codes nor lets anyone test guesses offline.
"""

from __future__ import annotations

import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from app.domain.shared.protection import BlindIndexer

OTP_DIGITS: Final = 6
OTP_TTL: Final = timedelta(minutes=5)
OTP_MAX_ATTEMPTS: Final = 5
_DIGEST_PURPOSE: Final = "otp_code"


class ChallengeClosed(StrEnum):
    USED = "used"
    SUPERSEDED = "superseded"
    EXHAUSTED = "exhausted"


def new_code() -> str:
    return f"{secrets.randbelow(10**OTP_DIGITS):0{OTP_DIGITS}d}"


def code_digest(indexer: BlindIndexer, challenge_id: uuid.UUID, code: str) -> bytes:
    return indexer.index(f"{challenge_id}:{code}", purpose=_DIGEST_PURPOSE)


@dataclass
class OtpChallenge:
    id: uuid.UUID
    phone_index: bytes
    code_digest: bytes
    created_at: datetime
    expires_at: datetime
    attempts: int = 0
    closed_at: datetime | None = None
    closed_reason: ChallengeClosed | None = None

    @classmethod
    def issue(
        cls, indexer: BlindIndexer, phone_index: bytes, at: datetime, *, challenge_id: uuid.UUID
    ) -> tuple[OtpChallenge, str]:
        """A new challenge and its plaintext code (to send, never to store)."""
        code = new_code()
        challenge = cls(
            id=challenge_id,
            phone_index=phone_index,
            code_digest=code_digest(indexer, challenge_id, code),
            created_at=at,
            expires_at=at + OTP_TTL,
        )
        return challenge, code

    def is_open(self, at: datetime) -> bool:
        return self.closed_at is None and at < self.expires_at

    def close(self, reason: ChallengeClosed, at: datetime) -> None:
        if self.closed_at is None:
            self.closed_at = at
            self.closed_reason = reason

    def attempt(self, digest: bytes, at: datetime) -> bool:
        """Spend one attempt; ``True`` when the code matches. After the 5th wrong attempt
        the challenge is closed, so a 6th attempt fails even with the right code."""
        if not self.is_open(at):
            return False
        self.attempts += 1
        if hmac.compare_digest(digest, self.code_digest):
            self.close(ChallengeClosed.USED, at)
            return True
        if self.attempts >= OTP_MAX_ATTEMPTS:
            self.close(ChallengeClosed.EXHAUSTED, at)
        return False
