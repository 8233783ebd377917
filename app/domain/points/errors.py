"""Errors of the points context, each with a stable code and en + zh messages."""

from __future__ import annotations

from app.domain.shared.errors import Conflict, NotFound


class EntryNotFound(NotFound):
    code = "points.entry_not_found"
    message_en = "The points entry was not found."
    message_zh = "未找到该积分记录。"


class ItemNotFound(NotFound):
    code = "points.item_not_found"
    message_en = "The catalogue item was not found."
    message_zh = "未找到该兑换商品。"


class RedemptionNotFound(NotFound):
    code = "points.redemption_not_found"
    message_en = "The redemption was not found."
    message_zh = "未找到该兑换记录。"


class AlreadyReversed(Conflict):
    code = "points.already_reversed"
    message_en = "This entry has already been reversed."
    message_zh = "该积分记录已被冲正。"


class NotReversible(Conflict):
    code = "points.not_reversible"
    message_en = "Only credits can be reversed here (cancel a redemption to refund it)."
    message_zh = "此处只能冲正积分入账（兑换请通过取消兑换退回）。"


class InsufficientPoints(Conflict):
    code = "points.insufficient"
    message_en = "Your points balance does not cover this item."
    message_zh = "积分余额不足。"


class OutOfStock(Conflict):
    code = "points.out_of_stock"
    message_en = "This item is out of stock."
    message_zh = "该商品已兑完。"


class RedemptionInvalidTransition(Conflict):
    code = "points.redemption_invalid_transition"
    message_en = "The redemption cannot change this way from its current status."
    message_zh = "兑换记录当前状态不允许此操作。"
