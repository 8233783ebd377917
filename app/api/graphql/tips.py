"""GraphQL door of tip-offs (情报线索): the Tip node, the officer queue, myTips and the
lifecycle mutations. Same services and permission checks as REST."""

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
from app.api.graphql.media import MediaNode
from app.api.graphql.organisation import OrgUnitNode
from app.api.graphql.relay import (
    first_of,
    keyset_connection,
    node_uuid,
    optional_node_uuid,
    resolve_scoped,
)
from app.api.pagination import after_id
from app.domain.shared.errors import DomainError
from app.domain.shared.geo import from_wgs84, to_wgs84
from app.domain.shared.personal_data import parse_cn_mobile
from app.domain.tips.errors import TipNotFound, referred_station_unknown
from app.domain.tips.model import Category, Outcome, TipEvent, TipStatus, Urgency
from app.domain.tips.services import NewTip, TipService, TipView
from app.domain.tips.views import TimeAgo

strawberry.enum(Category, name="TipCategory")
strawberry.enum(Urgency, name="TipUrgency")
strawberry.enum(TipStatus, name="TipStatus")
strawberry.enum(Outcome, name="TipOutcome")
strawberry.enum(TimeAgo, name="TipTimeAgo")


@strawberry.type
class TipLocation:
    lon: float
    lat: float
    crs: Crs


@strawberry.type(description="Templated feedback to the reporter (no case detail).")
class TipFeedback:
    at: datetime | None = strawberry.field(description="Null for coarse callers (see ago).")
    ago: TimeAgo | None = strawberry.field(description="Coarse callers (auditors) only.")
    template: str
    message: str

    @classmethod
    def of(cls, view: TipView, event: TipEvent, lang: str) -> TipFeedback:
        return cls(
            at=view.exact(event.at),
            ago=view.ago(event.at),
            template=event.feedback or "",
            message=event.feedback_text(lang),
        )


def _gid(type_name: str, value: UUID | None) -> relay.GlobalID | None:
    return relay.GlobalID(type_name, str(value)) if value else None


async def _unit(info: Info, unit_id: UUID | None) -> OrgUnitNode | None:
    # Through the organisation context's per-request loader: one query for a whole page.
    if unit_id is None:
        return None
    [node] = await OrgUnitNode.resolve_nodes(info=info, node_ids=[str(unit_id)])
    return node


def _tip_loader(info: Info) -> Any:
    async def fetch(scope: Any, keys: list[UUID]) -> dict[UUID, TipView]:
        return await info.context.services.get(TipService).get_many(scope, keys)

    return info.context.scoped_loader("tips", fetch)


@strawberry.type(
    name="Tip",
    description="情报线索 as the caller may see it: the reporter sees status and feedback; "
    "station staff also routing and handling. Never the informant's identity.",
)
class TipNode(relay.Node):
    id: relay.NodeID[str]
    uuid: UUID
    category: Category
    description: str
    urgency: Urgency
    anonymous: bool
    status: TipStatus
    submitted_at: datetime | None = strawberry.field(
        description="Null for coarse callers (see submittedAgo)."
    )
    submitted_ago: TimeAgo | None = strawberry.field(
        description="Coarse callers (auditors without a writing role at the station) only."
    )
    coarse: bool = strawberry.field(
        description="Location snapped to a ~500 m cell centre and times as relative buckets."
    )
    version: int
    view: strawberry.Private[TipView]

    @classmethod
    def of(cls, v: TipView) -> TipNode:
        t = v.tip
        return cls(
            id=str(t.id),
            uuid=t.id,
            category=t.category,
            description=t.description,
            urgency=t.urgency,
            anonymous=t.anonymous,
            status=t.status,
            submitted_at=v.exact(t.submitted_at),
            submitted_ago=v.ago(t.submitted_at),
            coarse=v.coarse,
            version=t.version,
            view=v,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[TipNode | None]:
        return await resolve_scoped(node_ids, _tip_loader(info), cls.of, TipNotFound, required)

    @strawberry.field
    def location(self, crs: Crs = Crs.WGS84) -> TipLocation:
        lon, lat = from_wgs84(self.view.location, crs)
        return TipLocation(lon=round(lon, 7), lat=round(lat, 7), crs=crs)

    @strawberry.field
    def feedback(self, info: Info) -> list[TipFeedback]:
        return [TipFeedback.of(self.view, e, info.context.lang) for e in self.view.feedback]

    @strawberry.field(description="The last feedback sent to the reporter (staff only).")
    def latest_feedback(self, info: Info) -> TipFeedback | None:
        latest = self.view.latest_feedback if self.view.as_staff else None
        return TipFeedback.of(self.view, latest, info.context.lang) if latest else None

    @strawberry.field(description="Photos, videos and voice notes attached on submission.")
    def media(self) -> list[MediaNode]:
        # Loaded with the tip, in one batch for the whole page (see TipService).
        return [MediaNode.of(m) for m in self.view.media]

    @strawberry.field(description="Station staff only (null for the reporter).")
    def station_id(self) -> relay.GlobalID | None:
        return _gid("OrgUnit", self.view.tip.routing.station_id) if self.view.as_staff else None

    @strawberry.field(description="Station staff only.")
    def district_id(self) -> relay.GlobalID | None:
        return _gid("OrgUnit", self.view.tip.routing.district_id) if self.view.as_staff else None

    @strawberry.field(description="Station staff only.")
    def grid_id(self) -> relay.GlobalID | None:
        return _gid("OrgUnit", self.view.tip.routing.grid_id) if self.view.as_staff else None

    @strawberry.field(description="The station the tip was routed to (staff only).")
    async def station(self, info: Info) -> OrgUnitNode | None:
        return await _unit(info, self.view.tip.routing.station_id) if self.view.as_staff else None

    @strawberry.field(description="The grid the tip lies in (staff only).")
    async def grid(self, info: Info) -> OrgUnitNode | None:
        return await _unit(info, self.view.tip.routing.grid_id) if self.view.as_staff else None

    @strawberry.field(description="Account id of the handling officer (staff only).")
    def assignee_id(self) -> UUID | None:
        return self.view.tip.assignee_id if self.view.as_staff else None

    @strawberry.field(description="Staff only.")
    def due_at(self) -> datetime | None:
        return self.view.exact(self.view.tip.due_at) if self.view.as_staff else None

    @strawberry.field(description="Staff only.")
    def overdue(self) -> bool | None:
        return self.view.overdue if self.view.as_staff else None

    @strawberry.field(description="Staff only.")
    def outcome(self) -> Outcome | None:
        return self.view.tip.outcome if self.view.as_staff else None

    @strawberry.field(description="Staff only.")
    def referred_to(self) -> str | None:
        return self.view.tip.referred_to if self.view.as_staff else None

    @strawberry.field(description="Staff only.")
    def disputes(self) -> int | None:
        return self.view.tip.disputes if self.view.as_staff else None


@strawberry.input
class TipFilterInput:
    status: TipStatus | None = None
    category: Category | None = None
    urgency: Urgency | None = None
    grid_id: relay.GlobalID | None = None
    overdue: bool = False


@strawberry.type
class TipsQuery:
    @strawberry.field(description="The officer queue: tips in your jurisdiction, newest first.")
    async def tips(
        self,
        info: Info,
        filter: TipFilterInput | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> relay.Connection[TipNode]:
        scope = await info.context.scope()
        service = info.context.services.get(TipService)
        f = filter or TipFilterInput()
        where = service.queue_filter(
            f.status,
            f.category,
            f.urgency,
            node_uuid(f.grid_id, "OrgUnit", TipNotFound) if f.grid_id else None,
            overdue=f.overdue,
        )
        views, more = await service.queue_views(
            scope, where, limit=first_of(first), after=after_id(after)
        )
        return keyset_connection(views, TipNode.of, more=more)

    @strawberry.field(description="Your own named tips with their feedback, newest first.")
    async def my_tips(
        self, info: Info, first: int = 50, after: str | None = None
    ) -> relay.Connection[TipNode]:
        scope = await info.context.scope()
        views, more = await info.context.services.get(TipService).mine(
            scope, limit=first_of(first), after=after_id(after)
        )
        return keyset_connection(views, TipNode.of, more=more)


@strawberry.input
class TipLocationInput:
    lon: float
    lat: float
    crs: Crs = Crs.WGS84


@strawberry.input
class SubmitTipInput:
    id: UUID | None = strawberry.field(default=None, description="Client-generated id")
    category: Category
    description: str
    location: TipLocationInput
    urgency: Urgency = Urgency.NORMAL
    anonymous: bool = False
    media_ids: list[UUID] = strawberry.field(default_factory=list)
    appeal_id: UUID | None = None
    contact_phone: str | None = None


@strawberry.type
class TipPayload:
    tip: TipNode
    created: bool = True


TipResult = Annotated[TipPayload | MutationProblem, strawberry.union("TipResult")]


def _tid(gid: relay.GlobalID) -> UUID:
    return node_uuid(gid, "Tip", TipNotFound)


async def _run(info: Info, act: Callable[[TipService, Any], Awaitable[TipView]]) -> TipResult:
    scope = await info.context.scope()
    try:
        view = await act(info.context.services.get(TipService), scope)
    except DomainError as e:
        return problem_of(e, info.context.lang)
    return TipPayload(tip=TipNode.of(view), created=view.created)


@strawberry.type
class TipsMutation:
    @strawberry.mutation(description="Submit a tip; a retry with the same id returns it.")
    async def submit_tip(self, info: Info, input: SubmitTipInput) -> TipResult:
        async def act(s: TipService, scope: Any) -> TipView:
            phone = parse_cn_mobile(input.contact_phone) if input.contact_phone else None
            return await s.submit(
                scope,
                NewTip(
                    category=input.category,
                    description=input.description,
                    location=to_wgs84(input.location.lon, input.location.lat, input.location.crs),
                    urgency=input.urgency,
                    anonymous=input.anonymous,
                    id=input.id,
                    media_ids=tuple(input.media_ids),
                    appeal_id=input.appeal_id,
                    contact_phone=phone,
                ),
            )

        return await _run(info, act)

    @strawberry.mutation(description="Triage: assign to an officer of the tip's station.")
    async def assign_tip(
        self, info: Info, id: relay.GlobalID, officer_id: UUID, due_at: datetime
    ) -> TipResult:
        return await _run(info, lambda s, scope: s.assign(scope, _tid(id), officer_id, due_at))

    @strawberry.mutation(description="Start verifying a triaged tip.")
    async def start_verifying_tip(self, info: Info, id: relay.GlobalID) -> TipResult:
        return await _run(info, lambda s, scope: s.start_verifying(scope, _tid(id)))

    @strawberry.mutation(description="Record the outcome; the reporter gets the feedback.")
    async def record_tip_outcome(
        self,
        info: Info,
        id: relay.GlobalID,
        outcome: Outcome,
        duplicate_of: relay.GlobalID | None = None,
        referred_to: str | None = None,
        feedback_template: str | None = None,
        referred_to_station_id: Annotated[
            relay.GlobalID | None,
            strawberry.argument(
                description="With outcome REFERRED: the OrgUnit (a station) whose queue "
                "the tip moves to; without it the tip is referred elsewhere."
            ),
        ] = None,
    ) -> TipResult:
        return await _run(
            info,
            lambda s, scope: s.record_outcome(
                scope,
                _tid(id),
                outcome,
                duplicate_of=_tid(duplicate_of) if duplicate_of else None,
                referred_to=referred_to,
                referred_to_station=optional_node_uuid(
                    referred_to_station_id, "OrgUnit", referred_station_unknown
                ),
                feedback_template=feedback_template,
            ),
        )

    @strawberry.mutation(description="Close a tip that has an outcome.")
    async def close_tip(self, info: Info, id: relay.GlobalID) -> TipResult:
        return await _run(info, lambda s, scope: s.close(scope, _tid(id)))

    @strawberry.mutation(description="As its reporter, dispute the outcome (reopens it).")
    async def dispute_tip(self, info: Info, id: relay.GlobalID, reason: str) -> TipResult:
        return await _run(info, lambda s, scope: s.dispute(scope, _tid(id), reason))
