"""Notifications: a kind and a deep link, rendered from fixed templates. The text never
carries case detail, places or personal data — only "something changed, open the app"."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from app.domain.shared.errors import InvalidInput, NotFound, Unauthenticated
from app.domain.shared.scope import SYSTEM_ACCOUNT_ID, Scope


class Kind(StrEnum):
    VOLUNTEER_STATUS = "volunteer.status_updated"
    TIP_UPDATE = "tip.updated"
    TIP_DISPUTED = "tip.disputed"  # to the handling officer
    APPEAL_PUBLISHED = "appeal.published"  # to volunteers who can see a new police appeal
    HELP_OFFERED = "help.offered"  # to the requester: a volunteer offered help
    HELP_UPDATE = "help.updated"  # to the requester: the request was resolved
    HELP_OFFER_ACCEPTED = "help.offer_accepted"  # to the volunteer whose offer was taken
    HAZARD_UPDATE = "hazard.updated"  # to reporters: verified, rectified or closed
    HAZARD_ASSIGNED = "hazard.assigned"  # to the responsible department's accounts
    HAZARD_OVERDUE = "hazard.overdue"  # to station staff, then district admins
    POINTS_CREDITED = "points.credited"  # to the reporter: points were credited
    REWARD_PAID = "reward.paid"  # to the reporter: a cash reward was paid out
    EMERGENCY_ALERT = "emergency.alert"  # to an alerted member not connected (紧急调派)
    EMERGENCY_DRILL_ALERT = "emergency.drill_alert"  # the same for a drill (演练), marked
    EMERGENCY_RAISED = "emergency.raised"  # to the station's staff: an incident was raised
    EMERGENCY_SHORT = "emergency.short"  # to the station's staff: every ring tried, too few


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
    Kind.APPEAL_PUBLISHED: {
        "zh": ("新的协查通报", "请打开守望查看详情。"),
        "en": ("New police appeal", "Open Shouwang to see the details."),
    },
    Kind.HELP_OFFERED: {
        "zh": ("有人响应了您的求助", "请打开守望查看详情。"),
        "en": ("Someone offered to help you", "Open Shouwang to see the details."),
    },
    Kind.HELP_UPDATE: {
        "zh": ("您的求助有新进展", "请打开守望查看详情。"),
        "en": ("Your help request has an update", "Open Shouwang to see the details."),
    },
    Kind.HELP_OFFER_ACCEPTED: {
        "zh": ("您的帮助响应已被采纳", "请打开守望查看详情。"),
        "en": ("Your offer of help was accepted", "Open Shouwang to see the details."),
    },
    Kind.HAZARD_UPDATE: {
        "zh": ("您上报的隐患有新进展", "请打开守望查看详情。"),
        "en": ("The hazard you reported has an update", "Open Shouwang to see the details."),
    },
    Kind.HAZARD_ASSIGNED: {
        "zh": ("有新的隐患整改任务", "请打开守望查看详情。"),
        "en": ("A hazard was assigned to you to rectify", "Open Shouwang to see the details."),
    },
    Kind.HAZARD_OVERDUE: {
        "zh": ("有隐患整改已超期", "请打开守望查看详情。"),
        "en": ("A hazard is overdue for rectification", "Open Shouwang to see the details."),
    },
    Kind.POINTS_CREDITED: {
        "zh": ("积分已到账", "请打开守望查看详情。"),
        "en": ("Points credited", "Open Shouwang to see the details."),
    },
    Kind.REWARD_PAID: {
        "zh": ("奖励已发放", "请打开守望查看详情。"),
        "en": ("Your reward was paid", "Open Shouwang to see the details."),
    },
    Kind.EMERGENCY_RAISED: {
        "zh": ("辖区内发起了紧急警情", "请立即打开守望查看并处置。"),
        "en": ("An emergency was raised in your area", "Open Shouwang now to handle it."),
    },
    Kind.EMERGENCY_SHORT: {
        "zh": ("应急调派人手不足", "各圈均已通知，响应人数不足，请立即打开守望处置。"),
        "en": ("Emergency dispatch is short of responders", "Open Shouwang now to handle it."),
    },
    Kind.EMERGENCY_ALERT: {
        "zh": ("紧急调派：附近有警情需要支援", "请立即打开守望查看并响应。"),
        "en": ("Emergency dispatch: help is needed nearby", "Open Shouwang now and respond."),
    },
    # A drill must never read as a real call-out, on a lock screen or anywhere else.
    Kind.EMERGENCY_DRILL_ALERT: {
        "zh": ("【演练】紧急调派：附近有警情需要支援", "本次为演练。请立即打开守望查看并响应。"),
        "en": (
            "[Drill] Emergency dispatch: help is needed nearby",
            "This is a drill. Open Shouwang now and respond.",
        ),
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


def own_account(scope: Scope) -> uuid.UUID:
    """The signed-in account an inbox, device or sync feed belongs to; the operator
    (unrestricted or system scope) has none."""
    if scope.unrestricted or scope.account_id == SYSTEM_ACCOUNT_ID:
        raise Unauthenticated()
    return scope.account_id
