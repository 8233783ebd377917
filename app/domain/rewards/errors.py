"""Errors of the rewards context, each with a stable code and en + zh messages."""

from __future__ import annotations

from app.domain.shared.errors import Conflict, NotFound


class RewardNotFound(NotFound):
    code = "reward.not_found"
    message_en = "The reward was not found."
    message_zh = "未找到该奖励。"


class SourceNotFound(NotFound):
    code = "reward.source_not_found"
    message_en = "The tip or hazard the reward is for was not found."
    message_zh = "未找到奖励对应的线索或隐患。"


class RewardInvalidTransition(Conflict):
    code = "reward.invalid_transition"
    message_en = "The reward cannot change this way from its current status."
    message_zh = "奖励当前状态不允许此操作。"


class RewardExists(Conflict):
    code = "reward.exists"
    message_en = "This person already has a reward for this report."
    message_zh = "该举报人已有此条举报的奖励。"


class BudgetExceeded(Conflict):
    code = "reward.budget_exceeded"
    message_en = "The station's reward budget for this month does not cover this reward."
    message_zh = "本所本月奖励预算不足。"
