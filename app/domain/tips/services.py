"""Use cases of tip-offs: submit, read, the officer queue and the handling lifecycle.

Every method takes the caller's Scope first, opens one unit of work, lets the tip decide,
audits, raises thin events (ids, station, status: never description or informant) and
commits once.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from app.domain.media.services import MediaView, attach_media
from app.domain.organisation.ports import JurisdictionLocator
from app.domain.organisation.services import OrgUnitNotFound
from app.domain.review.velocity import Submission, SubmissionVelocity
from app.domain.shared.clock import Clock
from app.domain.shared.errors import NotAllowed, field_invalid
from app.domain.shared.events import DomainEvent
from app.domain.shared.geo import GeoPoint
from app.domain.shared.idempotency import Receipt, ReceiptKeyTaken
from app.domain.shared.ids import new_id
from app.domain.shared.scope import Role, Scope
from app.domain.shared.text import storable
from app.domain.tips.errors import (
    TipIdTaken,
    TipNotFound,
    TipRateLimited,
    appeal_unknown,
    bulk_size_invalid,
    outside_service_area,
    reason_required,
    referred_station_unknown,
    tip_rate_limited,
    unknown_officer,
)
from app.domain.tips.feedback import FeedbackTemplate, catalogue, new_template
from app.domain.tips.media import TIP_RECORD, UnauditedAttach
from app.domain.tips.model import (
    DESCRIPTION_MAX,
    REASON_MAX,
    Category,
    EventKind,
    Outcome,
    Routing,
    Tip,
    TipEvent,
    TipStatus,
    Urgency,
    submitted_event,
)
from app.domain.tips.ports import (
    AppealDirectory,
    Informant,
    RateGuard,
    SubmissionWrite,
    SubmissionWriter,
    SubmitOutcome,
    TipFilter,
    TipMediaReader,
    TipSlice,
    TipsUnitOfWork,
)
from app.domain.tips.views import TimeAgo, coarse_rule, coarsen, map_features, time_ago

UowFactory = Callable[[Scope], TipsUnitOfWork]
RATE_WINDOW = timedelta(hours=1)
BULK_ASSIGN_MAX = 100  # tips one bulk assignment may name (both doors)


@dataclass(frozen=True, slots=True)
class NewTip:
    category: Category
    description: str
    location: GeoPoint
    urgency: Urgency = Urgency.NORMAL
    anonymous: bool = False
    id: uuid.UUID | None = None  # client-generated, for safe retries
    media_ids: tuple[uuid.UUID, ...] = ()
    appeal_id: uuid.UUID | None = None
    contact_phone: str | None = None  # named tips only, normalised by the caller


@dataclass(frozen=True, slots=True)
class TipView:
    """A tip as one caller may see it. ``as_staff``: station staff of the tip (full
    handling data and history); otherwise the reporter (status and feedback only)."""

    tip: Tip
    as_staff: bool
    events: list[TipEvent]
    overdue: bool
    created: bool = False  # a submission that stored a new tip (not a retry)
    media: tuple[MediaView, ...] = ()  # attached media, in the order submitted
    # Coarse (see app/domain/tips/views.py): the caller sees the location snapped to a
    # cell centre and times only as buckets relative to ``now`` (the service clock).
    coarse: bool = False
    now: datetime | None = None

    @property
    def id(self) -> uuid.UUID:
        return self.tip.id

    @property
    def feedback(self) -> list[TipEvent]:
        return [e for e in self.events if e.feedback]

    @property
    def latest_feedback(self) -> TipEvent | None:
        """The last feedback sent to the reporter (history is in order of occurrence)."""
        feedback = self.feedback
        return feedback[-1] if feedback else None

    @property
    def location(self) -> GeoPoint:
        """The location as this caller may see it."""
        return coarsen(self.tip.location) if self.coarse else self.tip.location

    def exact(self, at: datetime | None) -> datetime | None:
        """``at`` for callers who see times exactly; None for coarse ones."""
        return None if self.coarse else at

    def ago(self, at: datetime | None) -> TimeAgo | None:
        """The relative bucket of ``at`` for coarse callers; None for exact ones."""
        if not self.coarse or at is None:
            return None
        return time_ago(at, self.now or at)


@dataclass(frozen=True, slots=True)
class RevealedInformant:
    account_id: uuid.UUID
    contact_phone: str | None


def is_staff_of(scope: Scope, tip: Tip) -> bool:
    return scope.is_staff and scope.sees_station(tip.routing.station_id, tip.routing.district_id)


def writes_at(scope: Scope, tip: Tip) -> bool:
    return scope.writes_at(tip.routing.station_id, tip.routing.district_id)


def _event(name: str, tip: Tip, at: datetime, **payload: Any) -> DomainEvent:
    body = {
        "station_id": tip.routing.station_id,
        "district_id": tip.routing.district_id,
        "status": tip.status.value,
        **payload,
    }
    return DomainEvent(name, "tip", tip.id, at, body)


class TipService:
    def __init__(
        self,
        uow_factory: UowFactory,
        clock: Clock,
        locator: JurisdictionLocator,
        *,
        media: TipMediaReader | None = None,
        hourly_limit: int = 10,
        appeals: AppealDirectory | None = None,
        read_uow_factory: UowFactory | None = None,
        velocity: SubmissionVelocity | None = None,
        writer: SubmissionWriter | None = None,
    ) -> None:
        self.uow_factory = uow_factory
        # Plain submissions in one statement (see ``writes_at_once``); without one, every
        # submission goes through a unit of work.
        self.writer = writer
        # The per-device hourly limit (set by the review context's wiring); the account's
        # limit is ``hourly_limit`` below.
        self.velocity = velocity
        # Reads may use a cheaper unit of work (no transaction round trips); they never
        # write or lock.
        self.reads = read_uow_factory or uow_factory
        self.clock = clock
        self.locator = locator
        self.media = media  # without a reader, views carry no media (unit tests)
        self.hourly_limit = hourly_limit
        self.appeals = appeals  # without a directory, no appeal is known (unit tests)

    # --- submission ---------------------------------------------------------------------

    def writes_at_once(self, scope: Scope, new: NewTip) -> bool:
        """Whether ``submit`` stores this submission in one statement (then it takes a
        ``receipt``): no media to attach, no appeal to link, no device to log."""
        return (
            self.writer is not None
            and not new.media_ids
            and new.appeal_id is None
            and (self.velocity is None or scope.device_id is None)
        )

    async def submit(
        self, scope: Scope, new: NewTip, *, receipt: Receipt[TipView] | None = None
    ) -> TipView:
        """Any signed-in account may submit. A retry with the same client id by the same
        account returns the stored tip (``created`` False) instead of a second one.

        ``receipt`` (only when ``writes_at_once``): the Idempotency-Key is stored with the
        tip, its response rendered first; ``ReceiptKeyTaken`` when the key exists."""
        description = new.description.strip()
        if not description or len(description) > DESCRIPTION_MAX or not storable(description):
            raise field_invalid(
                "tip.description_invalid",
                "description",
                "Describe what you saw (1 to 2000 characters).",
                "请描述您看到的情况（1至2000字）。",
            )
        if new.appeal_id is not None and not (
            self.appeals is not None and await self.appeals.is_open_to(scope, new.appeal_id)
        ):
            raise appeal_unknown()
        if new.anonymous and new.contact_phone:
            raise field_invalid(
                "tip.anonymous_contact",
                "contact_phone",
                "An anonymous tip carries no contact details.",
                "匿名线索不能填写联系方式。",
            )
        tip_id = new.id or new_id()
        if new.id is not None:
            # A client id may be a retry: answer it before the rate limit could refuse it.
            # (Without one there is nothing to retry; the insert below still refuses a
            # taken id.)
            existing = await self._retry_of(scope, tip_id)
            if existing is not None:
                return existing
        routing = Routing.of(await self.locator.locate(new.location))
        if routing is None:
            raise outside_service_area()
        now = self.clock.now()
        tip = Tip(
            id=tip_id,
            category=new.category,
            description=description,
            location=new.location,
            urgency=new.urgency,
            anonymous=new.anonymous,
            routing=routing,
            submitted_at=now,
            media_ids=tuple(dict.fromkeys(new.media_ids)),
        )
        tip.pending.append(submitted_event(tip))
        informant = None if new.anonymous else Informant(scope.account_id, new.contact_phone)
        # An anonymous tip must not be traceable through the request id of its outbox row.
        uow_scope = dataclasses.replace(scope, request_id=None) if new.anonymous else scope
        if self.writes_at_once(scope, new):
            return await self._write_at_once(scope, uow_scope, tip, informant, receipt)
        if receipt is not None:
            raise ValueError("a receipt is only taken by a submission written at once")
        async with self.uow_factory(uow_scope) as uow:
            earlier = await uow.submissions.record(
                scope.account_id, now, window_start=now - RATE_WINDOW
            )
            self._check_rate(earlier, now)  # over the limit: nothing is committed
            if self.velocity is not None and scope.device_id is not None:
                # Anonymous tips are logged without the tip and the account.
                submission = Submission(
                    TIP_RECORD,
                    now,
                    None if new.anonymous else tip_id,
                    None if new.anonymous else scope.account_id,
                    scope.device_id,
                )
                await self.velocity.check(uow, submission, tip_rate_limited, per_account=False)
            if not await uow.tips.insert(tip, informant=informant, submitter=scope.account_id):
                await uow.rollback()
                retried = await self._retry_of(scope, tip_id)
                if retried is None:
                    raise TipIdTaken()
                return retried
            if new.appeal_id is not None:
                await uow.tips.link_appeal(tip.id, new.appeal_id)
            # Same transaction: unknown/foreign media (404) or media not ready or attached
            # elsewhere (409) roll the whole tip back, so nothing is accepted partially.
            if tip.media_ids:
                await attach_media(
                    UnauditedAttach(uow) if new.anonymous else uow,
                    scope,
                    tip.media_ids,
                    TIP_RECORD,
                    tip.id,
                )
            # Submissions are not audited: the entry's actor would name the informant, whom
            # only the sealed informant row may (the tip's history has no actor either).
            uow.add_event(_event("tip.submitted", tip, now, urgency=tip.urgency.value))
            await uow.commit()
        tip.pending.clear()
        return await self._one(TipView(tip, False, [], False, created=True))

    async def _write_at_once(
        self,
        scope: Scope,
        uow_scope: Scope,
        tip: Tip,
        informant: Informant | None,
        receipt: Receipt[TipView] | None,
    ) -> TipView:
        """The plain submission as one atomic write: the response it answers with is known
        before it (nothing the write returns changes it), so even the Idempotency-Key's
        stored response goes in with the tip."""
        assert self.writer is not None
        now = tip.submitted_at
        view = TipView(tip, False, [], False, created=True)
        result = await self.writer.write(
            SubmissionWrite(
                tip=tip,
                informant=informant,
                submitter=scope.account_id,
                scope=uow_scope,
                rate=RateGuard(self.hourly_limit, now - RATE_WINDOW),
                event=_event("tip.submitted", tip, now, urgency=tip.urgency.value),
                receipt=receipt,
                response=receipt.render(view) if receipt is not None else None,
            )
        )
        if result.outcome is SubmitOutcome.RATE_LIMITED:
            self._check_rate(result.earlier, now)
            raise RuntimeError("the writer refused a submission within the hourly limit")
        if result.outcome is SubmitOutcome.KEY_TAKEN:
            raise ReceiptKeyTaken()
        if result.outcome is SubmitOutcome.ID_TAKEN:
            retried = await self._retry_of(scope, tip.id)
            if retried is None:
                raise TipIdTaken()
            return retried
        tip.pending.clear()
        return view

    async def _retry_of(self, scope: Scope, tip_id: uuid.UUID) -> TipView | None:
        """The tip this account already submitted under ``tip_id``, as its reporter sees it
        (anonymous ones too: the sender proves it by the id and the account together)."""
        async with self.reads(scope) as uow:
            tip = await uow.tips.submitted_by(tip_id, scope.account_id)
            if tip is None:
                return None
            view = await self._reporter_view(uow, tip)
        return await self._one(view)

    def _check_rate(self, earlier: Sequence[datetime], now: datetime) -> None:
        recent = sorted(earlier)
        if len(recent) >= self.hourly_limit:
            oldest = recent[len(recent) - self.hourly_limit]
            wait = int((oldest + RATE_WINDOW - now).total_seconds()) + 1
            raise TipRateLimited(
                wait, limit=self.hourly_limit, window_seconds=int(RATE_WINDOW.total_seconds())
            )

    # --- reads ----------------------------------------------------------------------------

    async def get(self, scope: Scope, tip_id: uuid.UUID) -> TipView:
        async with self.reads(scope) as uow:
            tip = await uow.tips.get(tip_id)
            if tip is None:
                raise TipNotFound()
            view = await self._view(uow, scope, tip)
        return await self._one(view)

    async def get_many(self, scope: Scope, ids: list[uuid.UUID]) -> dict[uuid.UUID, TipView]:
        """The tips among ``ids`` the caller may see (for GraphQL node batches)."""
        found: dict[uuid.UUID, TipView] = {}
        async with self.reads(scope) as uow:
            for tip_id in dict.fromkeys(ids):
                tip = await uow.tips.get(tip_id)
                if tip is not None:
                    found[tip_id] = await self._view(uow, scope, tip)
        views = await self._with_media(*found.values())
        return {v.id: v for v in views}

    async def mine(
        self, scope: Scope, *, limit: int, after: uuid.UUID | None
    ) -> tuple[list[TipView], bool]:
        """The caller's own named tips with their feedback, newest first; and whether more
        follow."""
        async with self.reads(scope) as uow:
            page = await uow.tips.of_reporter(
                scope.account_id, limit=limit, after=after, with_feedback=True
            )
            events = await self._feedback_of(uow, page)
        views = [
            TipView(t, False, [e for e in events.get(t.id, []) if e.feedback], False)
            for t in page.items
        ]
        return await self._with_media(*views), page.has_more

    async def _feedback_of(
        self, uow: TipsUnitOfWork, page: TipSlice
    ) -> dict[uuid.UUID, list[TipEvent]]:
        """The page's feedback entries: read with the page when the repository could, else
        one history query for the whole page (never one per tip)."""
        if page.feedback is not None:
            return page.feedback
        tip_ids = [t.id for t in page.items]
        return await uow.tips.events_of(tip_ids) if tip_ids else {}

    async def mine_by_ids(self, scope: Scope, ids: list[uuid.UUID]) -> dict[uuid.UUID, TipView]:
        """Those of ``ids`` that are the caller's own named tips, as ``mine`` shows them
        (for sync: one batch for tips, one for histories, one for media)."""
        if not ids:
            return {}
        async with self.reads(scope) as uow:
            tips = await uow.tips.own_by_ids(scope.account_id, list(dict.fromkeys(ids)))
            events = await uow.tips.events_of([t.id for t in tips]) if tips else {}
        views = [
            TipView(t, False, [e for e in events.get(t.id, []) if e.feedback], False) for t in tips
        ]
        return {v.id: v for v in await self._with_media(*views)}

    def queue_filter(
        self,
        status: TipStatus | None = None,
        category: Category | None = None,
        urgency: Urgency | None = None,
        grid_id: uuid.UUID | None = None,
        *,
        overdue: bool = False,
    ) -> TipFilter:
        """The queue's filter; ``overdue``: open work past its due time now."""
        return TipFilter(
            status=status,
            category=category,
            urgency=urgency,
            grid_id=grid_id,
            overdue_at=self.clock.now() if overdue else None,
        )

    async def queue_views(
        self, scope: Scope, where: TipFilter, *, limit: int, after: uuid.UUID | None
    ) -> tuple[list[TipView], bool]:
        """The officer queue as staff views with their media. Their ``events`` hold only the
        feedback sent to reporters (for the latest feedback), not the whole history: one
        history query for the whole page, in the page's unit of work."""
        if not (scope.is_staff or scope.unrestricted):
            raise NotAllowed()
        async with self.reads(scope) as uow:
            page = await uow.tips.page(where, limit=limit, after=after, with_feedback=True)
            events = await self._feedback_of(uow, page)
            coarse = await self._coarse_of(uow, scope, page.items)
        now = self.clock.now()
        # Positional: a page builds dozens, and keywords cost half as much again.
        views = [
            TipView(
                t,
                True,
                [e for e in events.get(t.id, ()) if e.feedback],
                t.is_overdue(now),
                False,
                (),
                coarse[t.id],
                now,
            )
            for t in page.items
        ]
        return await self._with_media(*views), page.has_more

    async def map(self, scope: Scope, where: TipFilter, *, limit: int) -> dict[str, Any]:
        """The queue's first ``limit`` tips as a GeoJSON FeatureCollection (coarse points for
        callers who see those tips coarsened)."""
        if not (scope.is_staff or scope.unrestricted):
            raise NotAllowed()
        async with self.reads(scope) as uow:
            page = await uow.tips.page(where, limit=limit, after=None)
            coarse = await self._coarse_of(uow, scope, page.items)
        overdue = {t.id: self.overdue(t) for t in page.items}
        return map_features(page.items, overdue=overdue, coarse=coarse)

    async def _coarse_of(
        self, uow: TipsUnitOfWork, scope: Scope, tips: list[Tip]
    ) -> dict[uuid.UUID, bool]:
        """Per tip, whether the caller sees it coarsened. Only when some would be does one
        more query find those the caller reported by name (seen exactly)."""
        seen_coarse = coarse_rule(scope)
        coarse = {t.id: seen_coarse(t) for t in tips}
        maybe = [tip_id for tip_id, c in coarse.items() if c]
        if maybe:
            for own in await uow.tips.own_by_ids(scope.account_id, maybe):
                coarse[own.id] = False
        return coarse

    async def counts(self, scope: Scope) -> dict[TipStatus, int]:
        if not (scope.is_staff or scope.unrestricted):
            raise NotAllowed()
        async with self.reads(scope) as uow:
            counted = await uow.tips.counts()
        return {s: counted.get(s, 0) for s in TipStatus}

    def overdue(self, tip: Tip) -> bool:
        return tip.is_overdue(self.clock.now())

    async def _view(self, uow: TipsUnitOfWork, scope: Scope, tip: Tip) -> TipView:
        if is_staff_of(scope, tip) or scope.unrestricted:
            events = await uow.tips.events(tip.id)
            coarse = (await self._coarse_of(uow, scope, [tip]))[tip.id]
            return TipView(
                tip, True, events, self.overdue(tip), coarse=coarse, now=self.clock.now()
            )
        return await self._reporter_view(uow, tip)

    async def _reporter_view(self, uow: TipsUnitOfWork, tip: Tip) -> TipView:
        events = [e for e in await uow.tips.events(tip.id) if e.feedback]
        return TipView(tip, False, events, False)

    async def _with_media(self, *views: TipView) -> list[TipView]:
        """Only called with views the caller was allowed (under its scope): one batch for
        all of them, after the tips' own unit of work has closed."""
        if self.media is None or not any(v.tip.media_ids for v in views):
            return list(views)
        found = await self.media.of_tips([v.tip for v in views])
        return [dataclasses.replace(v, media=tuple(found.get(v.id, ()))) for v in views]

    async def _one(self, view: TipView) -> TipView:
        return (await self._with_media(view))[0]

    # --- lifecycle --------------------------------------------------------------------------

    async def _for_write(self, uow: TipsUnitOfWork, scope: Scope, tip_id: uuid.UUID) -> Tip:
        tip = await uow.tips.get(tip_id, for_update=True)
        if tip is None or not (is_staff_of(scope, tip) or scope.unrestricted):
            raise TipNotFound()
        if not writes_at(scope, tip):
            raise NotAllowed()
        return tip

    async def assign(
        self,
        scope: Scope,
        tip_id: uuid.UUID,
        officer_id: uuid.UUID,
        due_at: datetime,
        *,
        expected_version: int | None = None,
    ) -> TipView:
        async with self.uow_factory(scope) as uow:
            tip = await self._for_write(uow, scope, tip_id)
            r = tip.routing
            if not await uow.roster.is_officer_of(officer_id, r.station_id, r.district_id):
                raise unknown_officer()
            now = self.clock.now()
            tip.assign(officer_id, due_at, at=now, by=scope.account_id)
            await uow.tips.save(tip, expected_version=expected_version)
            uow.audit("tip.assign", "tip", tip.id, {"assignee_id": officer_id})
            uow.add_event(_event("tip.assigned", tip, now, assignee_id=officer_id))
            view = await self._view(uow, scope, tip)
            await uow.commit()
        return await self._one(view)

    async def bulk_assign(
        self, scope: Scope, tip_ids: list[uuid.UUID], officer_id: uuid.UUID, due_at: datetime
    ) -> list[TipView]:
        """Assign several tips at once (1 to ``BULK_ASSIGN_MAX`` ids), all or nothing."""
        if not 1 <= len(tip_ids) <= BULK_ASSIGN_MAX:
            raise bulk_size_invalid(BULK_ASSIGN_MAX)
        async with self.uow_factory(scope) as uow:
            now = self.clock.now()
            views = []
            for tip_id in dict.fromkeys(tip_ids):
                tip = await self._for_write(uow, scope, tip_id)
                r = tip.routing
                if not await uow.roster.is_officer_of(officer_id, r.station_id, r.district_id):
                    raise unknown_officer()
                tip.assign(officer_id, due_at, at=now, by=scope.account_id)
                await uow.tips.save(tip, expected_version=None)
                uow.audit("tip.assign", "tip", tip.id, {"assignee_id": officer_id})
                uow.add_event(_event("tip.assigned", tip, now, assignee_id=officer_id))
                views.append(await self._view(uow, scope, tip))
            await uow.commit()
        return await self._with_media(*views)

    async def start_verifying(
        self, scope: Scope, tip_id: uuid.UUID, *, expected_version: int | None = None
    ) -> TipView:
        async with self.uow_factory(scope) as uow:
            tip = await self._for_write(uow, scope, tip_id)
            tip.start_verifying(at=self.clock.now(), by=scope.account_id)
            await uow.tips.save(tip, expected_version=expected_version)
            uow.audit("tip.start_verifying", "tip", tip.id)
            view = await self._view(uow, scope, tip)
            await uow.commit()
        return await self._one(view)

    async def record_outcome(
        self,
        scope: Scope,
        tip_id: uuid.UUID,
        outcome: Outcome,
        *,
        duplicate_of: uuid.UUID | None = None,
        referred_to: str | None = None,
        referred_to_station: uuid.UUID | None = None,
        feedback_template: str | None = None,
        expected_version: int | None = None,
    ) -> TipView:
        """``referred_to_station``: a referral to another station moves the tip into that
        station's queue (``tip.referred``); the referring station loses sight of it."""
        async with self.uow_factory(scope) as uow:
            tip = await self._for_write(uow, scope, tip_id)
            original = await uow.tips.get(duplicate_of) if duplicate_of is not None else None
            if duplicate_of is not None and not (
                original is not None
                and duplicate_of != tip_id
                # the original must be work of the caller's jurisdiction, not merely a
                # tip they can see as its reporter
                and (scope.unrestricted or is_staff_of(scope, original))
            ):
                raise field_invalid(
                    "tip.duplicate_of_unknown",
                    "duplicate_of",
                    "The other tip was not found.",
                    "未找到被重复的线索。",
                )
            target = None
            if referred_to_station is not None:
                target = await uow.stations.station(referred_to_station)
                if target is None:
                    raise referred_station_unknown()
            station = tip.routing.station_id
            overrides = await uow.templates.of_station(station) if station else []
            now = self.clock.now()
            event = tip.record_outcome(
                outcome,
                at=now,
                by=scope.account_id,
                duplicate_of=duplicate_of,
                referred_to=referred_to,
                referred_station=target,
                feedback_template=feedback_template,
                templates=catalogue(overrides),
            )
            await uow.tips.save(tip, expected_version=expected_version)
            uow.audit("tip.record_outcome", "tip", tip.id, dict(event.detail))
            if event.kind == EventKind.REFERRED:
                # Thin: ids only. ``station_id`` is the new station (its queue and
                # subscribers); the old one is named so its consoles can drop the tip.
                uow.add_event(
                    _event(
                        "tip.referred",
                        tip,
                        now,
                        outcome=outcome.value,
                        from_station_id=station,
                        to_station_id=tip.routing.station_id,
                    )
                )
            else:
                uow.add_event(_event("tip.outcome_recorded", tip, now, outcome=outcome.value))
            view = await self._view(uow, scope, tip)
            await uow.commit()
        return await self._one(view)

    async def close(
        self, scope: Scope, tip_id: uuid.UUID, *, expected_version: int | None = None
    ) -> TipView:
        async with self.uow_factory(scope) as uow:
            tip = await self._for_write(uow, scope, tip_id)
            tip.close(at=self.clock.now(), by=scope.account_id)
            await uow.tips.save(tip, expected_version=expected_version)
            uow.audit("tip.close", "tip", tip.id)
            view = await self._view(uow, scope, tip)
            await uow.commit()
        return await self._one(view)

    async def dispute(self, scope: Scope, tip_id: uuid.UUID, reason: str) -> TipView:
        """The reporter reopens a tip whose outcome they dispute; the handler is notified
        through the ``tip.disputed`` event (which names the handler, not the reporter)."""
        async with self.uow_factory(scope) as uow:
            tip = await uow.tips.get(tip_id, for_update=True)
            if tip is None:
                raise TipNotFound()
            if not await uow.tips.is_reporter(tip_id, scope.account_id):
                raise NotAllowed()
            now = self.clock.now()
            tip.dispute(reason, at=now)
            await uow.tips.save(tip, expected_version=None)
            uow.add_event(_event("tip.disputed", tip, now, assignee_id=tip.assignee_id))
            view = await self._reporter_view(uow, tip)
            await uow.commit()
        return await self._one(view)

    # --- feedback templates of a station ----------------------------------------------------

    async def feedback_templates(
        self, scope: Scope, station_id: uuid.UUID
    ) -> list[FeedbackTemplate]:
        """The catalogue an officer of the station chooses from (defaults plus its own)."""
        if not (scope.unrestricted or station_id in scope.station_ids):
            raise OrgUnitNotFound()  # a station outside the caller's reach is not found
        if not (scope.unrestricted or scope.is_staff):
            raise NotAllowed()
        async with self.reads(scope) as uow:
            own = await uow.templates.of_station(station_id)
        return sorted(catalogue(own).values(), key=lambda t: (t.outcome, t.code))

    async def save_feedback_template(
        self,
        scope: Scope,
        station_id: uuid.UUID,
        code: str,
        outcome: str,
        text_zh: str,
        text_en: str,
    ) -> FeedbackTemplate:
        """Station admins (or district admins over it) word their station's feedback."""
        admins = scope.stations_as(Role.STATION_ADMIN, Role.DISTRICT_ADMIN)
        if not (scope.unrestricted or station_id in scope.station_ids):
            raise OrgUnitNotFound()  # a station outside the caller's reach is not found
        if not (scope.unrestricted or station_id in admins):
            raise NotAllowed()
        template = new_template(code, outcome, text_zh, text_en)
        async with self.uow_factory(scope) as uow:
            await uow.templates.save(station_id, template)
            uow.audit(
                "tip.save_feedback_template",
                "org_unit",
                station_id,
                {"code": template.code, "outcome": template.outcome},
            )
            await uow.commit()
        return template

    async def reveal_informant(
        self, scope: Scope, tip_id: uuid.UUID, reason: str | None = None
    ) -> RevealedInformant | None:
        """Who reported a named tip (None for anonymous tips). The handling officer needs no
        reason; other station staff must state one. Every reveal is audited."""
        text = (reason or "").strip()
        if len(text) > REASON_MAX or not storable(text):
            raise reason_required()
        async with self.uow_factory(scope) as uow:
            tip = await uow.tips.get(tip_id)
            if tip is None or not (is_staff_of(scope, tip) or scope.unrestricted):
                raise TipNotFound()
            handler = tip.assignee_id == scope.account_id
            if not handler:
                if not (writes_at(scope, tip) or scope.has(Role.AUDITOR)):
                    raise NotAllowed()
                if not text:
                    raise reason_required()
            informant = None if tip.anonymous else await uow.tips.informant(tip.id)
            uow.audit(
                "tip.reveal_informant",
                "tip",
                tip.id,
                {"as_handler": handler, "reason": text or None, "anonymous": tip.anonymous},
            )
            await uow.commit()
        if informant is None:
            return None
        return RevealedInformant(informant.account_id, informant.contact_phone)
