"""GraphQL door of help requests (群众求助): the HelpRequest node, the staff queue, the
volunteers' nearby list, the requester's own list and the lifecycle mutations. Same
service and permission checks as REST; each caller sees only what its audience allows."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import strawberry
from strawberry import relay

from app.api.graphql.context import Info
from app.api.graphql.errors import MutationProblem, problem_of
from app.api.graphql.geo import Crs
from app.api.graphql.relay import first_of, keyset_connection, node_uuid, resolve_scoped
from app.api.pagination import after_id
from app.domain.help.errors import HelpRequestNotFound
from app.domain.help.model import (
    COARSE_CELL_M,
    NEARBY_RADIUS_M,
    Age,
    HelpKind,
    HelpOutcome,
    HelpStatus,
    OfferStatus,
)
from app.domain.help.ports import HelpFilter
from app.domain.help.services import Audience, HelpService, HelpView, NewHelpRequest
from app.domain.shared.errors import DomainError
from app.domain.shared.geo import from_wgs84, to_wgs84

strawberry.enum(HelpKind, name="HelpKind", description="失物 / 寻人 / 其他")
strawberry.enum(HelpStatus, name="HelpStatus")
strawberry.enum(HelpOutcome, name="HelpOutcome")
strawberry.enum(OfferStatus, name="HelpOfferStatus")
strawberry.enum(Age, name="HelpAge", description="How long ago, for coarse views")
strawberry.enum(Audience, name="HelpAudience", description="How much of the request you see")


@strawberry.type
class HelpLocation:
    lon: float
    lat: float
    crs: Crs
    precision_m: int | None = strawberry.field(
        description="null: the exact place; otherwise the side of the cell shown"
    )


@strawberry.type(description="The helper as the requester sees them.")
class HelpHelper:
    masked_name: str
    volunteer_number: str | None


@strawberry.type(description="An offer of help (staff see all; volunteers their own).")
class HelpOffer:
    id: UUID
    status: OfferStatus
    note: str | None
    created_at: datetime | None
    volunteer_id: UUID | None
    helper: HelpHelper | None


@strawberry.type
class HelpHistoryEntry:
    at: datetime
    kind: str
    from_status: HelpStatus | None
    to_status: HelpStatus
    by: UUID | None


def _loader(info: Info) -> Any:
    async def fetch(scope: Any, keys: list[UUID]) -> dict[UUID, HelpView]:
        return await info.context.services.get(HelpService).get_many(scope, keys)

    return info.context.scoped_loader("help_requests", fetch)


@strawberry.type(
    name="HelpRequest",
    description="群众求助 as the caller may see it. Volunteers get a coarse location and an "
    "age bucket; nobody but station staff learns who asked.",
)
class HelpRequestNode(relay.Node):
    id: relay.NodeID[str]
    uuid: UUID
    audience: Audience
    kind: HelpKind
    description: str
    status: HelpStatus
    outcome: HelpOutcome | None
    submitted_at: datetime | None
    age: Age
    offer_count: int
    version: int
    view: strawberry.Private[HelpView]

    @classmethod
    def of(cls, v: HelpView) -> HelpRequestNode:
        r = v.request
        return cls(
            id=str(r.id),
            uuid=r.id,
            audience=v.audience,
            kind=r.kind,
            description=v.description,
            status=r.status,
            outcome=r.outcome,
            submitted_at=v.submitted_at,
            age=v.age,
            offer_count=v.offer_count,
            version=r.version,
            view=v,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[HelpRequestNode | None]:
        return await resolve_scoped(node_ids, _loader(info), cls.of, HelpRequestNotFound, required)

    @strawberry.field
    def location(self, crs: Crs = Crs.WGS84) -> HelpLocation:
        lon, lat = from_wgs84(self.view.location, crs)
        precision = None if self.view.exact else COARSE_CELL_M
        return HelpLocation(lon=round(lon, 7), lat=round(lat, 7), crs=crs, precision_m=precision)

    @strawberry.field
    def media_ids(self) -> list[relay.GlobalID]:
        return [relay.GlobalID("Media", str(m)) for m in self.view.request.media_ids]

    @strawberry.field(description="The accepted helper (requester, helper and staff).")
    def helper(self) -> HelpHelper | None:
        card = self.view.helper
        return (
            HelpHelper(masked_name=card.masked_name, volunteer_number=card.volunteer_number)
            if (card)
            else None
        )

    @strawberry.field(description="Your own latest offer on this request, if any.")
    def my_offer(self) -> HelpOffer | None:
        mine = self.view.my_offer
        if mine is None:
            return None
        return HelpOffer(
            id=mine.id,
            status=mine.status,
            note=mine.note,
            created_at=mine.created_at,
            volunteer_id=None,
            helper=None,
        )

    @strawberry.field(description="Staff only: every offer, oldest first.")
    def offers(self) -> list[HelpOffer] | None:
        if not self.view.is_staff:
            return None
        cards = self.view.cards
        return [
            HelpOffer(
                id=o.id,
                status=o.status,
                note=o.note,
                created_at=o.created_at,
                volunteer_id=o.volunteer_id,
                helper=HelpHelper(
                    masked_name=cards[o.volunteer_id].masked_name,
                    volunteer_number=cards[o.volunteer_id].volunteer_number,
                )
                if o.volunteer_id in cards
                else None,
            )
            for o in self.view.offers
        ]

    @strawberry.field(description="Staff only.")
    def station_id(self) -> relay.GlobalID | None:
        station = self.view.request.routing.station_id
        return relay.GlobalID("OrgUnit", str(station)) if station and self.view.is_staff else None

    @strawberry.field(description="Staff only.")
    def requester_id(self) -> UUID | None:
        return self.view.request.requester_id if self.view.is_staff else None

    @strawberry.field(description="Staff only.")
    def resolution_note(self) -> str | None:
        return self.view.request.resolution_note if self.view.is_staff else None

    @strawberry.field(description="Staff only (on single records).")
    def history(self) -> list[HelpHistoryEntry] | None:
        if not self.view.is_staff:
            return None
        return [
            HelpHistoryEntry(
                at=e.at,
                kind=e.kind.value,
                from_status=e.from_status,
                to_status=e.to_status,
                by=e.by,
            )
            for e in self.view.events
        ]


@strawberry.input
class HelpLocationInput:
    lon: float
    lat: float
    crs: Crs = Crs.WGS84


@strawberry.input
class HelpRequestFilterInput:
    status: HelpStatus | None = None
    kind: HelpKind | None = None


@strawberry.type
class HelpQuery:
    @strawberry.field(description="Staff: help requests routed into your jurisdiction.")
    async def help_requests(
        self,
        info: Info,
        filter: HelpRequestFilterInput | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> relay.Connection[HelpRequestNode]:
        scope = await info.context.scope()
        f = filter or HelpRequestFilterInput()
        views, more = await info.context.services.get(HelpService).queue(
            scope,
            HelpFilter(status=f.status, kind=f.kind),
            limit=first_of(first),
            after=after_id(after),
        )
        return keyset_connection(views, HelpRequestNode.of, more=more)

    @strawberry.field(
        description="Volunteers: open requests within radiusM (max 3000) of near, in the "
        "stations you serve, with coarse locations."
    )
    async def nearby_help_requests(
        self,
        info: Info,
        near: HelpLocationInput,
        radius_m: int = NEARBY_RADIUS_M,
        first: int = 50,
        after: str | None = None,
    ) -> relay.Connection[HelpRequestNode]:
        scope = await info.context.scope()
        views, more = await info.context.services.get(HelpService).nearby(
            scope,
            to_wgs84(near.lon, near.lat, near.crs),
            radius_m=radius_m,
            limit=first_of(first),
            after=after_id(after),
        )
        return keyset_connection(views, HelpRequestNode.of, more=more)

    @strawberry.field(description="Your own help requests, newest first.")
    async def my_help_requests(
        self, info: Info, first: int = 50, after: str | None = None
    ) -> relay.Connection[HelpRequestNode]:
        scope = await info.context.scope()
        views, more = await info.context.services.get(HelpService).mine(
            scope, limit=first_of(first), after=after_id(after)
        )
        return keyset_connection(views, HelpRequestNode.of, more=more)


@strawberry.input
class RequestHelpInput:
    id: UUID | None = strawberry.field(default=None, description="Client-generated id")
    kind: HelpKind
    description: str
    location: HelpLocationInput
    media_ids: list[UUID] = strawberry.field(default_factory=list)


@strawberry.type
class HelpRequestPayload:
    help_request: HelpRequestNode
    created: bool = False


HelpRequestResult = Annotated[
    HelpRequestPayload | MutationProblem, strawberry.union("HelpRequestResult")
]


def _hid(gid: relay.GlobalID) -> UUID:
    return node_uuid(gid, "HelpRequest", HelpRequestNotFound)


async def _run(
    info: Info, act: Callable[[HelpService, Any], Awaitable[HelpView]]
) -> HelpRequestResult:
    scope = await info.context.scope()
    try:
        view = await act(info.context.services.get(HelpService), scope)
    except DomainError as e:
        return problem_of(e, info.context.lang)
    return HelpRequestPayload(help_request=HelpRequestNode.of(view), created=view.created)


@strawberry.type
class HelpMutation:
    @strawberry.mutation(
        description="Ask for help at a place; a retry with the same id returns it."
    )
    async def request_help(self, info: Info, input: RequestHelpInput) -> HelpRequestResult:
        async def act(s: HelpService, scope: Any) -> HelpView:
            return await s.request(
                scope,
                NewHelpRequest(
                    kind=input.kind,
                    description=input.description,
                    location=to_wgs84(input.location.lon, input.location.lat, input.location.crs),
                    id=input.id,
                    media_ids=tuple(input.media_ids),
                ),
            )

        return await _run(info, act)

    @strawberry.mutation(description="As a serving volunteer, offer help (repeat-safe).")
    async def offer_help(
        self, info: Info, id: relay.GlobalID, note: str | None = None
    ) -> HelpRequestResult:
        return await _run(info, lambda s, scope: s.offer(scope, _hid(id), note))

    @strawberry.mutation(description="Withdraw your active offer while the request is open.")
    async def withdraw_help_offer(self, info: Info, id: relay.GlobalID) -> HelpRequestResult:
        return await _run(info, lambda s, scope: s.withdraw_offer(scope, _hid(id)))

    @strawberry.mutation(description="Staff: accept one volunteer's offer.")
    async def accept_help_offer(
        self,
        info: Info,
        id: relay.GlobalID,
        offer_id: UUID,
        expected_version: int | None = None,
    ) -> HelpRequestResult:
        return await _run(
            info,
            lambda s, scope: s.accept(scope, _hid(id), offer_id, expected_version=expected_version),
        )

    @strawberry.mutation(description="Staff: record the outcome.")
    async def resolve_help_request(
        self,
        info: Info,
        id: relay.GlobalID,
        outcome: HelpOutcome,
        note: str | None = None,
        expected_version: int | None = None,
    ) -> HelpRequestResult:
        return await _run(
            info,
            lambda s, scope: s.resolve(
                scope, _hid(id), outcome, note, expected_version=expected_version
            ),
        )

    @strawberry.mutation(description="Staff: close a resolved request.")
    async def close_help_request(
        self, info: Info, id: relay.GlobalID, expected_version: int | None = None
    ) -> HelpRequestResult:
        return await _run(
            info, lambda s, scope: s.close(scope, _hid(id), expected_version=expected_version)
        )

    @strawberry.mutation(description="As the requester, cancel an open request.")
    async def cancel_help_request(
        self, info: Info, id: relay.GlobalID, expected_version: int | None = None
    ) -> HelpRequestResult:
        return await _run(
            info, lambda s, scope: s.cancel(scope, _hid(id), expected_version=expected_version)
        )
