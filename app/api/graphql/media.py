"""GraphQL door of media: the ``Media`` node other contexts embed (a tip's photos), and
the presigned upload mutations (the bytes themselves go over REST or to storage)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated
from uuid import UUID

import strawberry
from strawberry import relay
from strawberry.dataloader import DataLoader

from app.api.graphql.context import Info
from app.api.graphql.errors import MutationProblem, problem_of
from app.api.graphql.relay import node_uuid, resolve_scoped
from app.domain.media.model import MediaKind, MediaNotFound
from app.domain.media.services import MediaService, MediaView
from app.domain.shared.errors import DomainError
from app.domain.shared.scope import Scope

MediaKindEnum = strawberry.enum(MediaKind, name="MediaKind")


def media_loader(info: Info) -> DataLoader[UUID, MediaView | None]:
    """Per-request loader of media visible to the caller (others load as None)."""
    service = info.context.services.get(MediaService)

    async def fetch(scope: Scope, keys: list[UUID]) -> dict[UUID, MediaView]:
        return {v.media.id: v for v in await service.get_many(scope, keys)}

    return info.context.scoped_loader("media.objects", fetch)


@strawberry.type(name="Media", description="A photo, short video or voice note.")
class MediaNode(relay.Node):
    id: relay.NodeID[str]
    uuid: UUID
    kind: MediaKindEnum  # type: ignore[valid-type]
    content_type: str
    size: int
    width: int | None
    height: int | None
    status: str
    url: str | None = strawberry.field(description="Signed, expiring URL (ready only)")
    thumbnail_url: str | None = strawberry.field(description="Signed URL of a 320px JPEG")
    created_at: datetime

    @classmethod
    def of(cls, view: MediaView) -> MediaNode:
        m = view.media
        return cls(
            id=str(m.id),
            uuid=m.id,
            kind=m.kind,
            content_type=m.content_type,
            size=m.size,
            width=m.width,
            height=m.height,
            status=m.status.value,
            url=view.url,
            thumbnail_url=view.thumbnail_url,
            created_at=m.created_at,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[MediaNode | None]:
        return await resolve_scoped(node_ids, media_loader(info), cls.of, MediaNotFound, required)


@strawberry.input
class BeginMediaUploadInput:
    kind: MediaKindEnum  # type: ignore[valid-type]
    content_type: str
    size: int


@strawberry.type
class HttpHeader:
    name: str
    value: str


@strawberry.type
class BeginMediaUploadPayload:
    media: MediaNode
    upload_url: str
    method: str
    headers: list[HttpHeader]
    expires_at: datetime


@strawberry.type
class MediaPayload:
    media: MediaNode


BeginResult = Annotated[
    BeginMediaUploadPayload | MutationProblem, strawberry.union("BeginMediaUploadResult")
]
CompleteResult = Annotated[
    MediaPayload | MutationProblem, strawberry.union("CompleteMediaUploadResult")
]


@strawberry.type
class MediaMutation:
    @strawberry.mutation(description="Begin a presigned upload; PUT the bytes, then complete.")
    async def begin_media_upload(self, info: Info, input: BeginMediaUploadInput) -> BeginResult:
        scope = await info.context.scope()
        try:
            ticket = await info.context.services.get(MediaService).begin_upload(
                scope, MediaKind(input.kind), input.content_type, input.size
            )
        except DomainError as e:
            return problem_of(e, info.context.lang)
        return BeginMediaUploadPayload(
            media=MediaNode.of(MediaView(ticket.media, None, None)),
            upload_url=ticket.upload.url,
            method=ticket.upload.method,
            headers=[HttpHeader(name=k, value=v) for k, v in ticket.upload.headers.items()],
            expires_at=ticket.expires_at,
        )

    @strawberry.mutation(description="Check and process the uploaded bytes.")
    async def complete_media_upload(self, info: Info, id: relay.GlobalID) -> CompleteResult:
        scope = await info.context.scope()
        try:
            view = await info.context.services.get(MediaService).complete_upload(
                scope, node_uuid(id, "Media", MediaNotFound)
            )
        except DomainError as e:
            return problem_of(e, info.context.lang)
        return MediaPayload(media=MediaNode.of(view))
