"""GraphQL door of the officer console's tip tools, on a par with REST: counts per status,
the map (GeoJSON), bulk assignment, revealing a named informant (audited) and the
stations' feedback templates. Same ``TipService`` methods and permission checks as
app/api/rest/tips.py; ids of another type or outside the caller's scope are NotFound."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, cast
from uuid import UUID

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from app.api.graphql.context import Info
from app.api.graphql.errors import MutationProblem, problem_of
from app.api.graphql.relay import first_of, node_uuid
from app.api.graphql.tips import TipFilterInput, TipNode
from app.api.pagination import MAX_PAGE
from app.domain.organisation.services import OrgUnitNotFound
from app.domain.shared.errors import DomainError
from app.domain.tips.errors import TipNotFound
from app.domain.tips.feedback import FeedbackTemplate
from app.domain.tips.model import Outcome, TipStatus
from app.domain.tips.ports import TipFilter
from app.domain.tips.services import TipService


@strawberry.type
class TipStatusCount:
    status: TipStatus
    count: int


@strawberry.type(name="TipFeedbackTemplate")
class TipFeedbackTemplateNode:
    code: str
    outcome: Outcome
    text_zh: str
    text_en: str

    @classmethod
    def of(cls, t: FeedbackTemplate) -> TipFeedbackTemplateNode:
        return cls(code=t.code, outcome=Outcome(t.outcome), text_zh=t.text_zh, text_en=t.text_en)


def _where(service: TipService, f: TipFilterInput | None) -> TipFilter:
    f = f or TipFilterInput()
    return service.queue_filter(
        f.status,
        f.category,
        f.urgency,
        node_uuid(f.grid_id, "OrgUnit", TipNotFound) if f.grid_id else None,
        overdue=f.overdue,
    )


def _station(gid: relay.GlobalID) -> UUID:
    """The station behind ``gid``; another type is not found (the service then hides
    stations outside the caller's reads and checks the role)."""
    return node_uuid(gid, "OrgUnit", OrgUnitNotFound)


@strawberry.type
class TipsConsoleQuery:
    @strawberry.field(description="How many tips in your jurisdiction are in each status.")
    async def tip_counts(self, info: Info) -> list[TipStatusCount]:
        scope = await info.context.scope()
        counts = await info.context.services.get(TipService).counts(scope)
        return [TipStatusCount(status=s, count=n) for s, n in counts.items()]

    @strawberry.field(
        description="Tips of the queue filters as a GeoJSON FeatureCollection (WGS-84, max "
        "200; the same document as REST GET /tips/map). Coarse callers get cell centres."
    )
    async def tip_map(
        self, info: Info, filter: TipFilterInput | None = None, first: int = MAX_PAGE
    ) -> JSON:
        scope = await info.context.scope()
        service = info.context.services.get(TipService)
        found = await service.map(scope, _where(service, filter), limit=first_of(first))
        return cast(JSON, found)

    @strawberry.field(
        description="Feedback templates a station's officers choose from (defaults and its own)."
    )
    async def tip_feedback_templates(
        self, info: Info, station_id: relay.GlobalID
    ) -> list[TipFeedbackTemplateNode]:
        scope = await info.context.scope()
        templates = await info.context.services.get(TipService).feedback_templates(
            scope, _station(station_id)
        )
        return [TipFeedbackTemplateNode.of(t) for t in templates]


@strawberry.type
class BulkAssignTipsPayload:
    tips: list[TipNode]


@strawberry.type(description="Who reported a named tip; ``anonymous`` tips name no one.")
class TipInformantPayload:
    anonymous: bool
    account_id: UUID | None = None
    contact_phone: str | None = None


@strawberry.type
class TipFeedbackTemplatePayload:
    template: TipFeedbackTemplateNode


BulkAssignTipsResult = Annotated[
    BulkAssignTipsPayload | MutationProblem, strawberry.union("BulkAssignTipsResult")
]
RevealTipInformantResult = Annotated[
    TipInformantPayload | MutationProblem, strawberry.union("RevealTipInformantResult")
]
SaveTipFeedbackTemplateResult = Annotated[
    TipFeedbackTemplatePayload | MutationProblem, strawberry.union("SaveTipFeedbackTemplateResult")
]


@strawberry.type
class TipsConsoleMutation:
    @strawberry.mutation(
        description="Assign several tips to one officer of their station (all or nothing)."
    )
    async def bulk_assign_tips(
        self, info: Info, ids: list[relay.GlobalID], officer_id: UUID, due_at: datetime
    ) -> BulkAssignTipsResult:
        scope = await info.context.scope()
        try:
            tip_ids = [node_uuid(gid, "Tip", TipNotFound) for gid in ids]
            views = await info.context.services.get(TipService).bulk_assign(
                scope, tip_ids, officer_id, due_at
            )
        except DomainError as e:
            return problem_of(e, info.context.lang)
        return BulkAssignTipsPayload(tips=[TipNode.of(v) for v in views])

    @strawberry.mutation(
        description="Who reported a named tip: the handler directly, other staff with a "
        "reason. Every reveal is audited."
    )
    async def reveal_tip_informant(
        self, info: Info, id: relay.GlobalID, reason: str | None = None
    ) -> RevealTipInformantResult:
        scope = await info.context.scope()
        try:
            revealed = await info.context.services.get(TipService).reveal_informant(
                scope, node_uuid(id, "Tip", TipNotFound), reason
            )
        except DomainError as e:
            return problem_of(e, info.context.lang)
        if revealed is None:
            return TipInformantPayload(anonymous=True)
        return TipInformantPayload(
            anonymous=False,
            account_id=revealed.account_id,
            contact_phone=revealed.contact_phone,
        )

    @strawberry.mutation(
        description="Word a station's feedback template (station or district admin; audited)."
    )
    async def save_tip_feedback_template(
        self,
        info: Info,
        station_id: relay.GlobalID,
        code: str,
        outcome: Outcome,
        text_zh: str,
        text_en: str,
    ) -> SaveTipFeedbackTemplateResult:
        scope = await info.context.scope()
        try:
            template = await info.context.services.get(TipService).save_feedback_template(
                scope, _station(station_id), code, outcome.value, text_zh, text_en
            )
        except DomainError as e:
            return problem_of(e, info.context.lang)
        return TipFeedbackTemplatePayload(template=TipFeedbackTemplateNode.of(template))
