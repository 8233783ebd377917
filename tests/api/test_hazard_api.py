"""Hazards (隐患) through the REST API: a report with a photo, a second report of the same
spot offered the first, the officer's merge, verification and assignment to the fire
department, rectification with an after-photo, a volunteer's re-inspection, the
notifications, the rectification rate; who sees what; bad input."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from support.auth import auth, officer_token, resident_token
from support.hazards import (
    BASE,
    EBIKE,
    act,
    department,
    department_token,
    drain,
    hazard_body,
    in_days,
    inbox,
    upload,
    volunteer_of,
)
from support.org import OrgTree, make_org_tree
from support.tips import account_id

from app.bootstrap.hazards import escalate_overdue_hazards
from app.infra.db.tables.hazards import hazards
from app.main import create_app, platform_of
from app.settings import Settings


@pytest.fixture(scope="module")
async def hazard_app(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The app with media stored in a temporary directory."""
    app = create_app(settings.model_copy(update={"media_dir": tmp_path_factory.mktemp("hz")}))
    yield app
    await platform_of(app).aclose()


@pytest.fixture
async def c(hazard_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=hazard_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
async def tree(hazard_app: Any) -> OrgTree:
    return await make_org_tree(hazard_app)


def near(point: tuple[float, float], metres_east: float) -> tuple[float, float]:
    return (round(point[0] + metres_east / 94_800.0, 7), point[1])  # ~94.8 km per ° at 31.7°N


async def stats(c: httpx.AsyncClient, token: str, level: str = "grid") -> list[dict[str, Any]]:
    r = await c.get(f"{BASE}/stats", params={"level": level}, headers=auth(token))
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


async def test_hazard_story_from_report_to_closed_rectification(
    c: httpx.AsyncClient, hazard_app: Any, settings: Settings, tree: OrgTree
) -> None:
    admin = await officer_token(c, hazard_app, unit_code=tree.district_code, role="district_admin")
    officer = await officer_token(c, hazard_app, unit_code=tree.station_code)
    foreign = await officer_token(c, hazard_app, unit_code=tree.other_station_code)
    fire = await department(c, admin, tree, "武进区消防救援大队", "fire")
    estate = await department(c, admin, tree, "花园小区物业服务中心", "property_company")
    r = await c.post(
        "/api/v1/hazard-categories",
        json={
            "district_id": str(tree.district_id),
            "category": "fire",
            "code": "ebike_charging",
            "name_zh": "电动车违规充电",
            "name_en": "Illegal e-bike charging",
            "department_id": fire,
            "rectification_days": 7,
        },
        headers=auth(admin),
    )
    assert r.status_code == 201, r.text
    ebike = r.json()["id"]
    assert r.json()["duplicate_radius_m"] == 50
    fire_token, fire_account = await department_token(c, hazard_app, admin, fire)
    estate_token, _ = await department_token(c, hazard_app, admin, estate)
    first_reporter, _ = await resident_token(c, settings)
    second_reporter, _ = await resident_token(c, settings)
    first_account = await account_id(c, first_reporter)
    second_account = await account_id(c, second_reporter)

    # 1. A report with a photo; both kinds of retry are safe.
    hid = uuid.uuid4()
    photo = await upload(c, first_reporter)
    body = hazard_body(tree.inside, [photo], hazard_id=hid, subcategory_id=ebike)
    keyed = {**auth(first_reporter), "Idempotency-Key": uuid.uuid4().hex}
    created = await c.post(BASE, json=body, headers=keyed)
    assert created.status_code == 201, created.text
    assert created.headers["location"] == f"{BASE}/{hid}"
    first = created.json()
    assert first["description"] == EBIKE
    assert first["place"] == "花园小区3幢1单元"
    assert first["status"] == "reported"
    assert first["audience"] == "reporter"
    assert first["station_id"] == str(tree.station_id)
    assert first["grid_id"] == str(tree.grid_id)
    assert first["reporter_ids"] is None
    assert first["possible_duplicates"] == []
    replay = await c.post(BASE, json=body, headers=keyed)
    assert replay.status_code == 201
    assert replay.headers["idempotent-replayed"] == "true"
    retry = await c.post(BASE, json=body, headers=auth(first_reporter))
    assert retry.status_code == 200, retry.text
    assert retry.json()["id"] == str(hid)

    # 2. A second resident, 12 m away, is offered the first while reporting...
    spot = near(tree.inside, 12)
    offered = await c.get(
        f"{BASE}/nearby",
        params={"category": "fire", "lon": spot[0], "lat": spot[1], "crs": "wgs84"},
        headers=auth(second_reporter),
    )
    assert offered.status_code == 200, offered.text
    [candidate] = offered.json()["items"]
    assert candidate == {
        "id": str(hid),
        "category": "fire",
        "status": "reported",
        "distance_m": 10,
        "photo_id": photo,
    }
    other_kind = await c.get(
        f"{BASE}/nearby",
        params={"category": "dogs", "lon": spot[0], "lat": spot[1]},
        headers=auth(second_reporter),
    )
    assert other_kind.json()["items"] == []
    far = near(tree.inside, 80)
    too_far = await c.get(
        f"{BASE}/nearby",
        params={"category": "fire", "lon": far[0], "lat": far[1]},
        headers=auth(second_reporter),
    )
    assert too_far.json()["items"] == []
    # ... and on submission.
    second_photo = await upload(c, second_reporter)
    r = await c.post(BASE, json=hazard_body(spot, [second_photo]), headers=auth(second_reporter))
    assert r.status_code == 201, r.text
    second = r.json()
    assert [d["id"] for d in second["possible_duplicates"]] == [str(hid)]

    # The station sees both; a foreign station sees neither.
    queue = await c.get(BASE, headers=auth(officer))
    assert {str(hid), second["id"]} <= {h["id"] for h in queue.json()["items"]}
    seen = (await c.get(f"{BASE}/{hid}", headers=auth(officer))).json()
    assert seen["audience"] == "staff"
    assert seen["reporter_ids"] == [first_account]
    assert [h["kind"] for h in seen["history"]] == ["reported"]
    assert (await c.get(f"{BASE}/{hid}", headers=auth(foreign))).status_code == 404
    foreign_queue = await c.get(BASE, headers=auth(foreign))
    assert str(hid) not in {h["id"] for h in foreign_queue.json()["items"]}
    assert (await c.get(f"/api/v1/media/{photo}", headers=auth(foreign))).status_code == 404
    assert (await c.get(f"/api/v1/media/{photo}", headers=auth(officer))).status_code == 200
    r = await c.post(f"{BASE}/{hid}/verify", json={"outcome": "real"}, headers=auth(foreign))
    assert r.status_code == 404

    # 3. The officer merges the second into the first, verifies and assigns it.
    survivor = await act(c, officer, second["id"], "merge", {"into": str(hid)})
    assert survivor["id"] == str(hid)
    assert survivor["reporter_ids"] == [first_account, second_account]
    assert survivor["linked_ids"] == [second["id"]]
    merged = (await c.get(f"{BASE}/{second['id']}", headers=auth(second_reporter))).json()
    assert merged["status"] == "closed"
    assert merged["outcome"] == "duplicate"
    assert merged["duplicate_of"] == str(hid)
    # The second reporter now follows the survivor.
    followed = await c.get(f"{BASE}/{hid}", headers=auth(second_reporter))
    assert followed.status_code == 200
    assert followed.json()["audience"] == "reporter"
    mine = await c.get("/api/v1/me/hazards", headers=auth(second_reporter))
    assert {h["id"] for h in mine.json()["items"]} == {str(hid), second["id"]}

    etag = (await c.get(f"{BASE}/{hid}", headers=auth(officer))).headers["etag"]
    verified = await c.post(
        f"{BASE}/{hid}/verify",
        json={"outcome": "real"},
        headers={**auth(officer), "If-Match": etag},
    )
    assert verified.status_code == 200, verified.text
    assert verified.json()["status"] == "verified"
    stale = await c.post(
        f"{BASE}/{hid}/assign",
        json={"department_id": fire},
        headers={**auth(officer), "If-Match": etag},
    )
    assert stale.status_code == 412
    [row] = [s for s in await stats(c, officer) if s["unit_id"] == str(tree.grid_id)]
    assert row["verified_real"] == 1
    assert row["rectification_rate"] == 0.0

    # The department cannot act before it is assigned; it does not even see the hazard.
    r = await c.post(
        f"{BASE}/{hid}/rectify",
        json={"after_media_ids": [str(uuid.uuid4())], "note": "已整改"},
        headers=auth(fire_token),
    )
    assert r.status_code == 404
    deadline = in_days(7)
    assigned = await act(c, officer, str(hid), "assign", {"deadline": deadline})
    assert assigned["status"] == "assigned"
    assert assigned["department_id"] == fire  # the sub-category's department by default
    assert assigned["deadline"] == deadline

    # 4. The fire department sees only its hazards; the property company sees nothing.
    fire_queue = await c.get(BASE, headers=auth(fire_token))
    assert [h["id"] for h in fire_queue.json()["items"]] == [str(hid)]
    as_fire = (await c.get(f"{BASE}/{hid}", headers=auth(fire_token))).json()
    assert as_fire["audience"] == "department"
    assert as_fire["reporter_ids"] is None
    assert all(h["by"] is None for h in as_fire["history"])
    assert (await c.get(f"{BASE}/{hid}", headers=auth(estate_token))).status_code == 404
    assert (await c.get(BASE, headers=auth(estate_token))).json()["items"] == []
    assert (await c.get(f"{BASE}/{second['id']}", headers=auth(fire_token))).status_code == 404
    r = await c.post(f"{BASE}/{hid}/verify", json={"outcome": "real"}, headers=auth(fire_token))
    assert r.status_code == 403
    after = await upload(c, fire_token)
    rectified = await act(
        c,
        fire_token,
        str(hid),
        "rectify",
        {"after_media_ids": [after], "note": "已清理楼道，设置集中充电点"},
    )
    assert rectified["status"] == "rectified"
    assert rectified["after_media_ids"] == [after]
    assert (await c.get(f"/api/v1/media/{after}", headers=auth(first_reporter))).status_code == 200

    # 5. A volunteer of the station re-inspects it; the rectifier may not.
    r = await c.post(f"{BASE}/{hid}/reinspect", json={"passed": True}, headers=auth(fire_token))
    assert r.status_code == 403
    assert r.json()["code"] == "hazard.not_reinspector"
    volunteer = await volunteer_of(c, settings, officer, tree)
    awaiting = await c.get(BASE, headers=auth(volunteer))
    assert [h["id"] for h in awaiting.json()["items"]] == [str(hid)]
    closed = await act(c, volunteer, str(hid), "reinspect", {"passed": True, "note": "复查合格"})
    assert closed["status"] == "closed"
    assert closed["reporter_ids"] is None  # volunteers never learn who reported
    assert (await c.get(f"{BASE}/{hid}", headers=auth(volunteer))).status_code == 404

    # 6. The rate moves; every reporter and the department heard, once.
    [row] = [s for s in await stats(c, officer) if s["unit_id"] == str(tree.grid_id)]
    assert row["verified_real"] == 1
    assert row["rectified_closed"] == 1
    assert row["rectification_rate"] == 1.0
    assert row["median_hours_to_rectify"] is not None
    [station_row] = [
        s for s in await stats(c, admin, "station") if s["unit_id"] == str(tree.station_id)
    ]
    assert station_row["rectification_rate"] == 1.0
    assert station_row["unit_name"] == "湖塘派出所"
    assert await stats(c, foreign) == [] or all(
        s["unit_id"] != str(tree.grid_id) for s in await stats(c, foreign)
    )
    await drain(hazard_app)
    await drain(hazard_app)
    for reporter in (first_reporter, second_reporter):
        notes = [n for n in await inbox(c, reporter) if n["kind"] == "hazard.updated"]
        links = {n["link"] for n in notes}
        assert f"shouwang://hazards/{hid}" in links
        assert all(n["title"] == "您上报的隐患有新进展" for n in notes)
        assert all(EBIKE not in n["body"] for n in notes)
    # Verified, rectified, closed: three updates of the survivor for each reporter.
    first_notes = [n for n in await inbox(c, first_reporter) if n["kind"] == "hazard.updated"]
    assert len(first_notes) == 3
    [task] = [n for n in await inbox(c, fire_token) if n["kind"] == "hazard.assigned"]
    assert task["link"] == f"shouwang://hazards/{hid}"
    assert fire_account not in task["body"]

    # The verified hazard pays its first verified reporter exactly once (the duplicate's
    # reporter earns nothing), however often the worker runs.
    await drain(hazard_app)
    first_points = (await c.get("/api/v1/me/points", headers=auth(first_reporter))).json()
    credits = [e for e in first_points["items"] if e["source_type"] == "hazard"]
    assert [(e["source_id"], e["reason"], e["amount"]) for e in credits] == [
        (str(hid), "hazard_verified", 10)
    ]
    second_points = (await c.get("/api/v1/me/points", headers=auth(second_reporter))).json()
    assert [e for e in second_points["items"] if e["source_type"] == "hazard"] == []


async def test_reopening_needs_a_reporter_and_evidence(
    c: httpx.AsyncClient, hazard_app: Any, settings: Settings, tree: OrgTree
) -> None:
    officer = await officer_token(c, hazard_app, unit_code=tree.station_code)
    reporter, _ = await resident_token(c, settings)
    stranger, _ = await resident_token(c, settings)
    r = await c.post(
        BASE, json=hazard_body(tree.inside, [await upload(c, reporter)]), headers=auth(reporter)
    )
    hid = r.json()["id"]
    closed = await act(c, officer, hid, "verify", {"outcome": "not_hazard"})
    assert closed["status"] == "closed"
    assert closed["outcome"] == "not_hazard"
    evidence = await upload(c, reporter)
    r = await c.post(
        f"{BASE}/{hid}/reopen",
        json={"reason": "楼道里仍有电动车在充电", "media_ids": [evidence]},
        headers=auth(stranger),
    )
    assert r.status_code == 404
    r = await c.post(
        f"{BASE}/{hid}/reopen",
        json={"reason": "楼道里仍有电动车在充电", "media_ids": []},
        headers=auth(reporter),
    )
    assert r.status_code == 422
    reopened = await act(
        c, reporter, hid, "reopen", {"reason": "楼道里仍有电动车在充电", "media_ids": [evidence]}
    )
    assert reopened["status"] == "reported"
    assert evidence in reopened["media_ids"]
    again = await act(c, officer, hid, "verify", {"outcome": "real"})
    assert again["status"] == "verified"


async def test_bad_input_is_a_problem_and_changes_nothing(
    c: httpx.AsyncClient, hazard_app: Any, settings: Settings, tree: OrgTree
) -> None:
    reporter, _ = await resident_token(c, settings)
    other, _ = await resident_token(c, settings)
    officer = await officer_token(c, hazard_app, unit_code=tree.station_code)
    photo = await upload(c, reporter)

    no_photo = await c.post(BASE, json=hazard_body(tree.inside, []), headers=auth(reporter))
    assert no_photo.status_code == 422
    assert no_photo.headers["content-type"].startswith("application/problem+json")
    bad_kind = await c.post(
        BASE, json=hazard_body(tree.inside, [photo], category="ufo"), headers=auth(reporter)
    )
    assert bad_kind.status_code == 422
    blank = await c.post(
        BASE, json=hazard_body(tree.inside, [photo], description="   "), headers=auth(reporter)
    )
    assert blank.status_code == 422
    assert blank.json()["code"] == "hazard.description_invalid"
    long_place = await c.post(
        BASE, json=hazard_body(tree.inside, [photo], place="楼" * 101), headers=auth(reporter)
    )
    assert long_place.status_code == 422
    theirs = await c.post(
        BASE, json=hazard_body(tree.inside, [photo]), headers=auth(other)
    )  # someone else's photo
    assert theirs.status_code == 404
    assert theirs.json()["code"] == "media.not_found"
    unknown_sub = await c.post(
        BASE,
        json=hazard_body(tree.inside, [photo], subcategory_id=str(uuid.uuid4())),
        headers=auth(reporter),
    )
    assert unknown_sub.status_code == 404
    assert unknown_sub.json()["code"] == "hazard.category_not_found"
    admin = await officer_token(c, hazard_app, unit_code=tree.district_code, role="district_admin")
    dogs = await c.post(
        "/api/v1/hazard-categories",
        json={
            "district_id": str(tree.district_id),
            "category": "dogs",
            "code": "unleashed_dogs",
            "name_zh": "遛狗不拴绳",
            "name_en": "Unleashed dogs",
        },
        headers=auth(admin),
    )
    assert dogs.status_code == 201, dogs.text
    taken = await c.post(
        "/api/v1/hazard-categories",
        json={
            "district_id": str(tree.district_id),
            "category": "dogs",
            "code": "unleashed_dogs",
            "name_zh": "遛狗不拴绳",
            "name_en": "Unleashed dogs",
        },
        headers=auth(admin),
    )
    assert taken.status_code == 409
    assert taken.json()["code"] == "hazard.category_code_taken"
    listed = await c.get(
        "/api/v1/hazard-categories",
        params={"district_id": str(tree.district_id)},
        headers=auth(reporter),
    )
    assert [x["name_zh"] for x in listed.json()] == ["遛狗不拴绳"]
    wrong_kind = await c.post(
        BASE,
        json=hazard_body(tree.inside, [photo], subcategory_id=dogs.json()["id"]),
        headers=auth(reporter),
    )  # a fire report under a dogs sub-category
    assert wrong_kind.status_code == 404
    mine = await c.get("/api/v1/me/hazards", headers=auth(reporter))
    assert mine.json()["items"] == []  # nothing was stored

    r = await c.post(BASE, json=hazard_body(tree.inside, [photo]), headers=auth(reporter))
    assert r.status_code == 201, r.text
    hid = r.json()["id"]
    early = await c.post(f"{BASE}/{hid}/assign", json={}, headers=auth(officer))
    assert early.status_code == 409
    assert early.json()["code"] == "hazard.invalid_transition"
    await act(c, officer, hid, "verify", {"outcome": "real"})
    no_department = await c.post(f"{BASE}/{hid}/assign", json={}, headers=auth(officer))
    assert no_department.status_code == 422
    assert no_department.json()["code"] == "hazard.department_required"
    past = await c.post(
        f"{BASE}/{hid}/assign",
        json={"department_id": str(uuid.uuid4()), "deadline": in_days(-1)},
        headers=auth(officer),
    )
    assert past.status_code == 404  # no such department in the district
    dup = await c.post(f"{BASE}/{hid}/verify", json={"outcome": "duplicate"}, headers=auth(officer))
    assert dup.status_code == 422
    assert dup.json()["code"] == "hazard.duplicate_needs_survivor"
    assert (await c.get(f"{BASE}/not-a-uuid", headers=auth(officer))).status_code == 404
    assert (await c.get(f"{BASE}/stats", headers=auth(reporter))).status_code == 403
    english = await c.post(
        BASE,
        json=hazard_body(tree.inside, [photo], description=" "),
        headers={**auth(reporter), "Accept-Language": "en"},
    )
    assert english.status_code == 422
    # Only district admins of the district set up departments.
    r = await c.post(
        "/api/v1/hazard-departments",
        json={"district_id": str(tree.district_id), "name": "城管中队", "kind": "urban_management"},
        headers=auth(officer),
    )
    assert r.status_code == 403


async def test_overdue_hazards_escalate_to_the_station_then_the_district(
    c: httpx.AsyncClient,
    hazard_app: Any,
    settings: Settings,
    tree: OrgTree,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    admin = await officer_token(c, hazard_app, unit_code=tree.district_code, role="district_admin")
    officer = await officer_token(c, hazard_app, unit_code=tree.station_code)
    fire = await department(c, admin, tree, "武进区消防救援大队", "fire")
    reporter, _ = await resident_token(c, settings)
    r = await c.post(
        BASE, json=hazard_body(tree.inside, [await upload(c, reporter)]), headers=auth(reporter)
    )
    hid = r.json()["id"]
    await act(c, officer, hid, "verify", {"outcome": "real"})
    await act(c, officer, hid, "assign", {"department_id": fire, "deadline": in_days(0)})
    services = hazard_app.state.services
    await escalate_overdue_hazards(services)
    assert (await c.get(f"{BASE}/{hid}", headers=auth(officer))).json()["overdue_level"] == 0

    async def deadline_days_ago(days: int) -> None:
        async with session_factory() as session:
            await session.execute(
                sa.update(hazards)
                .where(hazards.c.id == uuid.UUID(hid))
                .values(deadline=sa.func.current_date() - days)
            )
            await session.commit()

    await deadline_days_ago(1)
    assert await escalate_overdue_hazards(services) >= 1
    assert await escalate_overdue_hazards(services) == 0  # once per level
    seen = (await c.get(f"{BASE}/{hid}", headers=auth(officer))).json()
    assert seen["overdue_level"] == 1
    assert seen["history"][-1]["kind"] == "escalated"
    late = await c.get(BASE, params={"overdue": "true"}, headers=auth(officer))
    assert [h["id"] for h in late.json()["items"]] == [hid]
    [row] = [s for s in await stats(c, officer) if s["unit_id"] == str(tree.grid_id)]
    assert row["overdue"] == 1
    assert row["escalated_to_district"] == 0
    await drain(hazard_app)
    assert [n["link"] for n in await inbox(c, officer) if n["kind"] == "hazard.overdue"] == [
        f"shouwang://hazards/{hid}"
    ]
    assert [n for n in await inbox(c, admin) if n["kind"] == "hazard.overdue"] == []

    await deadline_days_ago(5)
    await escalate_overdue_hazards(services)
    assert (await c.get(f"{BASE}/{hid}", headers=auth(officer))).json()["overdue_level"] == 2
    await drain(hazard_app)
    [to_district] = [n for n in await inbox(c, admin) if n["kind"] == "hazard.overdue"]
    assert to_district["title"] == "有隐患整改已超期"
    [row] = [s for s in await stats(c, officer) if s["unit_id"] == str(tree.grid_id)]
    assert row["escalated_to_district"] == 1


async def test_another_districts_department_is_not_found(
    c: httpx.AsyncClient, hazard_app: Any, tree: OrgTree
) -> None:
    admin = await officer_token(c, hazard_app, unit_code=tree.district_code, role="district_admin")
    fire = await department(c, admin, tree, "武进区消防救援大队", "fire")
    elsewhere = await make_org_tree(hazard_app)
    foreign = await officer_token(
        c, hazard_app, unit_code=elsewhere.district_code, role="district_admin"
    )
    _, member = await department_token(c, hazard_app, admin, fire)
    r = await c.post(
        f"/api/v1/hazard-departments/{fire}/members",
        json={"account_id": member},
        headers=auth(foreign),
    )
    assert r.status_code == 404, r.text
    assert r.json()["code"] == "hazard.department_not_found"
