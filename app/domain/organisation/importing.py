"""Planning a jurisdiction import: which features become new units, which update existing
ones, and which are rejected and why. Pure: the service loads what the plan needs (units
with the file's codes, the stations of the districts involved) and writes the result."""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace

from app.domain.organisation.geojson import FeatureDraft, FeatureRejection, ParsedFile
from app.domain.organisation.model import Boundary, InvalidOrgUnit, Level, OrgUnit
from app.domain.shared.imports import Progress, no_progress

# Interiors sharing less than this are numerical noise along a common border, not overlap.
OVERLAP_MIN_M2 = 1.0
_M_PER_DEG = 111_320.0


def overlap_m2(a: Boundary, b: Boundary) -> float:
    """Approximate area (m²) where the interiors of ``a`` and ``b`` overlap; 0 when they
    are disjoint or only touch along their borders."""
    if not a.intersects(b) or not a.relate_pattern(b, "2********"):
        return 0.0
    shared = a.intersection(b)
    lat = shared.centroid.y if not shared.is_empty else 0.0
    return float(shared.area) * _M_PER_DEG**2 * math.cos(math.radians(lat))


def interiors_overlap(a: Boundary, b: Boundary) -> bool:
    return overlap_m2(a, b) >= OVERLAP_MIN_M2


@dataclass(slots=True)
class ImportPlan:
    created: list[OrgUnit] = field(default_factory=list)  # parents before children
    updated: list[OrgUnit] = field(default_factory=list)  # version already bumped
    unchanged: list[OrgUnit] = field(default_factory=list)
    rejected: list[FeatureRejection] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return len(self.created) + len(self.updated) + len(self.unchanged)


@dataclass(slots=True, eq=False)  # identity: used as a dict key
class _Candidate:
    draft: FeatureDraft
    unit: OrgUnit
    original: OrgUnit | None  # the unit as stored, for updates
    changed: bool


def plan_import(
    parsed: ParsedFile,
    existing: Mapping[str, OrgUnit],
    stations_by_district: Mapping[uuid.UUID, Iterable[OrgUnit]],
    *,
    new_id: Callable[[], uuid.UUID],
    progress: Progress = no_progress,
) -> ImportPlan:
    """Decide every feature, parents first whatever their order in the file.

    ``existing`` holds the stored units whose codes the file mentions (as features or as
    parents), with boundaries; ``stations_by_district`` the stored stations (with
    boundaries) of every stored district the file's stations hang under.
    """
    plan = ImportPlan(rejected=list(parsed.rejected))
    rejected_codes = {r.code for r in parsed.rejected if r.code}
    accepted: dict[str, OrgUnit] = {}
    known = {u.id: u.code for u in existing.values()}
    levels = {d.code: d.level for d in parsed.drafts}
    done = len(parsed.rejected)
    progress(done, parsed.total)

    def reject(draft: FeatureDraft, reason: str) -> None:
        plan.rejected.append(FeatureRejection(draft.index, draft.code, reason))
        rejected_codes.add(draft.code)

    for level in Level:
        drafts = sorted((d for d in parsed.drafts if d.level is level), key=lambda d: d.index)
        candidates: list[_Candidate] = []
        for draft in drafts:
            reason, candidate = _check(
                draft, existing, accepted, rejected_codes, known, levels, new_id
            )
            if candidate is None:
                reject(draft, reason)
            else:
                candidates.append(candidate)
            done += 1
            progress(done, parsed.total)
        if level is Level.STATION:
            for candidate, reason in _overlaps(candidates, stations_by_district).items():
                reject(candidate.draft, reason)
            candidates = [c for c in candidates if c.draft.code not in rejected_codes]
        for c in candidates:
            accepted[c.draft.code] = c.unit
            known[c.unit.id] = c.unit.code
            if c.original is None:
                plan.created.append(c.unit)
            elif c.changed:
                plan.updated.append(c.unit)
            else:
                plan.unchanged.append(c.unit)
    plan.rejected.sort(key=lambda r: r.index)
    return plan


def _check(
    draft: FeatureDraft,
    existing: Mapping[str, OrgUnit],
    accepted: Mapping[str, OrgUnit],
    rejected_codes: set[str],
    known: Mapping[uuid.UUID, str],
    levels: Mapping[str, Level],
    new_id: Callable[[], uuid.UUID],
) -> tuple[str, _Candidate | None]:
    parent: OrgUnit | None = None
    if draft.parent_code is not None:
        expected = draft.level.parent_level
        # The parent's level as the file or the database has it; checked first, since a
        # parent at the same or a lower level is not processed yet.
        level = levels.get(draft.parent_code) or (
            existing[draft.parent_code].level if draft.parent_code in existing else None
        )
        if level is not None and level is not expected:
            return (
                f"parent {draft.parent_code} is a {level.value}; "
                f"the parent of a {draft.level.value} must be a {expected}",
                None,
            )
        if draft.parent_code in accepted:
            parent = accepted[draft.parent_code]
        elif draft.parent_code in rejected_codes:
            return "parent rejected", None
        elif draft.parent_code in existing:
            parent = existing[draft.parent_code]
        else:
            return f"unknown parent: {draft.parent_code}", None
    stored = existing.get(draft.code)
    if stored is not None:
        if stored.level is not draft.level:
            return (
                f"{draft.code} exists as a {stored.level.value}; its level cannot change "
                f"to {draft.level.value}",
                None,
            )
        if stored.parent_id != (parent.id if parent else None):
            was = known.get(stored.parent_id, str(stored.parent_id)) if stored.parent_id else "-"
            return (
                f"{draft.code} belongs to {was}; its parent cannot change to {draft.parent_code}",
                None,
            )
        unit = replace(stored)
        changed = unit.reshape(draft.name, draft.boundary)
        return "", _Candidate(draft, unit, stored, changed)
    try:
        unit = OrgUnit.create(
            level=draft.level,
            code=draft.code,
            name=draft.name,
            boundary=draft.boundary,
            parent=parent,
            unit_id=new_id(),
        )
    except InvalidOrgUnit as exc:
        return exc.message_en, None
    return "", _Candidate(draft, unit, None, True)


def _overlaps(
    candidates: list[_Candidate], stations_by_district: Mapping[uuid.UUID, Iterable[OrgUnit]]
) -> dict[_Candidate, str]:
    """Stations of one district must not overlap (touching borders is fine).

    Checked against the file's other stations and the stored ones the file does not
    replace. A rejected update keeps its stored boundary, which may in turn overlap another
    candidate, so this repeats until nothing changes. Two candidates overlapping each other
    are both rejected: the file cannot say which one is right.
    """
    rejected: dict[_Candidate, str] = {}
    while True:
        live = [c for c in candidates if c not in rejected]
        replaced = {c.draft.code for c in live}
        found: dict[_Candidate, str] = {}
        for c in live:
            district = c.unit.district_id
            stored = [
                s
                for s in (stations_by_district.get(district, ()) if district else ())
                if s.code not in replaced and s.boundary is not None
            ]
            peers = [o.unit for o in live if o is not c and o.unit.district_id == district]
            for other in [*peers, *stored]:
                area = overlap_m2(c.unit.boundary, other.boundary)
                if area >= OVERLAP_MIN_M2:
                    found[c] = f"overlaps station {other.code} (about {area:,.0f} m²)"
                    break
        if not found:
            return rejected
        rejected.update(found)
