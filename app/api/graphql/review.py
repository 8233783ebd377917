"""GraphQL door of the fraud review queue (风控复核): node, connection and resolve (same
service as REST)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, cast
from uuid import UUID

import strawberry
from strawberry import relay
from strawberry.dataloader import DataLoader
from strawberry.scalars import JSON

from app.api.graphql.context import Info
from app.api.graphql.errors import MutationProblem, problem_of
from app.api.graphql.relay import first_of, keyset_connection, node_uuid, resolve_scoped
from app.api.pagination import after_id
from app.domain.review.errors import FlagNotFound
from app.domain.review.model import Decision, FlagKind, FlagStatus, ReviewFlag
from app.domain.review.services import ReviewService
from app.domain.shared.errors import DomainError
from app.domain.shared.scope import Scope

strawberry.enum(FlagKind, name="ReviewFlagKind", description="Why a report looks suspicious")
strawberry.enum(FlagStatus, name="ReviewFlagStatus", description="open / dismissed / fraud")
strawberry.enum(Decision, name="ReviewDecision", description="How staff resolve a flag")


def flag_loader(info: Info) -> DataLoader[UUID, ReviewFlag | None]:
    service = info.context.services.get(ReviewService)

    async def fetch(scope: Scope, keys: list[UUID]) -> dict[UUID, ReviewFlag]:
        return await service.get_many(scope, keys)

    return info.context.scoped_loader("review_flags.by_id", fetch)


@strawberry.type(
    name="ReviewFlag",
    description="A suspicious report (hazard or tip) in the review queue: record ids and "
    "counts, never accounts or devices.",
)
class ReviewFlagNode(relay.Node):
    id: relay.NodeID[str]
    uuid: UUID
    record_type: str
    record_id: UUID
    kind: FlagKind
    status: FlagStatus
    created_at: datetime
    resolved_at: datetime | None
    note: str | None
    version: int
    flag: strawberry.Private[ReviewFlag]

    @classmethod
    def of(cls, f: ReviewFlag) -> ReviewFlagNode:
        return cls(
            id=str(f.id),
            uuid=f.id,
            record_type=f.record.record_type,
            record_id=f.record.record_id,
            kind=f.kind,
            status=f.status,
            created_at=f.created_at,
            resolved_at=f.resolved_at,
            note=f.note,
            version=f.version,
            flag=f,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[ReviewFlagNode | None]:
        return await resolve_scoped(node_ids, flag_loader(info), cls.of, FlagNotFound, required)

    @strawberry.field(description="Other record ids and counts behind the flag.")
    def evidence(self) -> JSON:
        return cast(JSON, self.flag.evidence)

    @strawberry.field
    def station_id(self) -> relay.GlobalID | None:
        station = self.flag.station_id
        return relay.GlobalID("OrgUnit", str(station)) if station else None


@strawberry.type
class ReviewQuery:
    @strawberry.field(description="Suspicious reports of your jurisdiction, newest first (staff).")
    async def review_flags(
        self,
        info: Info,
        kind: FlagKind | None = None,
        status: FlagStatus | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> relay.Connection[ReviewFlagNode]:
        scope = await info.context.scope()
        page = await info.context.services.get(ReviewService).queue(
            scope, kind=kind, status=status, limit=first_of(first), after=after_id(after)
        )
        return keyset_connection(page.items, ReviewFlagNode.of, more=page.has_more)


@strawberry.type
class ReviewFlagPayload:
    flag: ReviewFlagNode


ReviewFlagResult = Annotated[
    ReviewFlagPayload | MutationProblem, strawberry.union("ReviewFlagResult")
]


@strawberry.type
class ReviewMutation:
    @strawberry.mutation(
        description="Dismiss a flag or confirm fraud (which reverses the report's points)."
    )
    async def resolve_review_flag(
        self, info: Info, id: relay.GlobalID, decision: Decision, note: str | None = None
    ) -> ReviewFlagResult:
        scope = await info.context.scope()
        try:
            flag = await info.context.services.get(ReviewService).resolve(
                scope, node_uuid(id, "ReviewFlag", FlagNotFound), decision, note
            )
        except DomainError as e:
            return problem_of(e, info.context.lang)
        return ReviewFlagPayload(flag=ReviewFlagNode.of(flag))
