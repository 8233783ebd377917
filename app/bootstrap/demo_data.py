"""The synthetic Wujin (武进) demo district: made-up rectangles around the real area
(about 31.7°N 119.95°E), names and brands drawn from the seed documents. Clearly
synthetic: phone numbers, ID numbers and people are invented."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from app.domain.shared.personal_data import resident_id_check_char

DISTRICT_CODE = "320412"
DISTRICT_NAME = "常州市公安局武进分局"

# (code suffix, station name, (west, south, east, north), communities)
STATIONS: list[tuple[str, str, tuple[float, float, float, float], list[str]]] = [
    ("HT", "湖塘派出所", (119.80, 31.70, 119.95, 31.80), ["花园社区", "湖塘商圈社区"]),
    ("XC", "新城派出所", (119.95, 31.70, 120.10, 31.80), ["聚新家园社区", "新城社区"]),
    ("NXS", "南夏墅派出所", (119.80, 31.60, 119.95, 31.70), ["大三社区", "南湖家苑社区"]),
    ("JZ", "嘉泽派出所", (119.95, 31.60, 120.10, 31.70), ["嘉泽村", "夏溪村"]),
]

GRID_ORDINALS = ["第一网格", "第二网格"]


def _rect(west: float, south: float, east: float, north: float) -> dict[str, Any]:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [[[round(x, 6), round(y, 6)] for x, y in ring]]}


def _feature(
    level: str, code: str, name: str, parent: str | None, geom: dict[str, Any]
) -> dict[str, Any]:
    props: dict[str, Any] = {"level": level, "code": code, "name": name}
    if parent is not None:
        props["parent_code"] = parent
    return {"type": "Feature", "properties": props, "geometry": geom}


def station_code(suffix: str) -> str:
    return f"{DISTRICT_CODE}-{suffix}"


def jurisdictions() -> dict[str, Any]:
    features = [
        _feature(
            "district", DISTRICT_CODE, DISTRICT_NAME, None, _rect(119.80, 31.60, 120.10, 31.80)
        )
    ]
    for suffix, name, (w, s, e, n), communities in STATIONS:
        scode = station_code(suffix)
        features.append(_feature("station", scode, name, DISTRICT_CODE, _rect(w, s, e, n)))
        half = (e - w) / len(communities)
        for ci, cname in enumerate(communities):
            cw, ce = w + ci * half, w + (ci + 1) * half
            ccode = f"{scode}-{ci + 1:02d}"
            features.append(_feature("community", ccode, cname, scode, _rect(cw, s, ce, n)))
            mid = (s + n) / 2
            for gi, (gs, gn) in enumerate(((s, mid), (mid, n))):
                features.append(
                    _feature(
                        "grid",
                        f"{ccode}-G{gi + 1}",
                        f"{cname}{GRID_ORDINALS[gi]}",
                        ccode,
                        _rect(cw, gs, ce, gn),
                    )
                )
    return {"type": "FeatureCollection", "features": features}


@dataclass(frozen=True)
class DemoWatchPoint:
    code: str
    name: str
    lon: float
    lat: float
    radius_m: int
    station_suffix: str


WATCH_POINTS = [
    DemoWatchPoint("WP-HT-001", "万家灯火守望点·花园新村东门", 119.840, 31.730, 150, "HT"),
    DemoWatchPoint("WP-HT-002", "万家灯火守望点·湖塘商圈步行街", 119.910, 31.760, 200, "HT"),
    DemoWatchPoint("WP-HT-003", "万家灯火守望点·湖塘农贸市场", 119.930, 31.715, 120, "HT"),
    DemoWatchPoint("WP-XC-001", "万家灯火守望点·聚新家园北门", 119.980, 31.745, 150, "XC"),
    DemoWatchPoint("WP-XC-002", "万家灯火守望点·新城吾悦广场", 120.060, 31.770, 250, "XC"),
    DemoWatchPoint("WP-NXS-001", "万家灯火守望点·大三社区广场", 119.850, 31.650, 150, "NXS"),
    DemoWatchPoint("WP-NXS-002", "万家灯火守望点·南湖家苑", 119.920, 31.630, 150, "NXS"),
    DemoWatchPoint("WP-JZ-001", "万家灯火守望点·嘉泽花木市场", 120.000, 31.640, 200, "JZ"),
]


# (suffix, brand, name, type)
TEAMS = [
    ("HT", "阳湖N警", "湖塘商圈守护联盟", "patrol"),
    ("HT", "阳湖N警", "湖塘最小应急单元", "emergency_unit"),
    ("HT", "反诈红盟", "湖塘反诈小分队", "prevention_publicity"),
    ("XC", "阳湖N警", "新城平安义巡队", "patrol"),
    ("XC", "阳湖N警", "西太湖警商旅联动队", "event_joint"),
    ("NXS", "阳湖N警", "大三社区吾@安居队", "prevention_publicity"),
    ("JZ", "嘉安义警", "嘉泽携调家园调解队", "mediation"),
]

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "涛",
    "明",
    "超",
    "秀英",
    "建华",
    "志强",
    "桂兰",
    "海燕",
    "晓东",
    "丽华",
    "国强",
    "红梅",
    "春生",
    "玉兰",
]
SOURCES = [
    "party_member",
    "security_guard",
    "public_order_activist",
    "five_elders",
    "delivery_rider",
    "ride_hailing_driver",
    "property_staff",
    "other",
]
ROLES = ["security", "informant", "mediator", "publicity"]
SKILLS = [["first_aid"], ["fire"], ["first_aid", "swimming"], ["language:英语"], [], ["driving"]]
# Lifecycle states the demo volunteers end in, in order of how many there are.
STATE_PLAN = (
    ["active"] * 14
    + ["applied"] * 5
    + ["vetted"] * 3
    + ["training"] * 3
    + ["probation"] * 3
    + ["rejected"] * 2
    + ["suspended"] * 2
    + ["retired"] * 2
    + ["expelled"]
)


@dataclass(frozen=True)
class DemoVolunteer:
    index: int
    name: str
    phone: str
    resident_id: str
    station_suffix: str
    target_state: str
    source_category: str
    roles: list[str]
    skills: list[str]
    address: str


def synthetic_resident_id(index: int) -> str:
    born = date(1958 + index % 40, 1 + index % 12, 1 + index % 27)
    body = f"{DISTRICT_CODE}{born:%Y%m%d}{900 + index:03d}"[:17]
    return body + resident_id_check_char(body)


def volunteers() -> list[DemoVolunteer]:
    out: list[DemoVolunteer] = []
    for i, state in enumerate(STATE_PLAN):
        suffix = STATIONS[i % len(STATIONS)][0] if i >= 8 else "HT"
        station_name = next(s[1] for s in STATIONS if s[0] == suffix)
        out.append(
            DemoVolunteer(
                index=i,
                name=SURNAMES[i % len(SURNAMES)] + GIVEN[(i * 7) % len(GIVEN)],
                phone=f"1390519{i:04d}",
                resident_id=synthetic_resident_id(i),
                station_suffix=suffix,
                target_state=state,
                source_category=SOURCES[i % len(SOURCES)],
                roles=[ROLES[i % len(ROLES)]],
                skills=SKILLS[i % len(SKILLS)],
                address=(
                    f"江苏省常州市武进区{station_name[:-3]}某小区"
                    f"{(i % 30) + 1}幢{(i % 6) + 1}0{(i % 4) + 1}室"
                ),
            )
        )
    return out


# One officer per role; demo passwords are printed by `shouwang seed-demo`.
OFFICERS = [
    ("ht.officer", "officer", "HT", "湖塘派出所 社区民警 周警官"),
    ("ht.admin", "station_admin", "HT", "湖塘派出所 所长 程所长"),
    ("xc.officer", "officer", "XC", "新城派出所 社区民警 刘警官"),
    ("wj.admin", "district_admin", None, "武进分局 群防群治办公室"),
    ("wj.auditor", "auditor", None, "武进分局 督察"),
]
DEMO_PASSWORD = "Shouwang-Demo-2026"  # noqa: S105 - demo data only; seed-demo refuses production
