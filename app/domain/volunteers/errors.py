"""Errors of the volunteers context, each with a stable code and en + zh messages."""

from __future__ import annotations

from app.domain.shared.errors import Conflict, InvalidInput, InvalidTransition, NotFound


class VolunteerNotFound(NotFound):
    code = "volunteer.not_found"
    message_en = "The volunteer was not found."
    message_zh = "未找到该志愿者。"


class VolunteerInvalidTransition(InvalidTransition):
    code = "volunteer.invalid_transition"
    message_en = "The volunteer's status cannot change this way from the current status."
    message_zh = "志愿者当前状态不允许此状态变更。"


class AlreadyRegistered(Conflict):
    """One open application or volunteer record per resident ID number and per account."""

    code = "volunteer.already_registered"
    message_en = "An open application or volunteer record already exists for this person."
    message_zh = "此人已有进行中的申请或志愿者档案。"


class TeamNotFound(NotFound):
    code = "team.not_found"
    message_en = "The team was not found."
    message_zh = "未找到该队伍。"


class TeamConflict(Conflict):
    code = "team.conflict"


class CourseNotFound(NotFound):
    code = "course.not_found"
    message_en = "The course was not found."
    message_zh = "未找到该课程。"


class CourseCodeTaken(Conflict):
    code = "course.code_taken"
    message_en = "A course with this code already exists in this district."
    message_zh = "本分局已有相同编码的课程。"


class BadgeNotFound(NotFound):
    code = "badge.not_found"
    message_en = "No volunteer badge matches this code."
    message_zh = "未找到与此码对应的志愿者证。"


class UnderAge(InvalidInput):
    code = "volunteer.under_age"
    message_en = "Volunteers must be at least 18 years old."
    message_zh = "志愿者须年满18周岁。"
