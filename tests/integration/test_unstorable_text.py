"""Operator commands and imports reach the use cases without the HTTP input guard: text
the database cannot store (NUL, lone surrogates) is rejected per row or field as invalid
input, never sent to PostgreSQL to fail as an unhandled error mid-import."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fakes.volunteers import random_phone, random_resident_id
from support.auth import DEFAULT_PASSWORD, create_officer
from support.org import (
    OrgTree,
    collection,
    feature,
    free_origin,
    import_collection,
    make_org_tree,
    square,
)

from app.domain.identity.errors import InvalidCredentials, UnitNotFound
from app.domain.identity.model import ClientInfo
from app.domain.identity.officers import NewOfficer, OfficerService
from app.domain.identity.signin import SignInService
from app.domain.shared.errors import InvalidInput
from app.domain.shared.scope import system_scope
from app.domain.volunteers.importing import VolunteerImporter

HEADERS = ["姓名", "手机号", "身份证号", "住址", "派出所编码", "来源类别", "技能"]


@pytest.fixture
async def tree(app: Any) -> OrgTree:
    return await make_org_tree(app)


def row(tree: OrgTree, **cells: str) -> list[str]:
    values = {
        "name": "周杰",
        "phone": random_phone(),
        "resident_id": random_resident_id(),
        "address": "常州市武进区湖塘镇1号",
        "station": tree.station_code,
        "category": "党员",
        "skills": "急救",
    } | cells
    return list(values.values())


async def test_volunteer_import_rejects_rows_with_unstorable_text(app: Any, tree: OrgTree) -> None:
    importer = app.state.services.get(VolunteerImporter)
    rows = [
        ("2", row(tree, name="周\x00杰")),
        ("3", row(tree, skills="急救,消\x00防")),
        ("4", row(tree, address="湖塘镇\ud800号")),
        ("5", row(tree, station=tree.station_code + "\x00")),
        ("6", row(tree)),
    ]
    report = await importer.run(system_scope(), HEADERS, rows)
    assert report.accepted == 1
    reasons = {r.ref: r.reason for r in report.rejected}
    assert reasons["2"].startswith("volunteer.invalid_form (name: invalid_characters)")
    assert reasons["3"].startswith("volunteer.invalid_form (skills: invalid_characters)")
    assert reasons["4"].startswith("volunteer.invalid_form (address: invalid_characters)")
    assert reasons["5"].startswith("import.unknown_station")


async def test_jurisdiction_import_rejects_unstorable_names_and_parent_codes(app: Any) -> None:
    x, y = free_origin()
    code = f"NUL-{uuid.uuid4().hex[:8]}"
    left, right = square(x, y, x + 0.004, y + 0.008), square(x + 0.004, y, x + 0.008, y + 0.008)
    district = feature("district", code, "测试分局", square(x, y, x + 0.008, y + 0.008))
    bad_name = feature("station", f"{code}-S1", "湖塘\x00派出所", left, code)
    bad_parent = feature("station", f"{code}-S2", "新城派出所", right, code + "\x00")
    report = await import_collection(app, collection(district, bad_name, bad_parent))
    assert report.accepted == 1
    reasons = [r.reason for r in report.rejected]
    assert any("name contains characters" in r for r in reasons)
    assert any(r.startswith("parent_code must be") for r in reasons)


async def test_officer_commands_refuse_unstorable_text(app: Any, tree: OrgTree) -> None:
    service = app.state.services.get(OfficerService)
    with pytest.raises(InvalidInput) as caught:
        await service.create_officer(
            system_scope(),
            NewOfficer("nul.name", DEFAULT_PASSWORD, tree.station_code, "officer", "王\x00军"),
        )
    assert caught.value.fields[0].code == "invalid_characters"
    with pytest.raises(UnitNotFound):
        await service.create_officer(
            system_scope(),
            NewOfficer("nul.unit", DEFAULT_PASSWORD, tree.station_code + "\x00", "officer"),
        )


async def test_password_sign_in_with_an_unstorable_username_is_just_wrong(
    app: Any, tree: OrgTree
) -> None:
    username, _ = await create_officer(app, unit_code=tree.station_code)
    signin = app.state.services.get(SignInService)
    with pytest.raises(InvalidCredentials):
        await signin.sign_in_with_password(
            username + "\x00", DEFAULT_PASSWORD, ClientInfo(ip="10.9.8.7")
        )
