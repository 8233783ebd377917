"""/api/v1/me/notifications: the caller's own in-app inbox (list, unread count, read)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from app.api.container import services_of
from app.api.context import current_scope, lang_of
from app.api.pagination import after_id
from app.api.rest import API_V1
from app.api.rest.common import Page, PageCursor, PageLimit, parse_path_id
from app.domain.notifications.model import Notification, NotificationNotFound
from app.domain.notifications.services import NotificationService
from app.domain.shared.scope import Scope

router = APIRouter(prefix=API_V1, tags=["notifications"])

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not signed in"},
    404: {"description": "No such notification in your inbox"},
    422: {"description": "Invalid input"},
}


class NotificationOut(BaseModel):
    id: uuid.UUID
    kind: str
    title: str
    body: str
    link: str
    read: bool
    created_at: datetime
    read_at: datetime | None

    @classmethod
    def of(cls, n: Notification, lang: str) -> NotificationOut:
        title, body = n.text(lang)
        return cls(
            id=n.id,
            kind=n.kind.value,
            title=title,
            body=body,
            link=n.link,
            read=not n.unread,
            created_at=n.created_at,
            read_at=n.read_at,
        )


class UnreadCountOut(BaseModel):
    unread: int


class MarkedOut(BaseModel):
    marked: int


def _service(request: Request) -> NotificationService:
    return services_of(request).get(NotificationService)


@router.get(
    "/me/notifications",
    operation_id="listMyNotifications",
    summary="Your notifications, newest first",
    response_model=Page[NotificationOut],
    responses=ERRORS,
)
async def list_notifications(
    request: Request,
    scope: Annotated[Scope, Depends(current_scope)],
    limit: PageLimit = 50,
    cursor: PageCursor = None,
) -> Any:
    page = await _service(request).list(scope, limit=limit, after=after_id(cursor))
    lang = lang_of(request)
    return Page[NotificationOut].keyset(
        [NotificationOut.of(n, lang) for n in page.items], more=page.more
    )


@router.get(
    "/me/notifications/unread-count",
    operation_id="countMyUnreadNotifications",
    summary="How many of your notifications are unread",
    response_model=UnreadCountOut,
    responses=ERRORS,
)
async def unread_count(request: Request, scope: Annotated[Scope, Depends(current_scope)]) -> Any:
    return UnreadCountOut(unread=await _service(request).unread_count(scope))


@router.post(
    "/me/notifications/{notification_id}/read",
    operation_id="markMyNotificationRead",
    summary="Mark one of your notifications read (repeating it changes nothing)",
    response_model=NotificationOut,
    responses=ERRORS,
)
async def mark_read(
    request: Request, notification_id: str, scope: Annotated[Scope, Depends(current_scope)]
) -> Any:
    nid = parse_path_id(notification_id, NotificationNotFound)
    n = await _service(request).mark_read(scope, nid)
    return NotificationOut.of(n, lang_of(request))


@router.post(
    "/me/notifications/read-all",
    operation_id="markAllMyNotificationsRead",
    summary="Mark all your notifications read",
    response_model=MarkedOut,
    responses=ERRORS,
)
async def mark_all_read(request: Request, scope: Annotated[Scope, Depends(current_scope)]) -> Any:
    return MarkedOut(marked=await _service(request).mark_all_read(scope))
