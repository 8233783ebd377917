"""Use cases of hazards (隐患): report (with the duplicate check), read as one may, verify,
merge, assign, rectify, re-inspect, reopen, escalate, count.

Who sees what (``Audience``):
- station staff of the hazard's routing: everything, with reporters and the history;
- the responsible department or party (``department`` accounts): the hazards assigned to
  it, with photos and history, never who reported;
- reporters (the first and those of merged duplicates): their hazard and its progress;
- volunteers of the station: hazards awaiting re-inspection, never who reported.

Every method takes the caller's Scope first, opens one unit of work, lets the hazard
decide, audits, raises thin events (ids, station, category, status; never text or people)
and commits once. Events (payload: hazard_id, station_id, district_id, category, status,
outcome, plus): ``hazard.reported``; ``hazard.verified`` (outcome real / not_hazard /
duplicate with duplicate_of); ``hazard.merged`` (into); ``hazard.assigned``
(department_id, assignee_account_id, deadline); ``hazard.rectification_started``;
``hazard.rectified``; ``hazard.reinspected`` (passed); ``hazard.closed`` (reason
rectified / not_hazard / duplicate); ``hazard.reopened``; ``hazard.escalated`` (level).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from app.domain.hazards.errors import (
    CannotMerge,
    CategoryCodeTaken,
    CategoryNotFound,
    DepartmentNotFound,
    HazardIdTaken,
    HazardNotFound,
    NotAssignee,
    NotReinspector,
    NotReporter,
    hazard_rate_limited,
    outside_service_area,
)
from app.domain.hazards.model import (
    DEFAULT_RECTIFICATION_DAYS,
    Category,
    Department,
    DepartmentKind,
    DuplicateRule,
    Hazard,
    HazardEvent,
    HazardStatus,
    Outcome,
    Routing,
    TopCategory,
    checked_description,
    checked_photos,
    checked_place,
)
from app.domain.hazards.ports import (
    HazardFilter,
    HazardUnitOfWork,
    NearbyHazard,
    NearbyReader,
    ReportOutcome,
    ReportWrite,
    ReportWriter,
    StatsLevel,
    StatsRow,
)
from app.domain.media.model import Attachment
from app.domain.media.services import attach_media
from app.domain.organisation.ports import JurisdictionLocator
from app.domain.review.velocity import Submission, SubmissionVelocity
from app.domain.shared.clock import CHINA_TZ, Clock, local_date
from app.domain.shared.errors import NotAllowed, field_invalid
from app.domain.shared.events import AuditNote, DomainEvent
from app.domain.shared.geo import GeoPoint
from app.domain.shared.idempotency import Receipt, ReceiptKeyTaken
from app.domain.shared.ids import new_id
from app.domain.shared.scope import Role, Scope

UowFactory = Callable[[Scope], HazardUnitOfWork]
HAZARD_RECORD = "hazard"  # the record type media objects are attached to
NEARBY_LIMIT = 10
ESCALATION_BATCH = 200


class Audience(StrEnum):
    STAFF = "staff"
    DEPARTMENT = "department"
    REPORTER = "reporter"
    VOLUNTEER = "volunteer"


@dataclass(frozen=True, slots=True)
class NewHazard:
    category: TopCategory
    description: str
    location: GeoPoint
    media_ids: tuple[uuid.UUID, ...]
    place: str | None = None
    subcategory_id: uuid.UUID | None = None
    id: uuid.UUID | None = None  # client-generated, for safe retries


@dataclass(frozen=True, slots=True)
class HazardView:
    """A hazard as one caller may see it; adapters render what the properties give."""

    hazard: Hazard
    audience: Audience
    events: list[HazardEvent] = field(default_factory=list)
    linked: list[uuid.UUID] = field(default_factory=list)
    possible_duplicates: list[NearbyHazard] = field(default_factory=list)
    created: bool = False

    @property
    def id(self) -> uuid.UUID:
        return self.hazard.id

    @property
    def is_staff(self) -> bool:
        return self.audience == Audience.STAFF

    @property
    def reporters(self) -> list[uuid.UUID] | None:
        """Staff only."""
        return list(self.hazard.reporters) if self.is_staff else None

    @property
    def history(self) -> list[HazardEvent] | None:
        """Staff and the responsible party (who acted is the staff's to know)."""
        if self.audience not in (Audience.STAFF, Audience.DEPARTMENT):
            return None
        return self.events


@dataclass(frozen=True, slots=True)
class NewCategory:
    district_id: uuid.UUID
    top: TopCategory
    code: str
    name_zh: str
    name_en: str
    department_id: uuid.UUID | None = None
    rectification_days: int = DEFAULT_RECTIFICATION_DAYS
    duplicate_radius_m: int = DuplicateRule().radius_m
    duplicate_window_days: int = DuplicateRule().window_days


def is_staff_of(scope: Scope, hazard: Hazard) -> bool:
    r = hazard.routing
    return scope.unrestricted or (
        scope.is_staff and scope.sees_station(r.station_id, r.district_id)
    )


def writes_at(scope: Scope, hazard: Hazard) -> bool:
    return scope.writes_at(hazard.routing.station_id, hazard.routing.district_id)


def is_assignee(scope: Scope, hazard: Hazard, departments: frozenset[uuid.UUID]) -> bool:
    if hazard.department_id is None:
        return False
    return hazard.assignee_account_id == scope.account_id or hazard.department_id in departments


def audience_of(scope: Scope, hazard: Hazard, departments: frozenset[uuid.UUID]) -> Audience:
    if is_staff_of(scope, hazard):
        return Audience.STAFF
    if is_assignee(scope, hazard, departments):
        return Audience.DEPARTMENT
    if hazard.is_reporter(scope.account_id):
        return Audience.REPORTER
    return Audience.VOLUNTEER


def _event(name: str, hazard: Hazard, at: datetime, **payload: Any) -> DomainEvent:
    body = {
        "hazard_id": hazard.id,
        "station_id": hazard.routing.station_id,
        "district_id": hazard.routing.district_id,
        "category": hazard.category.value,
        "status": hazard.status.value,
        "outcome": hazard.outcome.value if hazard.outcome else None,
        **payload,
    }
    return DomainEvent(name, "hazard", hazard.id, at, body)


def day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """Beijing calendar days [start, end] as a UTC-comparable half-open interval."""
    if end < start:
        raise field_invalid(
            "hazard.period_invalid", "to", "The period ends before it starts.", "统计区间无效。"
        )
    return (
        datetime.combine(start, time(), CHINA_TZ),
        datetime.combine(end + timedelta(days=1), time(), CHINA_TZ),
    )


def _new_hazard(
    scope: Scope, new: NewHazard, hazard_id: uuid.UUID, routing: Routing, now: datetime
) -> Hazard:
    return Hazard.report(
        id=hazard_id,
        category=new.category,
        description=new.description,
        location=new.location,
        routing=routing,
        reporter_id=scope.account_id,
        media_ids=new.media_ids,
        at=now,
        place=new.place,
        subcategory_id=new.subcategory_id,
    )


class HazardService:
    def __init__(
        self,
        uow_factory: UowFactory,
        clock: Clock,
        locator: JurisdictionLocator,
        *,
        velocity: SubmissionVelocity | None = None,
        writer: ReportWriter | None = None,
        nearby_reader: NearbyReader | None = None,
    ):
        self.uow_factory = uow_factory
        self.clock = clock
        self.locator = locator
        # Reports without a subcategory in one statement (see ``writes_at_once``), their
        # possible duplicates read just before; without them, through a unit of work.
        self.writer = writer
        self.nearby_reader = nearby_reader
        # Hourly limits per account and device (set by the review context's wiring);
        # without it (unit tests), no limit.
        self.velocity = velocity

    # --- reporting ----------------------------------------------------------------------------

    async def _rule(self, uow: HazardUnitOfWork, subcategory_id: uuid.UUID | None) -> DuplicateRule:
        if subcategory_id is None:
            return DuplicateRule()
        category = await uow.categories.get(subcategory_id)
        if category is None:
            raise CategoryNotFound()
        return category.duplicate_rule

    def writes_at_once(self, new: NewHazard) -> bool:
        """Whether ``report`` stores this report in one statement (then it takes a
        ``receipt``): no subcategory (whose duplicate rule and district are checked)."""
        return (
            self.writer is not None
            and self.nearby_reader is not None
            and (new.subcategory_id is None)
        )

    async def report(
        self, scope: Scope, new: NewHazard, *, receipt: Receipt[HazardView] | None = None
    ) -> HazardView:
        """Any signed-in account may report. A retry with the same client id by the same
        account returns the stored hazard (``created`` False). The answer offers open
        hazards of the category nearby (``possible_duplicates``).

        ``receipt`` (only when ``writes_at_once``): the Idempotency-Key is stored with the
        hazard, its response rendered first; ``ReceiptKeyTaken`` when the key exists."""
        checked_description(new.description)  # before locating: bad input changes nothing
        checked_photos(new.media_ids)
        checked_place(new.place)
        now = self.clock.now()
        hazard_id = new.id or new_id()
        if new.id is not None:  # only a client's id can name an earlier report
            existing = await self._retry_of(scope, hazard_id)
            if existing is not None:
                return existing
        if not self.writes_at_once(new):
            if receipt is not None:
                raise ValueError("a receipt is only taken by a report written at once")
            return await self._report_in_uow(
                scope, new, hazard_id, await self._routing(new.location), now
            )
        assert self.nearby_reader is not None
        rule = DuplicateRule()  # no sub-category: the default rule
        placement, duplicates = await self.nearby_reader.placed_nearby(
            new.category,
            new.location,
            rule,
            now - timedelta(days=rule.window_days),
            limit=NEARBY_LIMIT,
        )
        routing = (
            Routing.of(placement)
            if placement is not None
            else await self._routing(new.location)  # no unit covers it: the locator's answer
        )
        if routing is None:
            raise outside_service_area()
        at_once = await self._report_at_once(
            scope, new, hazard_id, routing, now, duplicates, receipt
        )
        if at_once is not None:
            return at_once
        return await self._report_in_uow(scope, new, hazard_id, routing, now)

    async def _routing(self, point: GeoPoint) -> Routing:
        routing = Routing.of(await self.locator.locate(point))
        if routing is None:
            raise outside_service_area()
        return routing

    async def _report_at_once(
        self,
        scope: Scope,
        new: NewHazard,
        hazard_id: uuid.UUID,
        routing: Routing,
        now: datetime,
        duplicates: list[NearbyHazard],
        receipt: Receipt[HazardView] | None,
    ) -> HazardView | None:
        """The report as one atomic write (its answer, possible ``duplicates`` included,
        known before it). None when a photo does not fit: the unit-of-work path then gives
        the precise answer (unknown 404, not attachable 409)."""
        assert self.writer is not None
        hazard = _new_hazard(scope, new, hazard_id, routing, now)
        view = HazardView(hazard, Audience.REPORTER, possible_duplicates=duplicates, created=True)
        submission = Submission(HAZARD_RECORD, now, hazard.id, scope.account_id, scope.device_id)
        attached = {"record_type": HAZARD_RECORD, "record_id": hazard.id}
        result = await self.writer.write(
            ReportWrite(
                hazard=hazard,
                scope=scope,
                velocity=self.velocity.guard(submission, per_account=True)
                if self.velocity is not None
                else None,
                events=[
                    *(
                        DomainEvent("media.attached", "media", m, now, attached)
                        for m in hazard.media_ids
                    ),
                    _event("hazard.reported", hazard, now),
                ],
                audits=[
                    *(AuditNote("media.attach", "media", m, attached) for m in hazard.media_ids),
                    AuditNote(
                        "hazard.report", "hazard", hazard.id, {"category": hazard.category.value}
                    ),
                ],
                receipt=receipt,
                response=receipt.render(view) if receipt is not None else None,
            )
        )
        if result.outcome is ReportOutcome.STORED:
            hazard.pending.clear()
            hazard.new_reporters.clear()
            return view
        if result.outcome is ReportOutcome.RATE_LIMITED:
            assert self.velocity is not None
            assert result.recent is not None
            self.velocity.judge(submission, result.recent, hazard_rate_limited, per_account=True)
            raise RuntimeError("the writer refused a report within the hourly limits")
        if result.outcome is ReportOutcome.KEY_TAKEN:
            raise ReceiptKeyTaken()
        if result.outcome is ReportOutcome.ID_TAKEN:
            retried = await self._retry_of(scope, hazard_id)
            if retried is None:
                raise HazardIdTaken()
            return retried
        return None  # MEDIA_UNFIT

    async def _report_in_uow(
        self, scope: Scope, new: NewHazard, hazard_id: uuid.UUID, routing: Routing, now: datetime
    ) -> HazardView:
        async with self.uow_factory(scope) as uow:
            if self.velocity is not None:  # over a limit: nothing is committed
                submission = Submission(
                    HAZARD_RECORD, now, hazard_id, scope.account_id, scope.device_id
                )
                await self.velocity.check(uow, submission, hazard_rate_limited, per_account=True)
            category = await uow.categories.get(new.subcategory_id) if new.subcategory_id else None
            if new.subcategory_id is not None and (
                category is None
                or category.top != new.category
                or category.district_id != routing.district_id
            ):
                raise CategoryNotFound()  # unknown, of another category or district
            rule = category.duplicate_rule if category else DuplicateRule()
            hazard = _new_hazard(scope, new, hazard_id, routing, now)
            duplicates = await uow.hazards.nearby(
                hazard.category,
                hazard.location,
                rule,
                now - timedelta(days=rule.window_days),
                limit=NEARBY_LIMIT,
            )
            if not await uow.hazards.insert(hazard):
                await uow.rollback()
                retried = await self._retry_of(scope, hazard_id)
                if retried is None:
                    raise HazardIdTaken()
                return retried
            # Same transaction: unknown or foreign photos roll the whole report back.
            await attach_media(uow, scope, hazard.media_ids, HAZARD_RECORD, hazard.id)
            uow.audit("hazard.report", "hazard", hazard.id, {"category": hazard.category.value})
            uow.add_event(_event("hazard.reported", hazard, now))
            await uow.commit()
        return HazardView(hazard, Audience.REPORTER, possible_duplicates=duplicates, created=True)

    async def _retry_of(self, scope: Scope, hazard_id: uuid.UUID) -> HazardView | None:
        async with self.uow_factory(scope) as uow:
            hazard = await uow.hazards.own(hazard_id, scope.account_id)
            if hazard is None:
                return None
            return await self._view(uow, scope, hazard)

    async def nearby(
        self,
        scope: Scope,
        category: TopCategory,
        point: GeoPoint,
        subcategory_id: uuid.UUID | None = None,
    ) -> list[NearbyHazard]:
        """While reporting: open hazards of the category within the category's radius and
        window, nearest first; ids, status, coarse distance and one photo id only."""
        now = self.clock.now()
        async with self.uow_factory(scope) as uow:
            rule = await self._rule(uow, subcategory_id)
            return await uow.hazards.nearby(
                category, point, rule, now - timedelta(days=rule.window_days), limit=NEARBY_LIMIT
            )

    # --- reads --------------------------------------------------------------------------------

    async def _view(
        self, uow: HazardUnitOfWork, scope: Scope, hazard: Hazard, *, history: bool = True
    ) -> HazardView:
        departments = await uow.departments.of_account(scope.account_id)
        audience = audience_of(scope, hazard, departments)
        events: list[HazardEvent] = []
        linked: list[uuid.UUID] = []
        if history and audience in (Audience.STAFF, Audience.DEPARTMENT):
            events = await uow.hazards.events(hazard.id)
        if history and audience == Audience.STAFF:
            linked = await uow.hazards.linked(hazard.id)
        return HazardView(hazard, audience, events, linked)

    async def get(self, scope: Scope, hazard_id: uuid.UUID) -> HazardView:
        async with self.uow_factory(scope) as uow:
            hazard = await uow.hazards.get(hazard_id)
            if hazard is None:
                raise HazardNotFound()
            return await self._view(uow, scope, hazard)

    async def get_many(self, scope: Scope, ids: list[uuid.UUID]) -> dict[uuid.UUID, HazardView]:
        """The hazards among ``ids`` the caller may see (for GraphQL node batches)."""
        async with self.uow_factory(scope) as uow:
            departments = await uow.departments.of_account(scope.account_id)
            found: dict[uuid.UUID, HazardView] = {}
            for hazard_id in dict.fromkeys(ids):
                hazard = await uow.hazards.get(hazard_id)
                if hazard is not None:
                    found[hazard.id] = HazardView(hazard, audience_of(scope, hazard, departments))
        return found

    async def mine_by_ids(self, scope: Scope, ids: list[uuid.UUID]) -> dict[uuid.UUID, HazardView]:
        """The hazards among ``ids`` the caller reported (or follows after a merge), as their
        reporter sees them (mobile sync)."""
        found: dict[uuid.UUID, HazardView] = {}
        if not ids:
            return found
        async with self.uow_factory(scope) as uow:
            for hazard_id in dict.fromkeys(ids):
                hazard = await uow.hazards.get(hazard_id)
                if hazard is not None and hazard.is_reporter(scope.account_id):
                    found[hazard.id] = HazardView(hazard, Audience.REPORTER)
        return found

    def queue_filter(
        self,
        status: HazardStatus | None = None,
        category: TopCategory | None = None,
        *,
        overdue: bool = False,
    ) -> HazardFilter:
        """The queue's filter; ``overdue``: past their deadline today (Beijing)."""
        today = local_date(self.clock.now()) if overdue else None
        return HazardFilter(status=status, category=category, overdue_on=today)

    async def queue(
        self, scope: Scope, where: HazardFilter, *, limit: int, after: uuid.UUID | None
    ) -> tuple[list[HazardView], bool]:
        """Staff: hazards routed into the jurisdiction. Departments: hazards assigned to
        them. Volunteers: hazards of their stations awaiting re-inspection."""
        async with self.uow_factory(scope) as uow:
            departments = await uow.departments.of_account(scope.account_id)
            page = await uow.hazards.page(where, limit=limit, after=after)
            views = [HazardView(h, audience_of(scope, h, departments)) for h in page.items]
        return views, page.has_more

    async def mine(
        self, scope: Scope, *, limit: int, after: uuid.UUID | None
    ) -> tuple[list[HazardView], bool]:
        """Hazards the caller reported (or follows after a merge), newest first."""
        async with self.uow_factory(scope) as uow:
            page = await uow.hazards.of_reporter(scope.account_id, limit=limit, after=after)
        return [HazardView(h, Audience.REPORTER) for h in page.items], page.has_more

    async def stats(
        self, scope: Scope, level: StatsLevel, start: date | None, end: date | None
    ) -> list[StatsRow]:
        """Rectification rate, median time to rectify and overdue counts per unit of
        ``level``, over the caller's jurisdiction (staff only)."""
        if not (scope.is_staff or scope.unrestricted):
            raise NotAllowed()
        today = local_date(self.clock.now())
        first, last = day_bounds(start or today.replace(day=1), end or today)
        async with self.uow_factory(scope) as uow:
            return await uow.hazards.stats(level, first, last, today)

    # --- station staff ------------------------------------------------------------------------

    async def _for_staff(self, uow: HazardUnitOfWork, scope: Scope, hazard_id: uuid.UUID) -> Hazard:
        hazard = await uow.hazards.get(hazard_id, for_update=True)
        if hazard is None:
            raise HazardNotFound()
        if not writes_at(scope, hazard):
            raise NotAllowed()
        return hazard

    async def _finish(
        self, uow: HazardUnitOfWork, scope: Scope, hazard: Hazard, expected: int | None
    ) -> HazardView:
        await uow.hazards.save(hazard, expected_version=expected)
        view = await self._view(uow, scope, hazard)
        await uow.commit()
        return view

    async def verify(
        self,
        scope: Scope,
        hazard_id: uuid.UUID,
        outcome: Outcome,
        *,
        duplicate_of: uuid.UUID | None = None,
        expected_version: int | None = None,
    ) -> HazardView:
        if outcome == Outcome.DUPLICATE:
            if duplicate_of is None:
                raise field_invalid(
                    "hazard.duplicate_needs_survivor",
                    "duplicate_of",
                    "Name the hazard this one repeats.",
                    "请指明与之重复的隐患。",
                )
            return await self.merge(
                scope, hazard_id, duplicate_of, expected_version=expected_version
            )
        now = self.clock.now()
        async with self.uow_factory(scope) as uow:
            hazard = await self._for_staff(uow, scope, hazard_id)
            hazard.verify(outcome, at=now, by=scope.account_id)
            uow.audit("hazard.verify", "hazard", hazard.id, {"outcome": outcome.value})
            uow.add_event(_event("hazard.verified", hazard, now, outcome=outcome.value))
            if outcome == Outcome.NOT_HAZARD:
                uow.add_event(_event("hazard.closed", hazard, now, reason="not_hazard"))
            return await self._finish(uow, scope, hazard, expected_version)

    async def merge(
        self,
        scope: Scope,
        hazard_id: uuid.UUID,
        into: uuid.UUID,
        *,
        expected_version: int | None = None,
    ) -> HazardView:
        """Close ``hazard_id`` as a duplicate of ``into`` (links both ways); its reporters
        follow the survivor. Answers the survivor."""
        if hazard_id == into:
            raise CannotMerge()
        now = self.clock.now()
        async with self.uow_factory(scope) as uow:
            # Lock in id order so two crossing merges cannot deadlock.
            locked = {}
            for hid in sorted((hazard_id, into)):
                locked[hid] = await self._for_staff(uow, scope, hid)
            merged, survivor = locked[hazard_id], locked[into]
            merged.merge_into(survivor, at=now, by=scope.account_id)
            await uow.hazards.save(merged, expected_version=expected_version)
            await uow.hazards.link(merged.id, survivor.id)
            uow.audit("hazard.merge", "hazard", merged.id, {"into": survivor.id})
            uow.add_event(
                _event(
                    "hazard.verified",
                    merged,
                    now,
                    outcome=Outcome.DUPLICATE.value,
                    duplicate_of=survivor.id,
                )
            )
            uow.add_event(_event("hazard.merged", merged, now, into=survivor.id))
            uow.add_event(_event("hazard.closed", merged, now, reason="duplicate"))
            return await self._finish(uow, scope, survivor, None)

    async def assign(
        self,
        scope: Scope,
        hazard_id: uuid.UUID,
        *,
        department_id: uuid.UUID | None = None,
        deadline: date | None = None,
        assignee_account_id: uuid.UUID | None = None,
        expected_version: int | None = None,
    ) -> HazardView:
        """To a department or responsible party of the hazard's district, with a deadline
        (default: the sub-category's rectification days, else 7 days)."""
        now = self.clock.now()
        async with self.uow_factory(scope) as uow:
            hazard = await self._for_staff(uow, scope, hazard_id)
            hazard.check_assignable()  # the status first: nothing else matters otherwise
            category = (
                await uow.categories.get(hazard.subcategory_id) if hazard.subcategory_id else None
            )
            target = department_id or (category.department_id if category else None)
            if target is None:
                raise field_invalid(
                    "hazard.department_required",
                    "department_id",
                    "Name the responsible department.",
                    "请指定责任部门。",
                )
            department = await uow.departments.get(target)
            if department is None or department.district_id != hazard.routing.district_id:
                raise DepartmentNotFound()
            if assignee_account_id is not None and assignee_account_id not in (
                await uow.departments.members(department.id)
            ):
                raise field_invalid(
                    "hazard.assignee_not_member",
                    "assignee_account_id",
                    "The account is not a member of the department.",
                    "该账号不属于此责任部门。",
                )
            days = category.rectification_days if category else DEFAULT_RECTIFICATION_DAYS
            due = deadline or local_date(now) + timedelta(days=days)
            hazard.assign(
                department_id=department.id,
                deadline=due,
                at=now,
                by=scope.account_id,
                assignee_account_id=assignee_account_id,
            )
            uow.audit(
                "hazard.assign",
                "hazard",
                hazard.id,
                {"department_id": department.id, "deadline": due},
            )
            uow.add_event(
                _event(
                    "hazard.assigned",
                    hazard,
                    now,
                    department_id=department.id,
                    assignee_account_id=assignee_account_id,
                    deadline=due,
                )
            )
            return await self._finish(uow, scope, hazard, expected_version)

    # --- the responsible party ------------------------------------------------------------

    async def _for_assignee(
        self, uow: HazardUnitOfWork, scope: Scope, hazard_id: uuid.UUID
    ) -> Hazard:
        hazard = await uow.hazards.get(hazard_id, for_update=True)
        if hazard is None:
            raise HazardNotFound()
        if not is_assignee(scope, hazard, await uow.departments.of_account(scope.account_id)):
            raise NotAssignee()
        return hazard

    async def start(
        self, scope: Scope, hazard_id: uuid.UUID, *, expected_version: int | None = None
    ) -> HazardView:
        now = self.clock.now()
        async with self.uow_factory(scope) as uow:
            hazard = await self._for_assignee(uow, scope, hazard_id)
            hazard.start(at=now, by=scope.account_id)
            uow.audit("hazard.start", "hazard", hazard.id)
            uow.add_event(_event("hazard.rectification_started", hazard, now))
            return await self._finish(uow, scope, hazard, expected_version)

    async def rectify(
        self,
        scope: Scope,
        hazard_id: uuid.UUID,
        after_media_ids: tuple[uuid.UUID, ...],
        note: str | None,
        *,
        expected_version: int | None = None,
    ) -> HazardView:
        now = self.clock.now()
        async with self.uow_factory(scope) as uow:
            hazard = await self._for_assignee(uow, scope, hazard_id)
            hazard.rectify(after_media_ids, note, at=now, by=scope.account_id)
            await attach_media(uow, scope, hazard.after_media_ids, HAZARD_RECORD, hazard.id)
            uow.audit("hazard.rectify", "hazard", hazard.id)
            uow.add_event(_event("hazard.rectified", hazard, now))
            return await self._finish(uow, scope, hazard, expected_version)

    # --- re-inspection --------------------------------------------------------------------

    async def reinspect(
        self,
        scope: Scope,
        hazard_id: uuid.UUID,
        passed: bool,
        note: str | None = None,
        *,
        new_deadline: date | None = None,
        expected_version: int | None = None,
    ) -> HazardView:
        """An officer of the station, or an active volunteer serving it who is not of the
        rectifying party, checks the fix: pass closes, fail returns it to rectifying."""
        now = self.clock.now()
        async with self.uow_factory(scope) as uow:
            hazard = await uow.hazards.get(hazard_id, for_update=True)
            if hazard is None:
                raise HazardNotFound()
            if not writes_at(scope, hazard):
                volunteer = await uow.roster.serving(scope.account_id)
                station = hazard.routing.station_id
                mine = await uow.departments.of_account(scope.account_id)
                if (
                    volunteer is None
                    or station is None
                    or station not in volunteer.station_ids
                    or is_assignee(scope, hazard, mine)
                ):
                    raise NotReinspector()
            hazard.reinspect(passed, note, at=now, by=scope.account_id, new_deadline=new_deadline)
            uow.audit("hazard.reinspect", "hazard", hazard.id, {"passed": passed})
            uow.add_event(_event("hazard.reinspected", hazard, now, passed=passed))
            if passed:
                uow.add_event(_event("hazard.closed", hazard, now, reason="rectified"))
            return await self._finish(uow, scope, hazard, expected_version)

    # --- reporters ------------------------------------------------------------------------

    async def reopen(
        self,
        scope: Scope,
        hazard_id: uuid.UUID,
        reason: str,
        media_ids: tuple[uuid.UUID, ...],
        *,
        expected_version: int | None = None,
    ) -> HazardView:
        now = self.clock.now()
        async with self.uow_factory(scope) as uow:
            hazard = await uow.hazards.get(hazard_id, for_update=True)
            if hazard is None:
                raise HazardNotFound()
            if not hazard.is_reporter(scope.account_id):
                raise NotReporter()
            photos = hazard.reopen(reason, media_ids, at=now, by=scope.account_id)
            await attach_media(uow, scope, photos, HAZARD_RECORD, hazard.id)
            uow.audit("hazard.reopen", "hazard", hazard.id)
            uow.add_event(_event("hazard.reopened", hazard, now))
            return await self._finish(uow, scope, hazard, expected_version)

    # --- escalation (housekeeping) --------------------------------------------------------

    async def escalate_overdue(self, scope: Scope) -> int:
        """Raise the escalation of overdue hazards per the schedule; each raise is an
        event (the station, then the district, is told). Returns how many were raised."""
        if not scope.unrestricted:
            raise NotAllowed()
        now = self.clock.now()
        today = local_date(now)
        raised = 0
        async with self.uow_factory(scope) as uow:
            for hazard in await uow.hazards.overdue(today, limit=ESCALATION_BATCH):
                level = hazard.escalate(today, at=now)
                if level is None:
                    continue
                await uow.hazards.save(hazard, expected_version=None)
                uow.audit("hazard.escalate", "hazard", hazard.id, {"level": level})
                uow.add_event(_event("hazard.escalated", hazard, now, level=level))
                raised += 1
            await uow.commit()
        return raised


class HazardSetupService:
    """District admins manage departments (with member accounts) and sub-categories."""

    def __init__(self, uow_factory: UowFactory) -> None:
        self.uow_factory = uow_factory

    @staticmethod
    def _admin_of(scope: Scope, district_id: uuid.UUID) -> None:
        if not (scope.unrestricted or district_id in scope.districts_as(Role.DISTRICT_ADMIN)):
            raise NotAllowed()

    async def create_department(
        self, scope: Scope, district_id: uuid.UUID, name: str, kind: DepartmentKind
    ) -> Department:
        self._admin_of(scope, district_id)
        department = Department.new(district_id, name, kind)
        async with self.uow_factory(scope) as uow:
            await uow.departments.add(department)
            uow.audit("hazard.department_created", "hazard_department", department.id)
            await uow.commit()
        return department

    async def departments(self, scope: Scope) -> list[Department]:
        """Staff: the departments of the districts they work in; a department account:
        its own."""
        async with self.uow_factory(scope) as uow:
            return await uow.departments.visible()

    async def add_member(
        self, scope: Scope, department_id: uuid.UUID, account_id: uuid.UUID
    ) -> bool:
        async with self.uow_factory(scope) as uow:
            department = await uow.departments.get(department_id)
            if department is None or not (
                scope.unrestricted or department.district_id in scope.district_ids
            ):
                raise DepartmentNotFound()  # another district's: not found, like any record
            self._admin_of(scope, department.district_id)
            if not await uow.departments.account_exists(account_id):
                raise field_invalid(
                    "hazard.account_not_found",
                    "account_id",
                    "No such account.",
                    "未找到该账号。",
                )
            added = await uow.departments.add_member(department_id, account_id)
            if added:
                uow.audit(
                    "hazard.department_member_added",
                    "hazard_department",
                    department_id,
                    {"account_id": account_id},
                )
            await uow.commit()
        return added

    async def create_category(self, scope: Scope, new: NewCategory) -> Category:
        self._admin_of(scope, new.district_id)
        category = Category.new(
            district_id=new.district_id,
            top=new.top,
            code=new.code,
            name_zh=new.name_zh,
            name_en=new.name_en,
            department_id=new.department_id,
            rectification_days=new.rectification_days,
            duplicate_radius_m=new.duplicate_radius_m,
            duplicate_window_days=new.duplicate_window_days,
        )
        async with self.uow_factory(scope) as uow:
            if new.department_id is not None:
                department = await uow.departments.get(new.department_id)
                if department is None or department.district_id != new.district_id:
                    raise DepartmentNotFound()
            if not await uow.categories.add(category):
                raise CategoryCodeTaken()
            uow.audit("hazard.category_created", "hazard_category", category.id)
            await uow.commit()
        return category

    async def categories(self, scope: Scope, district_id: uuid.UUID | None) -> list[Category]:
        """Anyone signed in: the sub-categories to choose from when reporting."""
        async with self.uow_factory(scope) as uow:
            return await uow.categories.list(district_id)


class HazardMediaVisibility:
    """Registered with the media context for ``"hazard"``: whoever may see the hazard may
    see its photos (one scoped existence query)."""

    def __init__(self, uow_factory: UowFactory) -> None:
        self.uow_factory = uow_factory

    async def can_see(self, scope: Scope, attachment: Attachment) -> bool:
        if attachment.record_type != HAZARD_RECORD:
            return False
        async with self.uow_factory(scope) as uow:
            return await uow.hazards.exists(attachment.record_id)
