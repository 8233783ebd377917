"""Notifications: a kind and a deep link, rendered from fixed templates. The text never
carries case detail, places or personal data — only "something changed, open the app"."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from app.domain.shared.errors import InvalidInput, NotFound


class Kind(StrEnum):
    VOLUNTEER_STATUS = "volunteer.status_updated"
    TIP_UPDATE = "tip.updated"
    TIP_DISPUTED = "tip.disputed"  # to the handling officer


# (title, body) per kind and language. Generic on purpose: these may be shown on a lock
# screen or relayed through third parties (WeChat, vendor push).
TEMPLATES: dict[Kind, dict[str, tuple[str, str]]] = {
    Kind.VOLUNTEER_STATUS: {
        "zh": ("您的志愿者状态已更新", "请打开守望查看详情。"),
        "en": ("Your volunteer status was updated", "Open Shouwang to see the details."),
    },
    Kind.TIP_UPDATE: {
        "zh": ("您的举报有新进展", "请打开守望查看详情。"),
        "en": ("Your report has an update", "Open Shouwang to see the details."),
    },
    Kind.TIP_DISPUTED: {
        "zh": ("有举报被提出异议", "请打开守望查看详情。"),
        "en": ("A report you handle was disputed", "Open Shouwang to see the details."),
    },
}

# Deep links name a screen and at most one record id: nothing else may ride along.
_LINK = re.compile(
    r"^shouwang://[a-z][a-z-]*(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})?$"
)
ME_LINK = "shouwang://me"


def link_to(screen: str, record_id: uuid.UUID | None = None) -> str:
    """``link_to("tips", tip_id)`` → ``shouwang://tips/<id>``."""
    link = f"shouwang://{screen}" + (f"/{record_id}" if record_id else "")
    if not _LINK.match(link):
        raise InvalidInput("Invalid deep link.", "深度链接无效。", code="notification.invalid_link")
    return link


class NotificationNotFound(NotFound):
    code = "notification.not_found"
    message_en = "The notification was not found."
    message_zh = "未找到该通知。"


@dataclass
class Notification:
    id: uuid.UUID
    account_id: uuid.UUID
    kind: Kind
    link: str
    created_at: datetime
    read_at: datetime | None = None

    def __post_init__(self) -> None:
        if not _LINK.match(self.link):
            raise InvalidInput(
                "Invalid deep link.", "深度链接无效。", code="notification.invalid_link"
            )

    @property
    def unread(self) -> bool:
        return self.read_at is None

    def text(self, lang: str) -> tuple[str, str]:
        """(title, body) in ``lang`` ("zh" unless it starts with "en")."""
        return TEMPLATES[self.kind]["en" if lang.startswith("en") else "zh"]

    def mark_read(self, at: datetime) -> bool:
        """Marks read once; returns whether anything changed."""
        if self.read_at is not None:
            return False
        self.read_at = at
        return True


@dataclass(frozen=True, slots=True)
class NotificationPage:
    items: list[Notification]
    more: bool
