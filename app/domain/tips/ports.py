"""Ports of the tips context."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from app.domain.media.ports import MediaRepository
from app.domain.media.services import MediaView
from app.domain.shared.clock import Clock
from app.domain.shared.events import DomainEvent
from app.domain.shared.idempotency import Receipt, StoredResponse
from app.domain.shared.scope import Scope
from app.domain.shared.uow import UnitOfWork
from app.domain.tips.feedback import FeedbackTemplate
from app.domain.tips.model import Category, StationRef, Tip, TipEvent, TipStatus, Urgency


@dataclass(frozen=True, slots=True, repr=False)
class Informant:
    """A named reporter's identity (举报人身份), stored sealed apart from the tip."""

    account_id: uuid.UUID
    contact_phone: str | None = None

    def __repr__(self) -> str:
        return "Informant(<sealed>)"


@dataclass(frozen=True, slots=True)
class TipFilter:
    status: TipStatus | None = None
    category: Category | None = None
    urgency: Urgency | None = None
    grid_id: uuid.UUID | None = None
    overdue_at: datetime | None = None  # only tips whose due time is before this
    appeal_id: uuid.UUID | None = None  # only clues to this police appeal


@dataclass(frozen=True, slots=True)
class TipSlice:
    items: list[Tip]
    has_more: bool
    # With ``with_feedback``: the feedback entries (history entries that carried feedback
    # to the reporter) of each tip that has any, read with the page. None: not read.
    feedback: dict[uuid.UUID, list[TipEvent]] | None = None


class TipRepository(Protocol):
    """Reads see tips routed into the unit's scope (station staff) plus the caller's own
    named tips (as reporter); anything else is simply not found."""

    async def insert(self, tip: Tip, *, informant: Informant | None, submitter: uuid.UUID) -> bool:
        """Store a new tip (with its pending events); ``False`` when the id exists already.
        ``submitter`` is kept only as a keyed digest bound to the tip id, so a retry by the
        same account can be recognised without storing who sent an anonymous tip."""
        ...

    async def submitted_by(self, tip_id: uuid.UUID, account_id: uuid.UUID) -> Tip | None:
        """The tip with this id if ``account_id`` submitted it (whatever the scope)."""
        ...

    async def get(self, tip_id: uuid.UUID, *, for_update: bool = False) -> Tip | None: ...

    async def exists(self, tip_id: uuid.UUID) -> bool:
        """Whether the tip is visible in the unit's scope (one indexed existence query)."""
        ...

    async def is_reporter(self, tip_id: uuid.UUID, account_id: uuid.UUID) -> bool: ...

    async def link_appeal(self, tip_id: uuid.UUID, appeal_id: uuid.UUID) -> None:
        """Record the new tip as a clue to the police appeal."""
        ...

    async def save(self, tip: Tip, *, expected_version: int | None) -> None:
        """Store changes and pending events; raises ``StaleVersion`` when the stored
        version differs (``None``: the version the tip was loaded with)."""
        ...

    async def events(self, tip_id: uuid.UUID) -> list[TipEvent]: ...

    async def events_of(self, tip_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[TipEvent]]:
        """The histories of several tips in one query (ids the caller may already see)."""
        ...

    async def own_by_ids(self, account_id: uuid.UUID, tip_ids: Sequence[uuid.UUID]) -> list[Tip]:
        """Those of ``tip_ids`` that ``account_id`` reported by name."""
        ...

    async def page(
        self,
        where: TipFilter,
        *,
        limit: int,
        after: uuid.UUID | None,
        with_feedback: bool = False,
    ) -> TipSlice:
        """Tips routed into the scope, newest first (and their feedback entries, in the
        same query, when asked)."""
        ...

    async def of_reporter(
        self,
        account_id: uuid.UUID,
        *,
        limit: int,
        after: uuid.UUID | None,
        with_feedback: bool = False,
    ) -> TipSlice: ...

    async def counts(self) -> dict[TipStatus, int]: ...

    async def informant(self, tip_id: uuid.UUID) -> Informant | None: ...


class SubmissionLog(Protocol):
    """When an account submitted tips, under a keyed digest (for the rate limit only)."""

    async def record(
        self, account_id: uuid.UUID, at: datetime, *, window_start: datetime
    ) -> Sequence[datetime]:
        """Log a submission at ``at`` and return the account's EARLIER submissions after
        ``window_start`` (one round trip; a refused submission is rolled back with its
        unit of work)."""
        ...


@dataclass(frozen=True, slots=True)
class RateGuard:
    """The hourly limit as a condition of a write: store only when the account has fewer
    than ``limit`` submissions after ``window_start``."""

    limit: int
    window_start: datetime


class SubmitOutcome(StrEnum):
    STORED = "stored"
    RATE_LIMITED = "rate_limited"  # nothing written; ``earlier`` holds the window
    KEY_TAKEN = "key_taken"  # the receipt's key exists: nothing written
    ID_TAKEN = "id_taken"  # a tip with this id exists: nothing written


@dataclass(frozen=True, slots=True)
class SubmitResult:
    outcome: SubmitOutcome
    earlier: Sequence[datetime] = ()  # the account's submissions in the window


@dataclass(frozen=True, slots=True)
class SubmissionWrite:
    """Everything a plain submission writes (no media, appeal or device log), for a
    writer that stores it as one atomic statement: the tip with its pending history, the
    sealed informant, the rate-log entry under ``rate``, the outbox event and the
    Idempotency-Key's receipt with its rendered response (no audit entry: its actor would
    name the informant)."""

    tip: Tip
    informant: Informant | None
    submitter: uuid.UUID
    scope: Scope  # the outbox row's request id (None for anonymous tips)
    rate: RateGuard
    event: DomainEvent
    receipt: Receipt[Any] | None = None
    response: StoredResponse | None = None


class SubmissionWriter(Protocol):
    async def write(self, submission: SubmissionWrite) -> SubmitResult:
        """All of it or nothing, in one statement (no transaction round trips)."""
        ...


class OfficerRoster(Protocol):
    async def is_officer_of(
        self, account_id: uuid.UUID, station_id: uuid.UUID | None, district_id: uuid.UUID
    ) -> bool:
        """An officer of the station; for a district-queue tip, an officer of any station
        of the district or an officer / district admin bound to the district itself."""
        ...


class StationDirectory(Protocol):
    """Police stations a tip may be referred to: any station of the system, whatever the
    caller's scope (the referring officer need not see the other station)."""

    async def station(self, station_id: uuid.UUID) -> StationRef | None:
        """The station with this id, or None when no org unit of level station has it."""
        ...


class TipMediaReader(Protocol):
    """The media attached to tips, for tips the caller has ALREADY been allowed to see
    (the tips service checked them under the caller's scope): one batch for a whole page."""

    async def of_tips(self, tips: Sequence[Tip]) -> dict[uuid.UUID, list[MediaView]]: ...


class FeedbackTemplateStore(Protocol):
    """Stations' own feedback templates (overrides and additions to the defaults)."""

    async def of_station(self, station_id: uuid.UUID) -> list[FeedbackTemplate]: ...

    async def save(self, station_id: uuid.UUID, template: FeedbackTemplate) -> None:
        """Create or replace the station's template with this code."""
        ...


class AppealDirectory(Protocol):
    """The appeals context, as tip submission sees it."""

    async def is_open_to(self, scope: Scope, appeal_id: uuid.UUID) -> bool:
        """The appeal exists, is published and unexpired, and the caller may see it."""
        ...


class TipsUnitOfWork(UnitOfWork, Protocol):
    # Plain attributes (not properties) so the unit also serves as the media context's
    # ``MediaUnitOfWork``: ``attach_media`` joins the tip's own transaction.
    media: MediaRepository
    clock: Clock

    @property
    def tips(self) -> TipRepository: ...

    @property
    def submissions(self) -> SubmissionLog: ...

    @property
    def roster(self) -> OfficerRoster: ...

    @property
    def templates(self) -> FeedbackTemplateStore: ...

    @property
    def stations(self) -> StationDirectory: ...
