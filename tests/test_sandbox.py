"""The sandbox over real HTTP: the contracts of docs/api.md, the admin API, faults, and the
seeded mess the matcher and rules must cope with."""

from __future__ import annotations

import collections
import datetime as dt
import subprocess
import sys
from typing import Any

import httpx
import pytest
from pydantic import TypeAdapter, ValidationError

from smtui.records import Booking, Child
from smtui.sandbox.admin import AdminClient
from smtui.sandbox.server import RunningSandbox

CCMS_LISTS = ("children", "rooms", "bookings")
PORTFOLIO_LISTS = ("profiles", "rooms")
TODAY = dt.date(2026, 11, 23)  # the clock conftest gives the sandbox (sandbox_today)


@pytest.fixture(autouse=True)
def _clock_agrees(sandbox_today: dt.date) -> None:
    assert sandbox_today == TODAY


def ccms(sb: RunningSandbox, service_id: str) -> httpx.Client:
    return httpx.Client(
        base_url=sb.ccms_url(service_id), headers={"Authorization": f"Bearer {sb.ccms_token}"}
    )


def portfolio(sb: RunningSandbox, service_id: str) -> httpx.Client:
    return httpx.Client(
        base_url=sb.portfolio_url(service_id),
        headers={"Authorization": f"Bearer {sb.portfolio_token}"},
    )


def read_all(client: httpx.Client, path: str, limit: int = 500) -> tuple[list[dict], int]:
    """Follow next_cursor to the end, as a connector must; returns (items, pages)."""
    items: list[dict] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        response = client.get(path, params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            return items, pages


def create_profile(client: httpx.Client, key: str, body: dict[str, Any]) -> httpx.Response:
    return client.post("/profiles", json=body, headers={"Idempotency-Key": key})


# --- auth and errors --------------------------------------------------------------------


@pytest.mark.parametrize(("system", "path"), [("ccms", "/children"), ("portfolio", "/profiles")])
@pytest.mark.parametrize("auth", [None, "Bearer nope", "Bearer {other}", "Basic {own}"])
def test_each_system_accepts_only_its_own_token(
    sandbox: RunningSandbox, system: str, path: str, auth: str | None
) -> None:
    own = sandbox.ccms_token if system == "ccms" else sandbox.portfolio_token
    other = sandbox.portfolio_token if system == "ccms" else sandbox.ccms_token
    base = (
        sandbox.ccms_url("sunny-hill") if system == "ccms" else sandbox.portfolio_url("sunny-hill")
    )
    headers = {"Authorization": auth.format(own=own, other=other)} if auth else {}
    refused = httpx.get(base + path, headers=headers)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "unauthorized"
    assert own not in refused.text
    allowed = httpx.get(base + path, headers={"Authorization": f"Bearer {own}"})
    assert allowed.status_code == 200


def test_admin_api_needs_the_admin_token(sandbox: RunningSandbox) -> None:
    bad = httpx.get(
        sandbox.admin_url + "/services", headers={"Authorization": f"Bearer {sandbox.ccms_token}"}
    )
    assert bad.status_code == 401


def test_unknown_service_record_and_cursor_are_404_in_the_error_shape(
    sandbox: RunningSandbox,
) -> None:
    with ccms(sandbox, "no-such-centre") as client:
        missing = client.get("/children")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "service_not_found"
    with portfolio(sandbox, "sunny-hill") as client:
        assert client.get("/profiles/prf_nope").json()["error"]["code"] == "profile_not_found"
        assert client.post("/profiles/prf_nope/archive").status_code == 404
        assert client.get("/profiles", params={"cursor": "garbage"}).status_code == 404


@pytest.mark.parametrize("limit", [0, 501, "ten"])
def test_limit_outside_1_to_500_is_422(sandbox: RunningSandbox, limit: object) -> None:
    with ccms(sandbox, "sunny-hill") as client:
        response = client.get("/children", params={"limit": limit})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"


# --- pagination -------------------------------------------------------------------------


def test_pagination_reaches_every_record_exactly_once(
    sandbox: RunningSandbox, sandbox_admin: AdminClient
) -> None:
    counts = {s["id"]: s["counts"] for s in sandbox_admin.services()}
    with ccms(sandbox, "harbour-city") as client:
        children, pages = read_all(client, "/children", limit=137)
        bookings, _ = read_all(client, "/bookings", limit=500)
        default_page = client.get("/children").json()
    ids = [c["id"] for c in children]
    assert len(ids) == len(set(ids)) == counts["harbour-city"]["children"] >= 2000
    assert pages == -(-len(ids) // 137)
    assert len({b["id"] for b in bookings}) == counts["harbour-city"]["bookings"]
    assert len(default_page["items"]) == 100
    with portfolio(sandbox, "harbour-city") as client:
        profiles, _ = read_all(client, "/profiles", limit=99)
    assert len({p["id"] for p in profiles}) == counts["harbour-city"]["profiles"]


def test_a_record_created_mid_read_never_makes_the_read_repeat_or_skip(
    sandbox_world: RunningSandbox,
) -> None:
    with portfolio(sandbox_world, "little-wattle") as client:
        before = {p["id"] for p in read_all(client, "/profiles")[0]}
        first = client.get("/profiles", params={"limit": 10}).json()
        for n in range(5):
            create_profile(client, f"mid-{n}", {"first_name": f"New{n}", "last_name": "Kid"})
        seen = [p["id"] for p in first["items"]]
        cursor = first["next_cursor"]
        while cursor:
            page = client.get("/profiles", params={"limit": 10, "cursor": cursor}).json()
            seen += [p["id"] for p in page["items"]]
            cursor = page["next_cursor"]
    assert len(seen) == len(set(seen))
    assert before <= set(seen)


# --- determinism ------------------------------------------------------------------------


def snapshot_bytes(sb: RunningSandbox) -> bytes:
    """The records of every list, byte for byte (``as_of``, the server's change mark, is not
    data: it moves on with every write and reset)."""
    raw = b""
    for service_id in ("sunny-hill", "kowhai-kids"):
        with ccms(sb, service_id) as client:
            for path in CCMS_LISTS:
                raw += _records(client.get(path, params={"limit": 500}).content)
        with portfolio(sb, service_id) as client:
            for path in PORTFOLIO_LISTS:
                raw += _records(client.get(path, params={"limit": 500}).content)
    return raw


def _records(body: bytes) -> bytes:
    """A page's bytes up to its ``as_of`` field (the items come first in the body)."""
    return body.split(b',"as_of":', 1)[0]


def test_same_seed_gives_byte_identical_data_and_another_seed_does_not(
    sandbox_world: RunningSandbox, sandbox_admin: AdminClient
) -> None:
    first = snapshot_bytes(sandbox_world)
    sandbox_admin.reset(seed=8)
    other = snapshot_bytes(sandbox_world)
    sandbox_admin.reset(seed=7)
    again = snapshot_bytes(sandbox_world)
    assert first == again
    assert first != other


def test_service_listing_names_timezones_and_base_paths(sandbox_admin: AdminClient) -> None:
    services = {s["id"]: s for s in sandbox_admin.services()}
    assert len(services) >= 5
    assert "Pacific/Auckland" in {s["timezone"] for s in services.values()}
    sizes = sorted(s["counts"]["children"] for s in services.values())
    assert sizes[0] <= 40 and sizes[-1] >= 2000
    hill = services["sunny-hill"]
    assert hill["ccms_path"] == "/ccms/v1/services/sunny-hill"
    assert hill["portfolio_path"] == "/portfolio/v1/services/sunny-hill"


# --- portfolio writes -------------------------------------------------------------------


def test_create_with_same_key_and_body_replays_the_first_response(
    sandbox_world: RunningSandbox,
) -> None:
    body = {"first_name": "Mīria", "last_name": "Ngata", "birth_date": "2024-02-29"}
    with portfolio(sandbox_world, "kowhai-kids") as client:
        first = create_profile(client, "key-1", body)
        again = create_profile(client, "key-1", body)
        clash = create_profile(client, "key-1", {**body, "last_name": "Ngati"})
        named = [p for p in read_all(client, "/profiles")[0] if p["first_name"] == "Mīria"]
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert len(named) == 1
    assert clash.status_code == 422
    assert clash.json()["error"]["code"] == "idempotency_key_reused"
    with portfolio(sandbox_world, "gumnut-grove") as client:  # keys are per service
        elsewhere = create_profile(client, "key-1", body)
    assert elsewhere.status_code == 201
    assert elsewhere.json()["id"] != first.json()["id"]


def test_room_create_is_idempotent_too(sandbox_world: RunningSandbox) -> None:
    with portfolio(sandbox_world, "gumnut-grove") as client:
        first = client.post("/rooms", json={"name": "Emus"}, headers={"Idempotency-Key": "r1"})
        again = client.post("/rooms", json={"name": "Emus"}, headers={"Idempotency-Key": "r1"})
        clash = client.post("/rooms", json={"name": "Emu"}, headers={"Idempotency-Key": "r1"})
    assert (first.status_code, again.status_code, clash.status_code) == (201, 201, 422)
    assert first.json()["id"] == again.json()["id"]


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        ({}, {"first_name": "A", "last_name": "B"}),  # no Idempotency-Key
        ({"Idempotency-Key": "k"}, {"first_name": "A"}),
        ({"Idempotency-Key": "k"}, {"first_name": " ", "last_name": "B"}),
        ({"Idempotency-Key": "k"}, {"first_name": "A", "last_name": "B", "birth_date": "soon"}),
        ({"Idempotency-Key": "k"}, {"first_name": "A", "last_name": "B", "invite": True}),
    ],
)
def test_invalid_creates_are_422_and_create_nothing(
    sandbox_world: RunningSandbox, headers: dict[str, str], body: dict[str, Any]
) -> None:
    with portfolio(sandbox_world, "gumnut-grove") as client:
        before = len(read_all(client, "/profiles")[0])
        response = client.post("/profiles", json=body, headers=headers)
        after = len(read_all(client, "/profiles")[0])
    assert response.status_code == 422
    assert set(response.json()["error"]) == {"code", "message"}
    assert before == after


def test_archive_unarchive_and_membership_are_idempotent(sandbox_world: RunningSandbox) -> None:
    with portfolio(sandbox_world, "gumnut-grove") as client:
        profile = next(p for p in read_all(client, "/profiles")[0] if not p["archived"])
        room = next(r for r in read_all(client, "/rooms")[0] if not r["archived"])
        pid, rid = profile["id"], room["id"]
        for _ in range(2):
            archived = client.post(f"/profiles/{pid}/archive")
            assert (archived.status_code, archived.json()["archived"]) == (200, True)
        for _ in range(2):
            restored = client.post(f"/profiles/{pid}/unarchive")
            assert (restored.status_code, restored.json()["archived"]) == (200, False)
        for _ in range(2):
            assert client.put(f"/rooms/{rid}/members/{pid}").status_code == 204
        assert client.get(f"/profiles/{pid}").json()["room_ids"].count(rid) == 1
        for _ in range(2):
            assert client.delete(f"/rooms/{rid}/members/{pid}").status_code == 204
        assert rid not in client.get(f"/profiles/{pid}").json()["room_ids"]
        for _ in range(2):
            assert client.post(f"/rooms/{rid}/archive").json()["archived"] is True


def test_linking_and_editing_a_profile(sandbox_world: RunningSandbox) -> None:
    with portfolio(sandbox_world, "gumnut-grove") as client:
        live = [p for p in read_all(client, "/profiles")[0] if not p["archived"]]
        a, b = live[0]["id"], live[1]["id"]
        linked = client.patch(f"/profiles/{a}", json={"external_ref": "ch-1", "birth_date": None})
        assert linked.status_code == 200
        assert (linked.json()["external_ref"], linked.json()["birth_date"]) == ("ch-1", None)
        taken = client.patch(f"/profiles/{b}", json={"external_ref": "ch-1"})
        assert taken.status_code == 409
        assert client.patch(f"/profiles/{a}", json={"first_name": None}).status_code == 422


def test_invitations_are_read_only_and_there_is_no_way_to_send_one(
    sandbox_world: RunningSandbox, sandbox_admin: AdminClient
) -> None:
    with portfolio(sandbox_world, "sunny-hill") as client:
        profile = next(p for p in read_all(client, "/profiles")[0] if not p["archived"])
        pid = profile["id"]
        sneaky = client.patch(f"/profiles/{pid}", json={"invitation_status": "pending"})
        assert sneaky.status_code == 422
        assert client.post(f"/profiles/{pid}/invite").status_code in (404, 405)
        sandbox_admin.set_invitation("sunny-hill", pid, "pending")
        assert client.get(f"/profiles/{pid}").json()["invitation_status"] == "pending"


# --- the admin API drives the CCMS ----------------------------------------------------------


def ccms_records(sb: RunningSandbox, service_id: str) -> tuple[dict, dict, dict]:
    with ccms(sb, service_id) as client:
        children = {c["id"]: c for c in read_all(client, "/children")[0]}
        rooms = {r["id"]: r for r in read_all(client, "/rooms")[0]}
        bookings = {b["id"]: b for b in read_all(client, "/bookings")[0]}
    return children, rooms, bookings


def test_enrol_move_and_leave_show_through_the_ccms_api(
    sandbox_world: RunningSandbox, sandbox_admin: AdminClient
) -> None:
    _, rooms, _ = ccms_records(sandbox_world, "little-wattle")
    by_name = {r["name"]: rid for rid, r in rooms.items()}
    child, booking = sandbox_admin.enrol(
        "little-wattle",
        first_name="Siân",
        last_name="Tūhiwai",
        birth_date=dt.date(2025, 1, 9),
        room_id=by_name["Gumnuts"],
        weekdays=[3, 1],
        every=2,
    )
    move_day = TODAY + dt.timedelta(weeks=3)
    sandbox_admin.move("little-wattle", child.id, by_name["Wombats"], move_day)
    last_day = TODAY + dt.timedelta(weeks=8)
    sandbox_admin.leave("little-wattle", child.id, last_day)

    children, _, bookings = ccms_records(sandbox_world, "little-wattle")
    seen = TypeAdapter(Child).validate_python(children[child.id])
    assert (seen.first_name, seen.status, seen.birth_date) == ("Siân", "inactive", child.birth_date)
    mine = sorted(
        (
            TypeAdapter(Booking).validate_python(b)
            for b in bookings.values()
            if b["child_id"] == child.id
        ),
        key=lambda b: b.start_date,
    )
    assert [rooms[b.room_id]["name"] for b in mine] == ["Gumnuts", "Wombats"]
    assert mine[0].id == booking.id and mine[0].start_date == TODAY
    assert mine[0].end_date == move_day - dt.timedelta(days=1)
    assert mine[1].weekdays == (1, 3) and mine[1].every == 2
    assert mine[1].end_date == last_day


def test_booking_changes_rooms_and_names_show_through_the_ccms_api(
    sandbox_world: RunningSandbox, sandbox_admin: AdminClient
) -> None:
    children, _, bookings = ccms_records(sandbox_world, "gumnut-grove")
    child_id = next(iter(children))
    room = sandbox_admin.add_room("gumnut-grove", "Kookaburras")
    sandbox_admin.rename_room("gumnut-grove", room.id, "Kookaburras (3-5)")
    added = sandbox_admin.add_booking(
        "gumnut-grove",
        child_id=child_id,
        room_id=room.id,
        start_date=TODAY,
        weekdays=[5],
    )
    sandbox_admin.end_booking("gumnut-grove", added.id, TODAY + dt.timedelta(days=11))
    some = next(iter(bookings))
    sandbox_admin.cancel_booking("gumnut-grove", some)
    sandbox_admin.update_child("gumnut-grove", child_id, last_name="Renamed-Family")

    after_children, after_rooms, after_bookings = ccms_records(sandbox_world, "gumnut-grove")
    assert after_rooms[room.id]["name"] == "Kookaburras (3-5)"
    assert after_bookings[added.id]["end_date"] == "2026-12-04"
    assert after_bookings[some]["status"] == "cancelled"
    assert after_children[child_id]["last_name"] == "Renamed-Family"
    sandbox_admin.delete_booking("gumnut-grove", added.id)
    assert added.id not in ccms_records(sandbox_world, "gumnut-grove")[2]


def test_clock_moves_and_reset_restores(
    sandbox_world: RunningSandbox, sandbox_admin: AdminClient
) -> None:
    later = TODAY + dt.timedelta(weeks=2)
    assert sandbox_admin.set_today(later)["today"] == later.isoformat()
    child, _ = sandbox_admin.enrol(
        "gumnut-grove",
        first_name="Ari",
        last_name="Lim",
        room_id=next(iter(ccms_records(sandbox_world, "gumnut-grove")[1])),
        weekdays=[2],
    )
    assert child.updated_at.date() == later
    state = sandbox_admin.reset(today=TODAY)
    assert state["today"] == TODAY.isoformat()
    assert child.id not in ccms_records(sandbox_world, "gumnut-grove")[0]


# --- faults -----------------------------------------------------------------------------------


def test_429_carries_retry_after_and_count_limited_faults_stop(
    sandbox_world: RunningSandbox, sandbox_admin: AdminClient
) -> None:
    sandbox_admin.set_faults(rate=1, kinds=["429"], retry_after=7, count=2, scope="list")
    with ccms(sandbox_world, "gumnut-grove") as client:
        statuses = []
        for _ in range(2):
            limited = client.get("/children")
            statuses.append(limited.status_code)
            assert limited.headers["Retry-After"] == "7"
            assert limited.json()["error"]["code"] == "rate_limited"
            assert sandbox_admin.services()  # the admin API is never faulted
        statuses += [client.get("/children").status_code for _ in range(3)]
    assert statuses == [429, 429, 200, 200, 200]
    assert sandbox_admin.faults()["injected"] == 2


def test_list_scoped_500s_spare_other_calls(
    sandbox_world: RunningSandbox, sandbox_admin: AdminClient
) -> None:
    with portfolio(sandbox_world, "gumnut-grove") as client:
        pid = client.get("/profiles").json()["items"][0]["id"]
        sandbox_admin.set_faults(rate=1, kinds=["500"], count=3, scope="list")
        assert client.get(f"/profiles/{pid}").status_code == 200
        assert [client.get("/rooms").status_code for _ in range(4)] == [500, 500, 500, 200]


def test_drop_closes_the_connection_without_a_response(
    sandbox_world: RunningSandbox, sandbox_admin: AdminClient
) -> None:
    sandbox_admin.set_faults(rate=1, kinds=["drop"], count=1)
    with ccms(sandbox_world, "gumnut-grove") as client:
        with pytest.raises(httpx.RemoteProtocolError):
            client.get("/rooms")
        assert client.get("/rooms").status_code == 200


def test_malformed_page_fails_validation(
    sandbox_world: RunningSandbox, sandbox_admin: AdminClient
) -> None:
    sandbox_admin.set_faults(rate=1, kinds=["malformed"], count=1, system="ccms")
    with ccms(sandbox_world, "sunny-hill") as client:
        spoiled = client.get("/children")
        clean = client.get("/children")
    assert spoiled.status_code == 200
    with pytest.raises(ValidationError):
        TypeAdapter(list[Child]).validate_python(spoiled.json()["items"])
    TypeAdapter(list[Child]).validate_python(clean.json()["items"])


def test_truncated_page_leads_to_a_404(
    sandbox_world: RunningSandbox, sandbox_admin: AdminClient
) -> None:
    sandbox_admin.set_faults(rate=1, kinds=["truncate"], count=1, service_id="gumnut-grove")
    with ccms(sandbox_world, "gumnut-grove") as client:
        page = client.get("/rooms").json()
        assert page["next_cursor"] is not None  # a complete read would have ended here
        assert client.get("/rooms", params={"cursor": page["next_cursor"]}).status_code == 404


def test_seeded_fault_rate_is_reproducible(
    sandbox_world: RunningSandbox, sandbox_admin: AdminClient
) -> None:
    runs = []
    with ccms(sandbox_world, "gumnut-grove") as client:
        for _ in range(2):
            sandbox_admin.set_faults(rate=0.5, kinds=["500", "429"], seed=3)
            runs.append([client.get("/rooms").status_code for _ in range(20)])
    assert runs[0] == runs[1]
    assert {200, 429, 500} == set(runs[0])


# --- the seeded mess ------------------------------------------------------------------------


def whole_world(sb: RunningSandbox) -> dict[str, dict[str, list[dict]]]:
    world = {}
    for service_id in sb.service_ids:
        with ccms(sb, service_id) as c, portfolio(sb, service_id) as p:
            world[service_id] = {
                "children": read_all(c, "/children")[0],
                "rooms": read_all(c, "/rooms")[0],
                "bookings": read_all(c, "/bookings")[0],
                "profiles": read_all(p, "/profiles")[0],
                "portfolio_rooms": read_all(p, "/rooms")[0],
            }
    return world


@pytest.fixture(scope="module")
def seeded(sandbox: RunningSandbox) -> dict[str, dict[str, list[dict]]]:
    with AdminClient(sandbox.admin_url, sandbox.admin_token) as admin:
        admin.reset(seed=7, today=TODAY, services="all")
        admin.clear_faults()
    return whole_world(sandbox)


def test_portfolio_is_unlinked_and_hand_typed(seeded: dict) -> None:
    profiles = [p for s in seeded.values() for p in s["profiles"]]
    assert all(p["external_ref"] is None for p in profiles)
    assert all(r["external_ref"] is None for s in seeded.values() for r in s["portfolio_rooms"])
    assert any(p["birth_date"] is None for p in profiles)
    assert {"none", "pending", "accepted"} <= {p["invitation_status"] for p in profiles}
    live = collections.Counter(
        (p["first_name"], p["last_name"], p["birth_date"]) for p in profiles if not p["archived"]
    )
    assert any(n > 1 for n in live.values()), "a child with duplicate profiles"


def test_twins_namesakes_and_missing_profiles_exist(seeded: dict) -> None:
    for service_id, data in seeded.items():
        active = [c for c in data["children"] if c["status"] == "active"]
        births = collections.defaultdict(set)
        for c in active:
            births[(c["last_name"], c["birth_date"])].add(c["first_name"])
        assert any(len(firsts) > 1 for firsts in births.values()), f"twins in {service_id}"
        current_names = {(c["first_name"], c["last_name"]): c["birth_date"] for c in active}
        namesakes = [
            p
            for p in data["profiles"]
            if p["archived"] and (p["first_name"], p["last_name"]) in current_names
        ]
        assert namesakes, f"an old archived namesake in {service_id}"
        exact = {(p["first_name"], p["last_name"], p["birth_date"]) for p in data["profiles"]}
        unmatched = [
            c for c in active if (c["first_name"], c["last_name"], c["birth_date"]) not in exact
        ]
        assert unmatched, f"children whose profile is missing or mistyped in {service_id}"
        assert {c["status"] for c in data["children"]} == {"active", "inactive", "archived"}


def test_children_are_preschool_age(seeded: dict) -> None:
    for data in seeded.values():
        for c in data["children"]:
            if c["status"] == "active":
                age = (TODAY - dt.date.fromisoformat(c["birth_date"])).days / 365.25
                assert -0.5 < age < 6, c


def test_room_landmarks_exercise_the_six_week_rule(
    seeded: dict, sandbox_admin: AdminClient
) -> None:
    window_start = TODAY - dt.timedelta(days=TODAY.weekday())
    window_end = window_start + dt.timedelta(weeks=6, days=-1)
    landmarks = {s["id"]: s["landmarks"] for s in sandbox_admin.services()}
    bookings = [TypeAdapter(Booking).validate_python(b) for b in seeded["sunny-hill"]["bookings"]]
    marks = landmarks["sunny-hill"]

    def in_window(b: Booking) -> bool:
        ends = b.end_date or dt.date.max
        return b.status != "cancelled" and b.start_date <= window_end and ends >= window_start

    closure = [b for b in bookings if b.room_id == marks["closure_room_id"]]
    assert closure and not any(in_window(b) for b in closure)
    assert any(b.start_date > window_end for b in closure)
    ending = [b for b in bookings if b.room_id == marks["ending_room_id"]]
    assert ending and all(b.end_date and b.end_date < window_end for b in ending)
    assert any(in_window(b) for b in ending)
    late = next(b for b in bookings if b.id == marks["week_six_booking_id"])
    assert late.start_date == window_start + dt.timedelta(weeks=5)
    ccms_names = {r["name"] for r in seeded["sunny-hill"]["rooms"]}
    portfolio_names = {r["name"] for r in seeded["sunny-hill"]["portfolio_rooms"]}
    assert ccms_names & portfolio_names, "some room names match exactly"
    assert ccms_names - portfolio_names, "some are only close (or missing)"


def test_openapi_lists_both_contracts_and_the_models(sandbox: RunningSandbox) -> None:
    spec = httpx.get(sandbox.url + "/openapi.json").json()
    paths = spec["paths"]
    for path in CCMS_LISTS:
        assert f"/ccms/v1/services/{{service_id}}/{path}" in paths
    assert "post" in paths["/portfolio/v1/services/{service_id}/profiles"]
    assert (
        "put" in paths["/portfolio/v1/services/{service_id}/rooms/{room_id}/members/{profile_id}"]
    )
    assert {"Child", "Room", "Booking", "Profile", "PortfolioRoom"} <= set(
        spec["components"]["schemas"]
    )


def test_serve_prints_how_to_add_each_service_and_then_serves() -> None:
    """`smtui sandbox` relies on serve(): its printed commands must point at a live sandbox."""
    code = (
        "import datetime as dt; from smtui.sandbox.server import serve; "
        "serve('127.0.0.1', 0, 7, dt.date(2026, 11, 23), services='small', log_level='error')"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("Press Ctrl+C"):
                break
        adds = [line.split() for line in lines if "smtui service add" in line]
        assert [a[3] for a in adds] == [
            "sunny-hill",
            "kowhai-kids",
            "little-wattle",
            "gumnut-grove",
        ]
        add = dict(zip(adds[1][4::2], adds[1][5::2], strict=True))
        assert add["--timezone"] == "Pacific/Auckland"
        assert add["--ccms-token-env"] == "SMTUI_CCMS_TOKEN"
        exports = dict(
            line.split()[1].split("=", 1) for line in lines if line.strip().startswith("export")
        )
        token = exports[add["--portfolio-token-env"]]
        response = httpx.get(
            add["--portfolio-url"] + "/profiles", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 200 and response.json()["items"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_updated_since_returns_what_changed_with_the_whole_lists_total(
    sandbox_world: RunningSandbox, sandbox_admin: AdminClient
) -> None:
    """Every write moves its record past the mark, whichever path made it; moving the fake
    clock does not; a mark that is not the list's is refused with 410."""
    service = "gumnut-grove"
    with ccms(sandbox_world, service) as client:
        full = client.get("/children", params={"limit": 500}).json()
        mark = full["as_of"]
        assert full["total"] == len(full["items"])
        assert client.get("/children", params={"updated_since": mark}).json()["items"] == []
        room = client.get("/rooms").json()["items"][0]["id"]
        kid, _ = sandbox_admin.enrol(
            service,
            first_name="Wren",
            last_name="Hale",
            room_id=room,
            weekdays=[1, 2],
            guardian_emails=["Pat.Hale@example.com"],
        )
        left = full["items"][0]["id"]
        sandbox_admin.leave(service, left)
        sandbox_admin.set_today(dt.date(2020, 1, 1))  # the fake clock has no say in marks
        delta = client.get("/children", params={"updated_since": mark}).json()
        assert sorted(c["id"] for c in delta["items"]) == sorted([kid.id, left])
        assert delta["total"] == full["total"] + 1
        assert kid.guardian_emails == ("Pat.Hale@example.com",)
        refused = client.get("/children", params={"updated_since": "m1.bm9wZQ"})
        assert refused.status_code == 410
        assert refused.json()["error"]["code"] == "updated_since_expired"
        other_list = client.get("/bookings", params={"updated_since": mark})
        assert other_list.status_code == 410
