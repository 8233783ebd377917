"""Errors of the emergency context, each with a stable code and en + zh messages."""

from __future__ import annotations

from collections.abc import Iterable

from app.domain.shared.errors import (
    Conflict,
    InvalidInput,
    InvalidTransition,
    NotAllowed,
    NotFound,
    field_invalid,
)


class IncidentInvalidTransition(InvalidTransition):
    code = "incident.invalid_transition"
    message_en = "The incident's status does not allow this now."
    message_zh = "事件当前状态不允许此操作。"


class ResponseInvalidTransition(InvalidTransition):
    code = "incident.response_invalid_transition"
    message_en = "This response step is not allowed after the previous one."
    message_zh = "当前响应状态不允许此步骤。"


class NotAlerted(NotFound):
    """The member was never alerted to this incident (nothing to answer)."""

    code = "incident.not_alerted"
    message_en = "You were not alerted to this incident."
    message_zh = "您未收到该事件的调派通知。"


class AlreadyAlerted(Conflict):
    code = "incident.already_alerted"
    message_en = "This member has already been alerted to the incident."
    message_zh = "该队员已收到该事件的调派通知。"


class StepOutOfOrder(InvalidInput):
    code = "incident.step_out_of_order"
    message_en = "A step cannot be earlier than the step before it."
    message_zh = "步骤时间不能早于上一步骤。"


class DrillFlagFixed(Conflict):
    code = "incident.drill_flag_fixed"
    message_en = "Whether an incident is a drill is fixed when it is raised."
    message_zh = "是否为演练在事件发起时确定，不能更改。"


class NotADrill(Conflict):
    code = "incident.not_a_drill"
    message_en = "Only drills count in readiness statistics."
    message_zh = "只有演练计入应急能力统计。"


class OffDuty(Conflict):
    """Off duty, no location is collected (PIPL: location tracks are sensitive)."""

    code = "emergency.off_duty"
    message_en = "You are off duty; no location is collected."
    message_zh = "您当前不在岗，不采集位置。"


class NotAnEmergencyTeam(Conflict):
    code = "emergency.not_an_emergency_team"
    message_en = "Only a team of type emergency unit can become an emergency unit."
    message_zh = "只有“最小应急单元”类型的队伍才能建立应急单元。"


class UnitNeedsLeader(Conflict):
    code = "emergency.unit_needs_leader"
    message_en = "An emergency unit needs a leader."
    message_zh = "最小应急单元须有队长。"


class EquipmentNotFound(NotFound):
    code = "emergency.equipment_not_found"
    message_en = "The equipment item was not found."
    message_zh = "未找到该装备。"


class CapabilityNotCertified(NotAllowed):
    """A claimed capability without a certificate valid on the day."""

    code = "emergency.capability_not_certified"
    message_en = "A valid certificate is needed for each capability claimed."
    message_zh = "申报的每项能力都须持有有效证书。"

    def __init__(self, missing: Iterable[str]) -> None:
        self.missing = tuple(sorted(missing))
        super().__init__(
            f"No valid certificate for: {', '.join(self.missing)}.",
            f"以下能力缺少有效证书：{'、'.join(self.missing)}。",
        )


def invalid(code: str, field: str, message_en: str, message_zh: str) -> InvalidInput:
    """Bad input in one field, coded ``emergency.<reason>``."""
    return field_invalid(f"emergency.{code}", field, message_en, message_zh)


class UnitNotFound(NotFound):
    code = "emergency.unit_not_found"
    message_en = "The emergency unit was not found."
    message_zh = "未找到该应急单元。"


class UnitExists(Conflict):
    code = "emergency.unit_exists"
    message_en = "This team is already an emergency unit."
    message_zh = "该队伍已建立应急单元。"


class MemberNotFound(NotFound):
    code = "emergency.member_not_found"
    message_en = "The volunteer is not a member of this emergency unit."
    message_zh = "该志愿者不是本应急单元的队员。"


class NotServing(NotAllowed):
    """Duty, locations and capability claims are for serving volunteers only."""

    code = "emergency.not_serving"
    message_en = "Only a serving volunteer can do this."
    message_zh = "只有在岗（试用或正式）志愿者可以执行此操作。"


class NotUnitManager(NotAllowed):
    code = "emergency.not_unit_manager"
    message_en = "Only the unit's leader or its station's staff may do this."
    message_zh = "只有本单元队长或所属派出所工作人员可以执行此操作。"


class IncidentNotFound(NotFound):
    code = "incident.not_found"
    message_en = "The incident was not found."
    message_zh = "未找到该警情事件。"
