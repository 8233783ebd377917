"""Feedback templates (反馈模板) sent to the reporter with each outcome.

They thank and inform without revealing any case detail: fixed texts, no placeholders,
so no name, place, finding or other tip can be filled in. Built-in defaults in zh-CN and
en; a station may override a default's text or add variants of its own (by code). The
texts are copied into the tip's history when sent, so later edits do not rewrite it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from app.domain.shared.errors import field_invalid
from app.domain.shared.text import storable


@dataclass(frozen=True, slots=True)
class FeedbackTemplate:
    code: str
    outcome: str  # an Outcome value
    text_zh: str
    text_en: str

    def text(self, lang: str) -> str:
        return self.text_zh if lang.startswith("zh") else self.text_en


class _O(StrEnum):
    # Mirrors model.Outcome without importing it (model imports this module).
    VALID = "valid"
    UNFOUNDED = "unfounded"
    DUPLICATE = "duplicate"
    REFERRED = "referred"


DEFAULT_TEMPLATES: dict[str, FeedbackTemplate] = {
    t.code: t
    for t in (
        FeedbackTemplate(
            "valid",
            _O.VALID,
            "感谢您提供的线索，经核实线索有效，公安机关已依法处理。",
            "Thank you. Your tip was verified and the police have acted on it.",
        ),
        FeedbackTemplate(
            "valid_ongoing",
            _O.VALID,
            "感谢您提供的线索，经核实线索有效，相关工作正在进行中。",
            "Thank you. Your tip was verified and the work it started is under way.",
        ),
        FeedbackTemplate(
            "unfounded",
            _O.UNFOUNDED,
            "感谢您的关注。经核查，未发现您反映的情况，欢迎继续提供线索。",
            "Thank you for your attention. Checks did not confirm what you reported; "
            "please keep telling us what you see.",
        ),
        FeedbackTemplate(
            "duplicate",
            _O.DUPLICATE,
            "感谢您提供的线索。该情况此前已有群众反映，公安机关正在处理。",
            "Thank you. This matter had already been reported and is being handled.",
        ),
        FeedbackTemplate(
            "referred",
            _O.REFERRED,
            "感谢您提供的线索，已移交有关单位依法处理。",
            "Thank you. Your tip has been passed to the competent authority.",
        ),
    )
}


def default_template(outcome: str) -> str:
    return str(outcome)


TEXT_MAX = 300
_CODE = re.compile(r"[a-z][a-z0-9_]{1,49}")


def catalogue(overrides: Iterable[FeedbackTemplate]) -> dict[str, FeedbackTemplate]:
    """The defaults with a station's own templates laid over them."""
    merged = dict(DEFAULT_TEMPLATES)
    merged.update({t.code: t for t in overrides})
    return merged


def new_template(code: str, outcome: str, text_zh: str, text_en: str) -> FeedbackTemplate:
    """A station's template, checked. A default's code keeps the default's outcome."""
    if _CODE.fullmatch(code) is None:
        raise field_invalid(
            "tip.template_code_invalid",
            "code",
            "Template codes are 2-50 lowercase letters, digits or underscores.",
            "模板编码应为2至50位小写字母、数字或下划线。",
        )
    if outcome not in {o.value for o in _O}:
        raise field_invalid(
            "tip.template_outcome_invalid", "outcome", "Unknown outcome.", "未知的处理结果。"
        )
    default = DEFAULT_TEMPLATES.get(code)
    if default is not None and default.outcome != outcome:
        raise field_invalid(
            "tip.template_outcome_mismatch",
            "outcome",
            "This built-in template belongs to another outcome.",
            "该内置模板属于其他处理结果。",
        )
    for field, text in (("text_zh", text_zh), ("text_en", text_en)):
        if not text.strip() or len(text) > TEXT_MAX or not storable(text):
            raise field_invalid(
                "tip.template_text_invalid",
                field,
                "Template texts are 1 to 300 characters.",
                "模板内容应为1至300字。",
            )
    return FeedbackTemplate(code, outcome, text_zh.strip(), text_en.strip())


def require_template(
    outcome: str, code: str, templates: Mapping[str, FeedbackTemplate] = DEFAULT_TEMPLATES
) -> FeedbackTemplate:
    template = templates.get(code)
    if template is None or template.outcome != outcome:
        raise field_invalid(
            "tip.unknown_feedback_template",
            "feedback_template",
            "No such feedback template for this outcome.",
            "该处理结果没有此反馈模板。",
        )
    return template
