"""Bulk import (`shouwang import-volunteers FILE.csv|xlsx [--station CODE]`): each row is
registered or reported with its reason; imported people appear in the station's archive."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from fakes.volunteers import random_phone, random_resident_id
from openpyxl import Workbook
from support.auth import auth, officer_token
from support.org import OrgTree, make_org_tree
from support.volunteers import registration
from typer.testing import CliRunner

from app.bootstrap.commands import import_volunteers
from app.cli import cli
from app.settings import Settings

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "volunteers_sample.csv"


@pytest.fixture
async def tree(app: Any) -> OrgTree:
    return await make_org_tree(app)


def test_csv_import_through_the_cli(tree: OrgTree, database_url: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["import-volunteers", str(SAMPLE), "--station", tree.station_code],
        env={"SHOUWANG_DATABASE_URL": database_url, "SHOUWANG_ENV": "test", "COLUMNS": "200"},
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "Rows: 6 accepted: 2 rejected: 4" in out
    assert "│ 3 │ volunteer.invalid_form (resident_id: checksum)" in out
    assert "│ 4 │ import.duplicate_in_file: same resident ID number as row 2" in out
    assert "│ 5 │ import.unknown_station" in out
    assert "│ 6 │ volunteer.invalid_form (phone: format)" in out


async def test_xlsx_import_reports_each_bad_row(
    client: httpx.AsyncClient, app: Any, settings: Settings, tree: OrgTree, tmp_path: Path
) -> None:
    officer = await officer_token(client, app, unit_code=tree.station_code)
    existing = registration(tree)
    assert (
        await client.post("/api/v1/volunteers", json=existing, headers=auth(officer))
    ).status_code == 201
    good_id = random_resident_id()
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["name", "手机号", "身份证号", "住址", "station_code", "来源类别", "技能", "角色"])
    sheet.append(
        [
            "周杰",
            int(random_phone()),
            good_id,
            "常州市武进区湖塘镇1号",
            tree.station_code,
            "治安积极分子",
            "急救,language",
            "调解员",
        ]
    )
    sheet.append(
        [
            "吴敏",
            random_phone(),
            existing["resident_id"],
            "常州市武进区湖塘镇2号",
            tree.station_code,
            "党员",
            "",
            "",
        ]
    )
    sheet.append(
        [
            "郑强",
            random_phone(),
            random_resident_id(),
            "常州市武进区湖塘镇3号",
            tree.station_code,
            "厨师",
            "",
            "",
        ]
    )
    sheet.append([None] * 8)  # blank lines are skipped, not reported
    path = tmp_path / "volunteers.xlsx"
    book.save(path)

    ticks: list[tuple[int, int]] = []
    report = await import_volunteers(settings, path, None, lambda d, t: ticks.append((d, t)))
    assert report.total == 3
    assert report.accepted == 1
    reasons = {r.ref: r.reason for r in report.rejected}
    assert reasons["3"].startswith("volunteer.already_registered")
    assert reasons["4"].startswith("volunteer.invalid_form")
    assert "source_category" in reasons["4"]
    assert ticks[-1] == (3, 3)

    found = await client.get(
        "/api/v1/volunteers", params={"resident_id": good_id}, headers=auth(officer)
    )
    [imported] = found.json()["items"]
    assert imported["name"] == "周杰"
    assert imported["origin"] == "import"
    assert imported["status"] == "applied"
    assert imported["source_category"] == "public_order_activist"
    assert imported["skills"] == ["急救", "language"]
    assert imported["preferred_roles"] == ["mediator"]
