"""Import rows are validated one by one, through the same use case as the API."""

from __future__ import annotations

from datetime import date

import pytest
from fakes.volunteer_world import World, make_world
from fakes.volunteers import make_resident_id

from app.domain.shared.errors import InvalidInput
from app.domain.shared.scope import system_scope
from app.domain.volunteers.importing import VolunteerImporter, map_headers, split_list
from app.domain.volunteers.lifecycle import VolunteerStatus
from app.domain.volunteers.model import Origin

HEADERS = ["姓名", "手机号", "身份证号", "住址", "派出所编码", "来源类别", "技能", "角色"]


@pytest.fixture
def world() -> World:
    return make_world()


def test_headers_in_chinese_or_english() -> None:
    assert map_headers(HEADERS)["resident_id"] == 2
    english = ["name", "phone", "resident_id", "address", "source_category", "extra"]
    assert map_headers(english) == {
        "name": 0,
        "phone": 1,
        "resident_id": 2,
        "address": 3,
        "source_category": 4,
    }
    with pytest.raises(InvalidInput) as err:
        map_headers(["姓名", "手机号"])
    assert {f.field for f in err.value.fields} == {"resident_id", "address", "source_category"}


def test_lists_split_on_chinese_and_latin_separators() -> None:
    assert split_list("急救、消防,first_aid，  ;") == ["急救", "消防", "first_aid"]


async def test_each_row_is_accepted_or_rejected_with_its_reason(world: World) -> None:
    good = make_resident_id(date(1980, 1, 1))
    other_good = make_resident_id(date(1981, 2, 2))
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    code = world.station.code
    addr = "常州市武进区湖塘镇"
    rows = [
        (
            "2",
            [
                "张伟",
                "13900001111",
                good,
                addr + "1号",
                code,
                "党员",
                "急救、消防",
                "治安员",
            ],
        ),
        ("3", ["李娜", "13900002222", bad, addr + "2号", code, "五老", "", ""]),
        ("4", ["王芳", "13900003333", good.lower(), addr + "3号", code, "物业", "", ""]),
        (
            "5",
            ["赵磊", "13900004444", other_good, addr + "4号", "nope", "外卖员", "", ""],
        ),
        (
            "6",
            [
                "钱多",
                "13900005555",
                make_resident_id(date(1990, 3, 3)),
                "地址",
                "",
                "保安员",
                "",
                "",
            ],
        ),
        (
            "7",
            [
                "孙悦",
                "13900006666",
                make_resident_id(date(2012, 3, 3)),
                "常州市",
                code,
                "其他",
                "",
                "",
            ],
        ),
    ]
    ticks: list[tuple[int, int]] = []
    report = await VolunteerImporter(world.volunteers).run(
        system_scope(), HEADERS, rows, progress=lambda d, t: ticks.append((d, t))
    )
    assert report.total == 6
    assert report.accepted == 1
    reasons = {r.ref: r.reason for r in report.rejected}
    assert reasons["3"].startswith("volunteer.invalid_form")
    assert "resident_id: checksum" in reasons["3"]
    assert reasons["4"].startswith("import.duplicate_in_file")
    assert "row 2" in reasons["4"]
    assert reasons["5"].startswith("import.unknown_station")
    assert reasons["6"].startswith("import.station_required")
    assert reasons["7"].startswith("volunteer.under_age")
    assert ticks[-1] == (6, 6)
    for reason in reasons.values():
        assert "1390000" not in reason
        assert good not in reason
    [v] = world.store.volunteers.values()
    assert (v.name, v.origin, v.status) == ("张伟", Origin.IMPORT, VolunteerStatus.APPLIED)
    assert v.skills == ("急救", "消防")


async def test_already_registered_and_default_station(world: World) -> None:
    rid = make_resident_id(date(1977, 7, 7))
    row = ["周杰", "13900007777", rid, "常州市武进区湖塘镇", "", "党员", "", ""]
    importer = VolunteerImporter(world.volunteers)
    first = await importer.run(
        system_scope(), HEADERS, [("2", row)], default_station_code=world.station.code
    )
    assert first.accepted == 1
    second = await importer.run(
        system_scope(), HEADERS, [("2", row)], default_station_code=world.station.code
    )
    assert second.rejected[0].reason.startswith("volunteer.already_registered")
