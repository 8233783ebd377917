"""Unified identification (统一标识): volunteer numbers and the public badge check.

The badge QR code carries a random token, not the volunteer number or id, so nobody can
walk the number space to enumerate volunteers; the check reveals only what a resident
needs to trust the person in front of them.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Final

from app.domain.shared.clock import Clock, local_date
from app.domain.shared.personal_data import mask_name
from app.domain.shared.scope import Scope
from app.domain.volunteers.errors import BadgeNotFound
from app.domain.volunteers.lifecycle import VolunteerStatus
from app.domain.volunteers.model import Identification
from app.domain.volunteers.ports import VolunteersUnitOfWork

# 24 random bytes = 192 bits, URL-safe base64 (32 characters).
BADGE_TOKEN_BYTES: Final = 24
_TOKEN_SHAPE: Final = re.compile(r"[A-Za-z0-9_-]{20,64}")
_PREFIX_CHARS: Final = re.compile(r"[^A-Z0-9]")
DEFAULT_PREFIX: Final = "SW"
MAX_PREFIX: Final = 8


def new_badge_token() -> str:
    return secrets.token_urlsafe(BADGE_TOKEN_BYTES)


def plausible_badge_token(token: str) -> bool:
    """Cheap shape check before touching the database."""
    return _TOKEN_SHAPE.fullmatch(token) is not None


def district_prefix(district_code: str) -> str:
    """``wj`` → ``WJ``: the district's code in capitals, letters and digits only."""
    prefix = _PREFIX_CHARS.sub("", district_code.upper())[:MAX_PREFIX]
    return prefix or DEFAULT_PREFIX


def format_volunteer_number(prefix: str, year: int, sequence: int) -> str:
    """``WJ-2026-000123``: district prefix, year of activation, per-district sequence."""
    if sequence < 1:
        raise ValueError("sequence starts at 1")
    return f"{prefix}-{year:04d}-{sequence:06d}"


def new_identification(prefix: str, year: int, sequence: int) -> Identification:
    return Identification(
        number=format_volunteer_number(prefix, year, sequence), badge_token=new_badge_token()
    )


@dataclass(frozen=True, slots=True)
class BadgeTeam:
    brand: str
    name: str


@dataclass(frozen=True, slots=True)
class BadgeView:
    """Everything the public badge check shows — deliberately nothing more."""

    masked_name: str
    has_photo: bool
    volunteer_number: str
    active: bool
    valid_until: date | None
    teams: tuple[BadgeTeam, ...]


def badge_view(
    *,
    name: str,
    has_photo: bool,
    number: str,
    status: VolunteerStatus,
    valid_until: date | None,
    teams: tuple[BadgeTeam, ...],
    today: date,
) -> BadgeView:
    """Active means serving now: status active and the periodic re-check not overdue."""
    active = status == VolunteerStatus.ACTIVE and (valid_until is None or today <= valid_until)
    return BadgeView(
        masked_name=mask_name(name),
        has_photo=has_photo,
        volunteer_number=number,
        active=active,
        valid_until=valid_until,
        teams=teams,
    )


# The badge check is anonymous: its unit of work gets a scope that sees nothing, and only
# the two purpose-made unscoped reads (by token) are used.
ANONYMOUS_ACCOUNT_ID = uuid.UUID("00000000-0000-7000-8000-0000000000ff")
PUBLIC_SCOPE = Scope(account_id=ANONYMOUS_ACCOUNT_ID, roles=frozenset())


class BadgeService:
    def __init__(self, uow_factory: Callable[[Scope], VolunteersUnitOfWork], clock: Clock):
        self.uow_factory = uow_factory
        self.clock = clock

    async def check(self, token: str) -> BadgeView:
        """Public check of a badge QR code (no sign-in). Unknown token → BadgeNotFound."""
        if not plausible_badge_token(token):
            raise BadgeNotFound()
        async with self.uow_factory(PUBLIC_SCOPE) as uow:
            v = await uow.volunteers.by_badge_token(token)
            if v is None or v.identification is None:
                raise BadgeNotFound()
            teams = await uow.teams.public_teams_of(v.id)
        return badge_view(
            name=v.name,
            has_photo=v.has_photo,
            number=v.identification.number,
            status=v.status,
            valid_until=v.next_recheck_on,
            teams=tuple(BadgeTeam(brand=t.brand, name=t.name) for t in teams),
            today=local_date(self.clock.now()),
        )
