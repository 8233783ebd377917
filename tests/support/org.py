"""A fresh organisation tree for tests of every context.

``make_org_tree(app)`` (or ``make_org_tree(session_factory)``) imports, through the same
service as ``shouwang import-jurisdictions``, a new district with two stations side by
side (touching, not overlapping), one community and one grid under the first station:

    district  [x, x+0.008] × [y, y+0.008]          测试分局
    station   [x, x+0.004] × [y, y+0.008]          湖塘派出所   (left half)
    other     [x+0.004, x+0.008] × [y, y+0.008]    新城派出所   (right half)
    community [x+0.0005, x+0.0035] × [y+0.0005, y+0.0075]   花园社区
    grid      [x+0.001, x+0.003] × [y+0.001, y+0.004]       网格一

``inside`` is the centre of the grid, ``inside_other`` the centre of the other station.
Every tree gets unique codes and, unless ``origin`` is given, its own 0.01° cell within
±0.5° of Wujin (119.95E 31.70N), so trees never overlap and locating a point is
unambiguous. All coordinates are WGS-84 (lon, lat).
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass
from typing import Any

from app.bootstrap.organisation import build_importer
from app.domain.organisation.services import JurisdictionImportService
from app.domain.shared.scope import system_scope

WUJIN = (119.95, 31.70)
CELL = 0.01
_CELLS_PER_SIDE = 100  # ±0.5° around Wujin
_used_cells: set[tuple[int, int]] = set()


@dataclass(frozen=True)
class OrgTree:
    district_id: uuid.UUID
    district_code: str
    station_id: uuid.UUID
    station_code: str
    community_id: uuid.UUID
    community_code: str
    grid_id: uuid.UUID
    grid_code: str
    other_station_id: uuid.UUID
    other_station_code: str
    inside: tuple[float, float]  # centre of the grid (in station, community and grid)
    inside_other: tuple[float, float]  # centre of the other station


def square(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    """A GeoJSON Polygon for the box [x0, x1] × [y0, y1], counter-clockwise."""
    ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
    return {"type": "Polygon", "coordinates": [ring]}


def feature(
    level: str, code: str, name: str, geometry: dict[str, Any], parent_code: str | None = None
) -> dict[str, Any]:
    properties: dict[str, Any] = {"level": level, "code": code, "name": name}
    if parent_code is not None:
        properties["parent_code"] = parent_code
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def collection(*features: dict[str, Any]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


def free_origin() -> tuple[float, float]:
    """South-west corner of a 0.01° cell near Wujin not used by this test process yet."""
    while True:
        cell = (random.randrange(_CELLS_PER_SIDE), random.randrange(_CELLS_PER_SIDE))
        if cell not in _used_cells:
            _used_cells.add(cell)
            x = WUJIN[0] - 0.5 + cell[0] * CELL
            y = WUJIN[1] - 0.5 + cell[1] * CELL
            return round(x, 6), round(y, 6)


def tree_features(prefix: str, origin: tuple[float, float]) -> list[dict[str, Any]]:
    x, y = origin
    return [
        feature("district", f"{prefix}-D", "测试分局", square(x, y, x + 0.008, y + 0.008)),
        feature(
            "station",
            f"{prefix}-S1",
            "湖塘派出所",
            square(x, y, x + 0.004, y + 0.008),
            f"{prefix}-D",
        ),
        feature(
            "station",
            f"{prefix}-S2",
            "新城派出所",
            square(x + 0.004, y, x + 0.008, y + 0.008),
            f"{prefix}-D",
        ),
        feature(
            "community",
            f"{prefix}-C1",
            "花园社区",
            square(x + 0.0005, y + 0.0005, x + 0.0035, y + 0.0075),
            f"{prefix}-S1",
        ),
        feature(
            "grid",
            f"{prefix}-G1",
            "网格一",
            square(x + 0.001, y + 0.001, x + 0.003, y + 0.004),
            f"{prefix}-C1",
        ),
    ]


def importer_of(app_or_session_factory: Any) -> JurisdictionImportService:
    state = getattr(app_or_session_factory, "state", None)
    if state is not None:
        service: JurisdictionImportService = state.services.get(JurisdictionImportService)
        return service
    return build_importer(app_or_session_factory)


async def import_collection(app_or_session_factory: Any, document: dict[str, Any]) -> Any:
    """Run the import service on a FeatureCollection; returns the ImportReport."""
    importer = importer_of(app_or_session_factory)
    return await importer.import_file(system_scope(), json.dumps(document, ensure_ascii=False))


async def make_org_tree(
    app_or_session_factory: Any, *, origin: tuple[float, float] | None = None
) -> OrgTree:
    """Create a new district tree (see the module docstring); accepts the FastAPI app
    fixture or an ``async_sessionmaker``."""
    prefix = "T" + uuid.uuid4().hex[:10].upper()
    x, y = origin or free_origin()
    report = await import_collection(
        app_or_session_factory, collection(*tree_features(prefix, (x, y)))
    )
    assert not report.rejected, report.rejected
    assert report.accepted == 5
    ids = await _ids_of(
        app_or_session_factory, [f"{prefix}-{s}" for s in ("D", "S1", "S2", "C1", "G1")]
    )
    return OrgTree(
        district_id=ids[f"{prefix}-D"],
        district_code=f"{prefix}-D",
        station_id=ids[f"{prefix}-S1"],
        station_code=f"{prefix}-S1",
        community_id=ids[f"{prefix}-C1"],
        community_code=f"{prefix}-C1",
        grid_id=ids[f"{prefix}-G1"],
        grid_code=f"{prefix}-G1",
        other_station_id=ids[f"{prefix}-S2"],
        other_station_code=f"{prefix}-S2",
        inside=(round(x + 0.002, 7), round(y + 0.0025, 7)),
        inside_other=(round(x + 0.006, 7), round(y + 0.004, 7)),
    )


async def _ids_of(app_or_session_factory: Any, codes: list[str]) -> dict[str, uuid.UUID]:
    importer = importer_of(app_or_session_factory)
    async with importer.uow_factory(system_scope()) as uow:
        units = await uow.org_units.by_codes(codes)
    return {code: unit.id for code, unit in units.items()}
