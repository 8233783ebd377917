"""Fixed vocabularies of the volunteers context: English codes in data, Chinese labels
for people. Imports accept either the code or the Chinese label."""

from __future__ import annotations

from enum import StrEnum


class SourceCategory(StrEnum):
    """Where a volunteer comes from (来源类别)."""

    PARTY_MEMBER = "party_member"
    SECURITY_GUARD = "security_guard"
    PUBLIC_ORDER_ACTIVIST = "public_order_activist"
    FIVE_ELDERS = "five_elders"
    DELIVERY_RIDER = "delivery_rider"
    RIDE_HAILING_DRIVER = "ride_hailing_driver"
    PROPERTY_STAFF = "property_staff"
    OTHER = "other"


SOURCE_CATEGORY_LABELS: dict[SourceCategory, str] = {
    SourceCategory.PARTY_MEMBER: "党员",
    SourceCategory.SECURITY_GUARD: "保安员",
    SourceCategory.PUBLIC_ORDER_ACTIVIST: "治安积极分子",
    # Retired party members, cadres, teachers, soldiers and model workers.
    SourceCategory.FIVE_ELDERS: "五老",
    SourceCategory.DELIVERY_RIDER: "外卖员",
    SourceCategory.RIDE_HAILING_DRIVER: "网约车司机",
    SourceCategory.PROPERTY_STAFF: "物业",
    SourceCategory.OTHER: "其他",
}


class PreferredRole(StrEnum):
    """What a volunteer wants to do (角色)."""

    SECURITY = "security"
    INFORMANT = "informant"
    MEDIATOR = "mediator"
    PUBLICITY = "publicity"


PREFERRED_ROLE_LABELS: dict[PreferredRole, str] = {
    PreferredRole.SECURITY: "治安员",
    PreferredRole.INFORMANT: "信息员",
    PreferredRole.MEDIATOR: "调解员",
    PreferredRole.PUBLICITY: "宣传员",
}


class TeamType(StrEnum):
    PATROL = "patrol"
    PREVENTION_PUBLICITY = "prevention_publicity"
    MEDIATION = "mediation"
    EMERGENCY_UNIT = "emergency_unit"
    EVENT_JOINT = "event_joint"


TEAM_TYPE_LABELS: dict[TeamType, str] = {
    TeamType.PATROL: "平安义巡",
    TeamType.PREVENTION_PUBLICITY: "吾@安居",
    TeamType.MEDIATION: "联调联处",
    TeamType.EMERGENCY_UNIT: "最小应急单元",
    TeamType.EVENT_JOINT: "警商旅联动队",
}


def source_category_from(text: str) -> SourceCategory | None:
    """A code (``party_member``) or its Chinese label (``党员``); ``None`` if neither."""
    value = text.strip()
    for category, label in SOURCE_CATEGORY_LABELS.items():
        if value.lower() == category.value or value == label:
            return category
    return None


def preferred_role_from(text: str) -> PreferredRole | None:
    value = text.strip()
    for role, label in PREFERRED_ROLE_LABELS.items():
        if value.lower() == role.value or value == label:
            return role
    return None
