"""Use cases of help requests (群众求助): ask, read as one may, offer, accept, resolve.

Who sees what (``Audience``):
- station staff of the request's routing: everything, with the offers and the history;
- the requester: their request with status, outcome, the number of offers and, once one
  is accepted, the helper's masked name and volunteer number;
- the accepted helper: the exact place and the (redacted) description, never who asked;
- other serving volunteers (open requests of a station they serve): a ~500 m cell instead
  of the place, an age bucket instead of the time, the redacted description.

Every method takes the caller's Scope first, opens one unit of work, lets the request
decide, audits, raises thin events (ids, station, status; never text or people) and
commits once.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from app.domain.help.errors import (
    HelpIdTaken,
    HelpRequestNotFound,
    NotServingVolunteer,
    help_rate_limited,
    outside_service_area,
)
from app.domain.help.model import (
    NEARBY_RADIUS_M,
    Age,
    HelpEvent,
    HelpKind,
    HelpOutcome,
    HelpRequest,
    Offer,
    Routing,
    age_of,
    checked_description,
    coarsen,
    redact,
)
from app.domain.help.ports import HelperCard, HelpFilter, HelpSlice, HelpUnitOfWork
from app.domain.media.model import Attachment
from app.domain.media.services import attach_media
from app.domain.organisation.ports import JurisdictionLocator
from app.domain.review.velocity import Submission, SubmissionVelocity
from app.domain.shared.clock import Clock
from app.domain.shared.errors import NotAllowed
from app.domain.shared.events import DomainEvent
from app.domain.shared.geo import GeoPoint
from app.domain.shared.ids import new_id
from app.domain.shared.scope import Scope

UowFactory = Callable[[Scope], HelpUnitOfWork]
HELP_RECORD = "help_request"  # the record type media objects are attached to


class Audience(StrEnum):
    STAFF = "staff"
    REQUESTER = "requester"
    HELPER = "helper"
    VOLUNTEER = "volunteer"


@dataclass(frozen=True, slots=True)
class NewHelpRequest:
    kind: HelpKind
    description: str
    location: GeoPoint
    id: uuid.UUID | None = None  # client-generated, for safe retries
    media_ids: tuple[uuid.UUID, ...] = ()


@dataclass(frozen=True, slots=True)
class HelpView:
    """A request as one caller may see it; adapters render only what the properties
    give for the audience."""

    request: HelpRequest
    audience: Audience
    now: datetime
    events: list[HelpEvent] = field(default_factory=list)
    cards: dict[uuid.UUID, HelperCard] = field(default_factory=dict)
    viewer: uuid.UUID | None = None  # the caller's account
    created: bool = False

    @property
    def id(self) -> uuid.UUID:
        return self.request.id

    @property
    def is_staff(self) -> bool:
        return self.audience == Audience.STAFF

    @property
    def exact(self) -> bool:
        return self.audience != Audience.VOLUNTEER

    @property
    def location(self) -> GeoPoint:
        return self.request.location if self.exact else coarsen(self.request.location)

    @property
    def description(self) -> str:
        text = self.request.description
        return text if self.audience in (Audience.STAFF, Audience.REQUESTER) else redact(text)

    @property
    def submitted_at(self) -> datetime | None:
        return self.request.submitted_at if self.exact else None

    @property
    def age(self) -> Age:
        return age_of(self.request.submitted_at, self.now)

    @property
    def offer_count(self) -> int:
        return len(self.request.live_offers)

    @property
    def helper(self) -> HelperCard | None:
        accepted = self.request.accepted_offer
        if accepted is None or self.audience == Audience.VOLUNTEER:
            return None
        return self.cards.get(accepted.volunteer_id)

    @property
    def my_offer(self) -> Offer | None:
        if self.viewer is None or self.audience not in (Audience.VOLUNTEER, Audience.HELPER):
            return None
        return self.request.offer_of_account(self.viewer)

    @property
    def offers(self) -> list[Offer]:
        """Staff only: every offer, oldest first."""
        return list(self.request.offers) if self.is_staff else []


def is_staff_of(scope: Scope, request: HelpRequest) -> bool:
    r = request.routing
    return scope.unrestricted or (
        scope.is_staff and scope.sees_station(r.station_id, r.district_id)
    )


def writes_at(scope: Scope, request: HelpRequest) -> bool:
    return scope.writes_at(request.routing.station_id, request.routing.district_id)


def audience_of(scope: Scope, request: HelpRequest) -> Audience:
    if is_staff_of(scope, request):
        return Audience.STAFF
    if request.requester_id == scope.account_id:
        return Audience.REQUESTER
    if request.is_helper(scope.account_id):
        return Audience.HELPER
    return Audience.VOLUNTEER


def _event(name: str, request: HelpRequest, at: datetime, **payload: Any) -> DomainEvent:
    body = {
        "station_id": request.routing.station_id,
        "district_id": request.routing.district_id,
        "status": request.status.value,
        **payload,
    }
    return DomainEvent(name, "help_request", request.id, at, body)


class HelpService:
    def __init__(
        self,
        uow_factory: UowFactory,
        clock: Clock,
        locator: JurisdictionLocator,
        *,
        velocity: SubmissionVelocity | None = None,
    ):
        self.uow_factory = uow_factory
        self.clock = clock
        self.locator = locator
        # Hourly limits per account and device (set by the review context's wiring).
        self.velocity = velocity

    # --- asking -----------------------------------------------------------------------------

    async def request(self, scope: Scope, new: NewHelpRequest) -> HelpView:
        """Any signed-in account may ask. A retry with the same client id by the same
        account returns the stored request (``created`` False)."""
        checked_description(new.description)  # before locating: bad input changes nothing
        now = self.clock.now()
        request_id = new.id or new_id()
        existing = await self._retry_of(scope, request_id)
        if existing is not None:
            return existing
        routing = Routing.of(await self.locator.locate(new.location))
        if routing is None:
            raise outside_service_area()
        request = HelpRequest.open(
            id=request_id,
            kind=new.kind,
            description=new.description,
            location=new.location,
            routing=routing,
            requester_id=scope.account_id,
            media_ids=new.media_ids,
            at=now,
        )
        async with self.uow_factory(scope) as uow:
            if self.velocity is not None:  # over a limit: nothing is committed
                submission = Submission(
                    HELP_RECORD, now, request_id, scope.account_id, scope.device_id
                )
                await self.velocity.check(uow, submission, help_rate_limited, per_account=True)
            if not await uow.requests.insert(request):
                await uow.rollback()
                retried = await self._retry_of(scope, request_id)
                if retried is None:
                    raise HelpIdTaken()
                return retried
            # Same transaction: unknown or foreign media roll the whole request back.
            await attach_media(uow, scope, request.media_ids, HELP_RECORD, request.id)
            uow.audit("help.request", "help_request", request.id, {"kind": request.kind.value})
            uow.add_event(_event("help.requested", request, now, kind=request.kind.value))
            await uow.commit()
        return HelpView(request, Audience.REQUESTER, now, viewer=scope.account_id, created=True)

    async def _retry_of(self, scope: Scope, request_id: uuid.UUID) -> HelpView | None:
        async with self.uow_factory(scope) as uow:
            request = await uow.requests.own(request_id, scope.account_id)
            if request is None:
                return None
            return await self._view(uow, scope, request)

    # --- reads --------------------------------------------------------------------------------

    async def _view(self, uow: HelpUnitOfWork, scope: Scope, request: HelpRequest) -> HelpView:
        return (await self._views(uow, scope, [request], history=True))[0]

    async def _views(
        self,
        uow: HelpUnitOfWork,
        scope: Scope,
        requests: list[HelpRequest],
        *,
        history: bool = False,
    ) -> list[HelpView]:
        now = self.clock.now()
        audiences = [audience_of(scope, r) for r in requests]
        wanted: list[uuid.UUID] = []
        for request, audience in zip(requests, audiences, strict=True):
            if audience == Audience.STAFF:
                wanted += [o.volunteer_id for o in request.offers]
            elif audience != Audience.VOLUNTEER and request.accepted_offer is not None:
                wanted.append(request.accepted_offer.volunteer_id)
        cards = await uow.roster.cards(list(dict.fromkeys(wanted))) if wanted else {}
        views = []
        for request, audience in zip(requests, audiences, strict=True):
            events = (
                await uow.requests.events(request.id)
                if history and audience == Audience.STAFF
                else []
            )
            views.append(HelpView(request, audience, now, events, cards, viewer=scope.account_id))
        return views

    async def get(self, scope: Scope, request_id: uuid.UUID) -> HelpView:
        async with self.uow_factory(scope) as uow:
            request = await uow.requests.get(request_id)
            if request is None:
                raise HelpRequestNotFound()
            return await self._view(uow, scope, request)

    async def get_many(self, scope: Scope, ids: list[uuid.UUID]) -> dict[uuid.UUID, HelpView]:
        """The requests among ``ids`` the caller may see (for GraphQL node batches)."""
        async with self.uow_factory(scope) as uow:
            found = []
            for request_id in dict.fromkeys(ids):
                request = await uow.requests.get(request_id)
                if request is not None:
                    found.append(request)
            views = await self._views(uow, scope, found)
        return {v.id: v for v in views}

    async def queue(
        self, scope: Scope, where: HelpFilter, *, limit: int, after: uuid.UUID | None
    ) -> tuple[list[HelpView], bool]:
        """The station queue: requests routed into the caller's jurisdiction (staff)."""
        if not (scope.is_staff or scope.unrestricted):
            raise NotAllowed()
        async with self.uow_factory(scope) as uow:
            page = await uow.requests.page(where, limit=limit, after=after)
            return await self._views(uow, scope, page.items), page.has_more

    async def nearby(
        self,
        scope: Scope,
        near: GeoPoint,
        *,
        radius_m: float = NEARBY_RADIUS_M,
        limit: int,
        after: uuid.UUID | None,
    ) -> tuple[list[HelpView], bool]:
        """Open requests within ``radius_m`` (at most 3 km) of ``near`` in the stations
        the caller serves as a volunteer, newest first, as volunteers see them."""
        radius = max(1.0, min(float(radius_m), float(NEARBY_RADIUS_M)))
        async with self.uow_factory(scope) as uow:
            volunteer = await uow.roster.serving(scope.account_id)
            if volunteer is None:
                raise NotServingVolunteer()
            page: HelpSlice = await uow.requests.nearby(
                near, radius, volunteer.station_ids, limit=limit, after=after
            )
            return await self._views(uow, scope, page.items), page.has_more

    async def mine(
        self, scope: Scope, *, limit: int, after: uuid.UUID | None
    ) -> tuple[list[HelpView], bool]:
        """The caller's own requests, newest first."""
        async with self.uow_factory(scope) as uow:
            page = await uow.requests.of_requester(scope.account_id, limit=limit, after=after)
            views = await self._views(uow, scope, page.items)
        # The requester's own view even where the caller is also staff of the station.
        return [
            HelpView(v.request, Audience.REQUESTER, v.now, [], v.cards, viewer=v.viewer)
            if v.audience == Audience.STAFF
            else v
            for v in views
        ], page.has_more

    # --- volunteers ----------------------------------------------------------------------------

    async def offer(self, scope: Scope, request_id: uuid.UUID, note: str | None) -> HelpView:
        """A volunteer serving the request's station offers help (once; a repeat returns
        the same offer)."""
        now = self.clock.now()
        async with self.uow_factory(scope) as uow:
            request = await uow.requests.get(request_id, for_update=True)
            if request is None:
                raise HelpRequestNotFound()
            volunteer = await uow.roster.serving(scope.account_id)
            station = request.routing.station_id
            if volunteer is None or station is None or station not in volunteer.station_ids:
                raise NotServingVolunteer()
            offer, created = request.offer(
                volunteer_id=volunteer.volunteer_id,
                account_id=scope.account_id,
                note=note,
                at=now,
            )
            if created:
                await uow.requests.save(request, expected_version=None)
                uow.audit("help.offer", "help_request", request.id, {"offer_id": offer.id})
                uow.add_event(_event("help.offered", request, now, offer_id=offer.id))
            view = await self._view(uow, scope, request)
            await uow.commit()
        return view

    async def withdraw_offer(self, scope: Scope, request_id: uuid.UUID) -> HelpView:
        now = self.clock.now()
        async with self.uow_factory(scope) as uow:
            request = await uow.requests.get(request_id, for_update=True)
            if request is None:
                raise HelpRequestNotFound()
            offer = request.withdraw_offer(scope.account_id, at=now)
            await uow.requests.save(request, expected_version=None)
            uow.audit("help.withdraw_offer", "help_request", request.id, {"offer_id": offer.id})
            uow.add_event(_event("help.offer_withdrawn", request, now, offer_id=offer.id))
            view = await self._view(uow, scope, request)
            await uow.commit()
        return view

    # --- station staff -------------------------------------------------------------------------

    async def _for_write(
        self, uow: HelpUnitOfWork, scope: Scope, request_id: uuid.UUID
    ) -> HelpRequest:
        request = await uow.requests.get(request_id, for_update=True)
        if request is None or not is_staff_of(scope, request):
            raise HelpRequestNotFound()
        if not writes_at(scope, request):
            raise NotAllowed()
        return request

    async def accept(
        self,
        scope: Scope,
        request_id: uuid.UUID,
        offer_id: uuid.UUID,
        *,
        expected_version: int | None = None,
    ) -> HelpView:
        now = self.clock.now()
        async with self.uow_factory(scope) as uow:
            request = await self._for_write(uow, scope, request_id)
            offer = request.accept(offer_id, at=now, by=scope.account_id)
            await uow.requests.save(request, expected_version=expected_version)
            uow.audit("help.accept_offer", "help_request", request.id, {"offer_id": offer.id})
            uow.add_event(_event("help.offer_accepted", request, now, offer_id=offer.id))
            view = await self._view(uow, scope, request)
            await uow.commit()
        return view

    async def resolve(
        self,
        scope: Scope,
        request_id: uuid.UUID,
        outcome: HelpOutcome,
        note: str | None = None,
        *,
        expected_version: int | None = None,
    ) -> HelpView:
        now = self.clock.now()
        async with self.uow_factory(scope) as uow:
            request = await self._for_write(uow, scope, request_id)
            request.resolve(outcome, note, at=now, by=scope.account_id)
            await uow.requests.save(request, expected_version=expected_version)
            uow.audit("help.resolve", "help_request", request.id, {"outcome": outcome.value})
            uow.add_event(_event("help.resolved", request, now, outcome=outcome.value))
            view = await self._view(uow, scope, request)
            await uow.commit()
        return view

    async def close(
        self, scope: Scope, request_id: uuid.UUID, *, expected_version: int | None = None
    ) -> HelpView:
        now = self.clock.now()
        async with self.uow_factory(scope) as uow:
            request = await self._for_write(uow, scope, request_id)
            request.close(at=now, by=scope.account_id)
            await uow.requests.save(request, expected_version=expected_version)
            uow.audit("help.close", "help_request", request.id)
            uow.add_event(_event("help.closed", request, now))
            view = await self._view(uow, scope, request)
            await uow.commit()
        return view

    # --- the requester -------------------------------------------------------------------------

    async def cancel(
        self, scope: Scope, request_id: uuid.UUID, *, expected_version: int | None = None
    ) -> HelpView:
        now = self.clock.now()
        async with self.uow_factory(scope) as uow:
            request = await uow.requests.get(request_id, for_update=True)
            if request is None:
                raise HelpRequestNotFound()
            if request.requester_id != scope.account_id:
                raise NotAllowed()
            request.cancel(at=now)
            await uow.requests.save(request, expected_version=expected_version)
            uow.audit("help.cancel", "help_request", request.id)
            uow.add_event(_event("help.cancelled", request, now))
            await uow.commit()
        return HelpView(request, Audience.REQUESTER, now, viewer=scope.account_id)


class HelpMediaVisibility:
    """Registered with the media context for ``"help_request"``: whoever may see the
    request may see its photos (one scoped existence query)."""

    def __init__(self, uow_factory: UowFactory) -> None:
        self.uow_factory = uow_factory

    async def can_see(self, scope: Scope, attachment: Attachment) -> bool:
        if attachment.record_type != HELP_RECORD:
            return False
        async with self.uow_factory(scope) as uow:
            return await uow.requests.exists(attachment.record_id)
