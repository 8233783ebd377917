"""GraphQL door of the caller's own notification inbox."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated
from uuid import UUID

import strawberry
from strawberry import relay

from app.api.graphql.context import Info
from app.api.graphql.errors import MutationProblem, problem_of
from app.api.graphql.relay import first_of, keyset_connection, node_uuid, resolve_scoped
from app.api.pagination import after_id
from app.domain.notifications.model import Notification, NotificationNotFound
from app.domain.notifications.services import NotificationService
from app.domain.shared.errors import DomainError
from app.domain.shared.scope import Scope


@strawberry.type(name="Notification")
class NotificationNode(relay.Node):
    id: relay.NodeID[str]
    uuid: UUID
    kind: str
    title: str
    body: str
    link: str = strawberry.field(description='A deep link such as "shouwang://tips/<id>"')
    read: bool
    created_at: datetime
    read_at: datetime | None

    @classmethod
    def of(cls, n: Notification, lang: str) -> NotificationNode:
        title, body = n.text(lang)
        return cls(
            id=str(n.id),
            uuid=n.id,
            kind=n.kind.value,
            title=title,
            body=body,
            link=n.link,
            read=not n.unread,
            created_at=n.created_at,
            read_at=n.read_at,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[NotificationNode | None]:
        """Only the caller's own notifications resolve; anyone else's is null."""
        service = info.context.services.get(NotificationService)

        async def fetch(scope: Scope, keys: list[UUID]) -> dict[UUID, Notification]:
            return await service.get_many(scope, keys)

        lang = info.context.lang
        loader = info.context.scoped_loader("notifications.by_id", fetch)
        return await resolve_scoped(
            node_ids, loader, lambda n: cls.of(n, lang), NotificationNotFound, required
        )


@strawberry.type
class NotificationsQuery:
    @strawberry.field(description="Your notifications, newest first.")
    async def notifications(
        self, info: Info, first: int = 50, after: str | None = None
    ) -> relay.Connection[NotificationNode]:
        scope = await info.context.scope()
        page = await info.context.services.get(NotificationService).list(
            scope, limit=first_of(first), after=after_id(after)
        )
        lang = info.context.lang
        return keyset_connection(page.items, lambda n: NotificationNode.of(n, lang), more=page.more)

    @strawberry.field(description="How many of your notifications are unread.")
    async def unread_notification_count(self, info: Info) -> int:
        scope = await info.context.scope()
        return await info.context.services.get(NotificationService).unread_count(scope)


@strawberry.type
class NotificationPayload:
    notification: NotificationNode


@strawberry.type
class MarkAllNotificationsReadPayload:
    marked: int


MarkReadResult = Annotated[
    NotificationPayload | MutationProblem, strawberry.union("MarkNotificationReadResult")
]
MarkAllReadResult = Annotated[
    MarkAllNotificationsReadPayload | MutationProblem,
    strawberry.union("MarkAllNotificationsReadResult"),
]


@strawberry.type
class NotificationsMutation:
    @strawberry.mutation(description="Mark one of your notifications read.")
    async def mark_notification_read(self, info: Info, id: relay.GlobalID) -> MarkReadResult:
        scope = await info.context.scope()
        try:
            n = await info.context.services.get(NotificationService).mark_read(
                scope, node_uuid(id, "Notification", NotificationNotFound)
            )
        except DomainError as e:
            return problem_of(e, info.context.lang)
        return NotificationPayload(notification=NotificationNode.of(n, info.context.lang))

    @strawberry.mutation(description="Mark all your notifications read.")
    async def mark_all_notifications_read(self, info: Info) -> MarkAllReadResult:
        scope = await info.context.scope()
        try:
            marked = await info.context.services.get(NotificationService).mark_all_read(scope)
        except DomainError as e:
            return problem_of(e, info.context.lang)
        return MarkAllNotificationsReadPayload(marked=marked)
