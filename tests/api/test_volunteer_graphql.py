"""The same journey through GraphQL: mutations with typed errors, scoped connections,
node(id:) lookups, DataLoader-backed fields, the public badge query and `me`."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest
from fakes.volunteers import random_phone, random_resident_id
from support.auth import auth, officer_token, resident_token
from support.org import OrgTree, make_org_tree

from app.settings import Settings

VOLUNTEER_FIELDS = """
  id uuid name phone residentId address fullPersonalData status volunteerNumber badgeToken
  sourceCategory sourceCategoryLabel version
"""
PROBLEM = "... on Problem { __typename code message }"


@pytest.fixture
async def tree(app: Any) -> OrgTree:
    return await make_org_tree(app)


async def gql(
    client: httpx.AsyncClient, query: str, token: str | None = None, **variables: Any
) -> dict[str, Any]:
    r = await client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers=auth(token) if token else {},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert "errors" not in body, body
    return dict(body["data"])


def volunteer_input(tree: OrgTree, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": "张伟",
        "phone": random_phone(),
        "residentId": random_resident_id(),
        "address": "常州市武进区湖塘镇花园街7号",
        "sourceCategory": "PARTY_MEMBER",
        "stationId": org_gid(tree.station_id),
        "skills": ["first_aid"],
        "preferredRoles": ["SECURITY"],
        "consent": {"noticeVersion": "2026-11", "accepted": True},
    }
    values.update(overrides)
    return values


def org_gid(unit_id: object) -> str:
    import base64

    return base64.b64encode(f"OrgUnit:{unit_id}".encode()).decode()


APPLY = (
    "mutation($input: VolunteerInput!) { applyAsVolunteer(input: $input) {"
    " __typename ... on VolunteerPayload { volunteer {"
    + VOLUNTEER_FIELDS
    + "} } "
    + PROBLEM
    + " } }"
)
CHECK = (
    "mutation($input: BackgroundCheckInput!) { recordBackgroundCheck(input: $input) {"
    " __typename ... on BackgroundCheckPayload { check { result nextRecheckOn }"
    " volunteer { status } } " + PROBLEM + " } }"
)
STATUS = (
    "mutation($id: ID!, $to: VolunteerStatus!, $reason: String) {"
    " changeVolunteerStatus(id: $id, to: $to, reason: $reason) {"
    " __typename ... on VolunteerPayload { volunteer {"
    + VOLUNTEER_FIELDS
    + "} } "
    + PROBLEM
    + " } }"
)


async def activate(client: httpx.AsyncClient, officer: str, gid: str) -> dict[str, Any]:
    checked = await gql(client, CHECK, officer, input={"volunteerId": gid, "result": "PASSED"})
    assert checked["recordBackgroundCheck"]["volunteer"]["status"] == "VETTED"
    result: dict[str, Any] = {}
    for to in ("TRAINING", "PROBATION", "ACTIVE"):
        result = (await gql(client, STATUS, officer, id=gid, to=to))["changeVolunteerStatus"]
        assert result["__typename"] == "VolunteerPayload", result
    return dict(result["volunteer"])


async def test_volunteer_journey_over_graphql(
    client: httpx.AsyncClient, app: Any, settings: Settings, tree: OrgTree
) -> None:
    resident, _ = await resident_token(client, settings)
    officer = await officer_token(client, app, unit_code=tree.station_code)
    stranger = await officer_token(client, app, unit_code=tree.other_station_code)
    district = await officer_token(client, app, unit_code=tree.district_code, role="district_admin")

    applied = (await gql(client, APPLY, resident, input=volunteer_input(tree)))["applyAsVolunteer"]
    assert applied["__typename"] == "VolunteerPayload"
    mine = applied["volunteer"]
    gid = mine["id"]
    assert mine["status"] == "APPLIED"
    assert mine["fullPersonalData"] is True
    assert mine["sourceCategoryLabel"] == "党员"

    again = (await gql(client, APPLY, resident, input=volunteer_input(tree)))["applyAsVolunteer"]
    assert again["__typename"] == "Conflict"
    assert again["code"] == "volunteer.already_registered"

    wrong = (await gql(client, STATUS, officer, id=gid, to="ACTIVE"))["changeVolunteerStatus"]
    assert wrong == {
        "__typename": "Conflict",
        "code": "volunteer.invalid_transition",
        "message": wrong["message"],
    }
    active = await activate(client, officer, gid)
    assert active["volunteerNumber"].endswith("-000001")

    own = (await gql(client, STATUS, resident, id=gid, to="RETIRED", reason="x"))[
        "changeVolunteerStatus"
    ]
    assert own["__typename"] == "NotAllowed"
    foreign = (await gql(client, STATUS, stranger, id=gid, to="RETIRED", reason="x"))[
        "changeVolunteerStatus"
    ]
    assert foreign["__typename"] == "NotFound"

    detail = "query($id: ID!) { volunteer(id: $id) {" + VOLUNTEER_FIELDS + "} }"
    full = (await gql(client, detail, officer, id=gid))["volunteer"]
    assert full["fullPersonalData"] is True
    assert full["name"] == "张伟"
    masked = (await gql(client, detail, district, id=gid))["volunteer"]
    assert masked["name"] == "张*"
    assert "*" in masked["phone"]
    assert masked["badgeToken"] is None
    assert (await gql(client, detail, stranger, id=gid))["volunteer"] is None

    node = "query($id: ID!) { node(id: $id) { ... on Volunteer { uuid name phone } } }"
    seen = (await gql(client, node, officer, id=gid))["node"]
    assert seen["name"] == "张伟"
    assert "*" in seen["phone"]  # node and lists mask personal data
    assert (await gql(client, node, stranger, id=gid))["node"] is None

    listing = (
        "query($f: VolunteerFilterInput) { volunteers(filter: $f, first: 200) {"
        " edges { node { id } } pageInfo { hasNextPage } } }"
    )
    ours = await gql(client, listing, officer, f={"status": "ACTIVE"})
    assert gid in {e["node"]["id"] for e in ours["volunteers"]["edges"]}
    theirs = await gql(client, listing, stranger, f=None)
    assert gid not in {e["node"]["id"] for e in theirs["volunteers"]["edges"]}

    badge = (
        await gql(
            client,
            "query($t: String!) { badge(token: $t) {"
            " maskedName active volunteerNumber teams { brand } } }",
            None,
            t=active["badgeToken"],
        )
    )["badge"]
    assert badge == {
        "maskedName": "张*",
        "active": True,
        "volunteerNumber": active["volunteerNumber"],
        "teams": [],
    }
    unknown = 'query { badge(token: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA") { active } }'
    assert (await gql(client, unknown))["badge"] is None

    me = "query { me { account { uuid roles { role } } volunteer { volunteerNumber residentId } } }"
    data = (await gql(client, me, resident))["me"]
    assert data["volunteer"]["volunteerNumber"] == active["volunteerNumber"]
    assert "volunteer" in {r["role"] for r in data["account"]["roles"]}
    officer_me = (await gql(client, me, officer))["me"]
    assert officer_me["volunteer"] is None

    due = "query($d: Date!) { rechecksDue(before: $d) { edges { node { id } } } }"
    rechecks = await gql(client, due, officer, d=date(2100, 1, 1).isoformat())
    assert gid in {e["node"]["id"] for e in rechecks["rechecksDue"]["edges"]}


async def test_teams_and_training_over_graphql(
    client: httpx.AsyncClient, app: Any, settings: Settings, tree: OrgTree
) -> None:
    officer = await officer_token(client, app, unit_code=tree.station_code)
    stranger = await officer_token(client, app, unit_code=tree.other_station_code)
    register = (
        "mutation($input: VolunteerInput!) { registerVolunteer(input: $input) {"
        " ... on VolunteerPayload { volunteer { id } } " + PROBLEM + " } }"
    )
    ids = []
    for name in ("王芳", "李强"):
        out = await gql(
            client, register, officer, input=volunteer_input(tree, name=name, consent=None)
        )
        ids.append(out["registerVolunteer"]["volunteer"]["id"])
        await activate(client, officer, ids[-1])

    create = (
        "mutation($input: CreateTeamInput!) { createTeam(input: $input) {"
        " ... on TeamPayload { team { id name typeLabel version } } " + PROBLEM + " } }"
    )
    team = (
        await gql(
            client,
            create,
            officer,
            input={"brand": "阳湖N警", "name": "湖塘最小应急单元一组", "type": "EMERGENCY_UNIT"},
        )
    )["createTeam"]["team"]
    assert team["typeLabel"] == "最小应急单元"
    add = (
        "mutation($t: ID!, $v: ID!) { addTeamMember(teamId: $t, volunteerId: $v) {"
        " __typename " + PROBLEM + " } }"
    )
    for vid in ids:
        assert (await gql(client, add, officer, t=team["id"], v=vid))["addTeamMember"] == {
            "__typename": "TeamPayload"
        }
    lead = (
        "mutation($t: ID!, $v: ID!) { setTeamLeader(teamId: $t, volunteerId: $v) {"
        " ... on TeamPayload { team { leader { name } } } " + PROBLEM + " } }"
    )
    led = await gql(client, lead, officer, t=team["id"], v=ids[0])
    assert led["setTeamLeader"]["team"]["leader"]["name"] == "王芳"
    forbidden = await gql(client, add, stranger, t=team["id"], v=ids[1])
    assert forbidden["addTeamMember"]["__typename"] == "NotFound"

    teams = (
        "query { teams(first: 50) { edges { node {"
        " id members { name isLeader volunteer { uuid } } } } } }"
    )
    listed = await gql(client, teams, officer)
    [ours] = [e["node"] for e in listed["teams"]["edges"] if e["node"]["id"] == team["id"]]
    assert sorted(m["name"] for m in ours["members"]) == ["李强", "王芳"]
    assert [m["isLeader"] for m in ours["members"] if m["name"] == "王芳"] == [True]
    assert team["id"] not in {
        e["node"]["id"] for e in (await gql(client, teams, stranger))["teams"]["edges"]
    }

    course = (
        "mutation($input: CreateCourseInput!) { createCourse(input: $input) {"
        " ... on CoursePayload { course { id code } } " + PROBLEM + " } }"
    )
    made = await gql(
        client,
        course,
        officer,
        input={
            "code": "JWLM-FA",
            "title": "警物联盟大学堂·急救",
            "capability": "first_aid",
            "validityMonths": 24,
        },
    )
    cid = made["createCourse"]["course"]["id"]
    record = (
        "mutation($v: ID!, $c: ID!, $d: Date!) { recordTraining(volunteerId: $v, courseId: $c,"
        " completedOn: $d) { ... on TrainingPayload { trainingRecord { id certificateExpiresOn"
        " course { code } } } " + PROBLEM + " } }"
    )
    done = await gql(client, record, officer, v=ids[0], c=cid, d="2026-01-31")
    assert done["recordTraining"]["trainingRecord"]["certificateExpiresOn"] == "2028-01-31"
    future = await gql(client, record, officer, v=ids[0], c=cid, d="2999-01-01")
    assert future["recordTraining"]["__typename"] == "InvalidInput"

    with_teams = (
        "query($id: ID!) { node(id: $id) { ... on Volunteer { teams { name }"
        ' trainings { course { code } validOn(day: "2027-06-01") } } } }'
    )
    volunteer = (await gql(client, with_teams, officer, id=ids[0]))["node"]
    assert volunteer["teams"] == [{"name": "湖塘最小应急单元一组"}]
    assert volunteer["trainings"] == [{"course": {"code": "JWLM-FA"}, "validOn": True}]
    courses = "query { courses { edges { node { id } } } }"
    assert cid in {
        e["node"]["id"] for e in (await gql(client, courses, officer))["courses"]["edges"]
    }
    assert cid not in {
        e["node"]["id"] for e in (await gql(client, courses, stranger))["courses"]["edges"]
    }
