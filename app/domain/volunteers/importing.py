"""Bulk registration from a spreadsheet: each row is checked on its own and either
registered through the same use case as the API or reported with its reason."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from typing import Final

from app.domain.shared.errors import DomainError, FieldError, InvalidInput
from app.domain.shared.imports import ImportReport, Progress, no_progress
from app.domain.shared.scope import Scope
from app.domain.shared.text import storable
from app.domain.volunteers.model import Origin
from app.domain.volunteers.recruitment import PersonForm
from app.domain.volunteers.services import VolunteerService

# Canonical column → accepted headers (English and the Chinese used on paper forms).
COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "name": ("name", "姓名"),
    "phone": ("phone", "手机号", "手机号码", "电话"),
    "resident_id": ("resident_id", "身份证号", "身份证号码", "公民身份号码"),
    "address": ("address", "住址", "地址"),
    "station_code": ("station_code", "派出所编码"),
    "source_category": ("source_category", "来源类别"),
    "skills": ("skills", "技能"),
    "roles": ("roles", "角色"),
}
REQUIRED: Final = ("name", "phone", "resident_id", "address", "source_category")
_LIST_SEPARATORS: Final = re.compile(r"[、,，;；]")


def _normal_header(text: str) -> str:
    return "".join(text.split()).lower()


def map_headers(headers: Sequence[str]) -> dict[str, int]:
    """Canonical column name → position. Unknown columns are ignored."""
    aliases = {
        _normal_header(alias): column for column, names in COLUMNS.items() for alias in names
    }
    found: dict[str, int] = {}
    for position, header in enumerate(headers):
        column = aliases.get(_normal_header(header or ""))
        if column is not None and column not in found:
            found[column] = position
    missing = [c for c in REQUIRED if c not in found]
    if missing:
        raise InvalidInput(
            f"The file lacks required columns: {', '.join(missing)}.",
            f"文件缺少必需的列：{'、'.join(COLUMNS[c][1] for c in missing)}。",
            code="import.missing_columns",
            fields=[FieldError(c, "required", "missing column") for c in missing],
        )
    return found


def split_list(text: str) -> list[str]:
    """``急救、消防`` or ``first_aid,fire``."""
    return [part.strip() for part in _LIST_SEPARATORS.split(text) if part.strip()]


def reason_of(error: DomainError) -> str:
    """A rejection reason an operator can act on, without echoing personal data."""
    # Parentheses, not brackets: the CLI prints reasons with rich, which reads [..] as markup.
    where = ""
    if isinstance(error, InvalidInput) and error.fields:
        where = " (" + "; ".join(f"{f.field}: {f.code}" for f in error.fields) + ")"
    return f"{error.code}{where}: {error.message_en}"


def _normal_id(raw: str) -> str:
    return "".join(raw.split()).upper()


class VolunteerImporter:
    def __init__(self, service: VolunteerService) -> None:
        self.service = service

    async def run(
        self,
        scope: Scope,
        headers: Sequence[str],
        rows: Sequence[tuple[str, Sequence[str]]],
        *,
        default_station_code: str | None = None,
        progress: Progress = no_progress,
    ) -> ImportReport:
        """``rows`` are (row reference as the operator sees it, cell texts)."""
        columns = map_headers(headers)
        report = ImportReport(total=len(rows))
        seen: dict[str, str] = {}
        stations: dict[str, uuid.UUID | None] = {}
        for done, (ref, cells) in enumerate(rows, start=1):
            values = {c: (cells[i] if i < len(cells) else "").strip() for c, i in columns.items()}
            reason = await self._one(scope, values, default_station_code, seen, stations, ref)
            if reason is None:
                report.accept()
            else:
                report.reject(ref, reason)
            progress(done, len(rows))
        return report

    async def _one(
        self,
        scope: Scope,
        values: Mapping[str, str],
        default_station_code: str | None,
        seen: dict[str, str],
        stations: dict[str, uuid.UUID | None],
        ref: str,
    ) -> str | None:
        resident_id = _normal_id(values.get("resident_id", ""))
        if resident_id and resident_id in seen:
            return f"import.duplicate_in_file: same resident ID number as row {seen[resident_id]}"
        if resident_id:
            seen[resident_id] = ref
        code = values.get("station_code") or default_station_code or ""
        if not code:
            return "import.station_required: no station code in the row and no --station"
        if not storable(code):
            return "import.unknown_station: the station code has invalid characters"
        if code not in stations:
            found = await self.service.station_by_code(scope, code)
            stations[code] = found.id if found else None
        station_id = stations[code]
        if station_id is None:
            return f"import.unknown_station: no station with code {code!r}"
        form = PersonForm(
            name=values.get("name", ""),
            phone=values.get("phone", ""),
            resident_id=values.get("resident_id", ""),
            address=values.get("address", ""),
            station_id=station_id,
            source_category=values.get("source_category", ""),
            skills=split_list(values.get("skills", "")),
            preferred_roles=split_list(values.get("roles", "")),
        )
        try:
            await self.service.register(scope, form, origin=Origin.IMPORT)
        except DomainError as error:
            return reason_of(error)
        return None
