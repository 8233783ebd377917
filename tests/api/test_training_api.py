"""Courses and training records through REST: ownership, scope, certificate expiry."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from support.auth import auth, officer_token, resident_token
from support.org import OrgTree, make_org_tree
from support.volunteers import activate, application

from app.settings import Settings


@pytest.fixture
async def tree(app: Any) -> OrgTree:
    return await make_org_tree(app)


async def test_courses_trainings_and_certificates(
    client: httpx.AsyncClient, app: Any, settings: Settings, tree: OrgTree
) -> None:
    officer = await officer_token(client, app, unit_code=tree.station_code)
    stranger = await officer_token(client, app, unit_code=tree.other_station_code)
    district = await officer_token(client, app, unit_code=tree.district_code, role="district_admin")
    resident, _ = await resident_token(client, settings)
    vid = (
        await client.post(
            "/api/v1/volunteer-applications", json=application(tree), headers=auth(resident)
        )
    ).json()["id"]
    await activate(client, officer, vid)

    station_course = await client.post(
        "/api/v1/courses",
        json={"code": "HT-WATER", "title": "水上救援", "capability": "water_rescue"},
        headers=auth(officer),
    )
    assert station_course.status_code == 201, station_course.text
    assert station_course.json()["station_id"] == str(tree.station_id)
    assert station_course.json()["validity_months"] is None
    not_yours = await client.post(
        "/api/v1/courses",
        json={"code": "WJ-FA", "title": "急救", "district_id": str(tree.district_id)},
        headers=auth(officer),
    )
    assert not_yours.status_code == 403
    first_aid = await client.post(
        "/api/v1/courses",
        json={
            "code": "WJ-FA",
            "title": "警物联盟大学堂·急救培训",
            "capability": "first_aid",
            "validity_months": 24,
        },
        headers=auth(district),
    )
    assert first_aid.status_code == 201, first_aid.text
    assert first_aid.json()["station_id"] is None
    taken = await client.post(
        "/api/v1/courses", json={"code": "WJ-FA", "title": "重复"}, headers=auth(district)
    )
    assert taken.status_code == 409
    assert taken.json()["code"] == "course.code_taken"

    visible = await client.get("/api/v1/courses?limit=200", headers=auth(stranger))
    codes = {c["code"] for c in visible.json()["items"]}
    assert "WJ-FA" in codes  # district-wide course, usable by every station
    assert "HT-WATER" not in codes
    hidden = await client.get(
        f"/api/v1/courses/{station_course.json()['id']}", headers=auth(stranger)
    )
    assert hidden.status_code == 404

    url = f"/api/v1/volunteers/{vid}/trainings"
    done = await client.post(
        url,
        json={"course_id": first_aid.json()["id"], "completed_on": "2026-03-31"},
        headers=auth(officer),
    )
    assert done.status_code == 201, done.text
    assert done.json()["certificate_expires_on"] == "2028-03-31"
    assert done.json()["course"]["capability"] == "first_aid"
    await client.post(
        url,
        json={"course_id": station_course.json()["id"], "completed_on": "2026-05-01"},
        headers=auth(officer),
    )
    listed = await client.get(url, headers=auth(officer))
    assert [t["course"]["code"] for t in listed.json()] == ["HT-WATER", "WJ-FA"]
    later = await client.get(url + "?valid_on=2028-04-01", headers=auth(officer))
    assert [t["course"]["code"] for t in later.json()] == ["HT-WATER"]
    assert (await client.get(url, headers=auth(stranger))).status_code == 404
    foreign = await client.post(
        url,
        json={"course_id": first_aid.json()["id"], "completed_on": "2026-03-31"},
        headers=auth(stranger),
    )
    assert foreign.status_code == 404
    own = await client.post(
        url,
        json={"course_id": first_aid.json()["id"], "completed_on": "2026-03-31"},
        headers=auth(resident),
    )
    assert own.status_code == 403

    me = (await client.get("/api/v1/me", headers=auth(resident))).json()
    certificates = {c["course"]["code"]: c for c in me["volunteer"]["certificates"]}
    assert certificates["WJ-FA"]["valid_today"] is True
    assert certificates["WJ-FA"]["certificate_expires_on"] == "2028-03-31"
