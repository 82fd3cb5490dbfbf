"""The engine session behind the service screen, against the real store and sandbox: it shows
what the engine's own row builders show, an edit is written once and only by ``save``, a change
made elsewhere meanwhile is built on (and undone to), and the rooms' weeks follow the rule."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from tui_helpers import WHO, set_up_service

from smtui import engine, rules
from smtui.engine.session import ServiceSession, weekly_sessions
from smtui.records import Booking
from smtui.sandbox.admin import AdminClient
from smtui.sandbox.server import RunningSandbox

SERVICE = "gumnut-grove"


def _open(store: Any, today: dt.date) -> ServiceSession:
    return ServiceSession.open(store, SERVICE, who=WHO, as_of=today)


def _stored(store: Any, today: dt.date) -> dict[str, tuple[str, str | None]]:
    rows = engine.child_rows(store, SERVICE, as_of=today)
    return {r.child_id: (r.action, r.profile_id) for r in rows}


def test_a_planned_session_shows_the_rows_the_engine_builds(
    store: Any, sandbox_today: dt.date
) -> None:
    set_up_service(store, SERVICE, sandbox_today)
    linked = next(
        r for r in engine.child_rows(store, SERVICE, as_of=sandbox_today) if r.action == "link"
    )
    engine.set_children(store, SERVICE, [linked.child_id], "create", who=WHO)  # one to change
    session = _open(store, sandbox_today)
    assert not session.planned
    session.replan()
    assert session.planned
    assert session.child_rows() == engine.child_rows(store, SERVICE, as_of=sandbox_today)
    assert any(r.changed for r in session.child_rows())
    rooms = {r.room_id: r for r in engine.room_rows(store, SERVICE, as_of=sandbox_today)}
    for row in session.room_rows():
        engine_row = rooms[row.room_id]
        assert len(row.weeks) == 6
        assert sum(row.weeks) == row.occurrences_in_window == engine_row.occurrences_in_window
        assert row.removal_date == engine_row.removal_date
    assert session.preview() == engine.preview(store, SERVICE, as_of=sandbox_today)


def test_an_edit_shows_at_once_is_written_by_save_and_undone(
    store: Any, sandbox_today: dt.date
) -> None:
    engine.refresh(store, SERVICE)
    before = _stored(store, sandbox_today)
    session = _open(store, sandbox_today)
    ids = [r.child_id for r in session.child_rows()[:5]]
    edit = session.set_children(ids, "ignore", label="don't add (5)")
    assert {
        r.child_id: r.action for r in session.child_rows() if r.child_id in ids
    } == dict.fromkeys(ids, "ignore")
    assert session.pending and _stored(store, sandbox_today) == before, "not written yet"
    session.save()
    assert not session.pending
    after = _stored(store, sandbox_today)
    assert all(after[cid][0] == "ignore" for cid in ids)
    assert session.last_edit("children") is edit

    assert session.undo("children") is edit
    assert session.last_edit("children") is None
    session.save()
    assert _stored(store, sandbox_today) == before
    assert {r.child_id: (r.action, r.profile_id) for r in session.child_rows()} == before


def test_save_builds_on_a_decision_made_elsewhere_and_undo_puts_that_back(
    store: Any, sandbox_today: dt.date
) -> None:
    """Another shell links a child after the app opened the service; the person then decides
    that child and another. The write keeps what is not theirs, and undo restores the store's
    link, not the session's stale view of it."""
    engine.refresh(store, SERVICE)
    session = _open(store, sandbox_today)
    rows = session.child_rows()
    mine, theirs = rows[0].child_id, rows[1].child_id
    profile = next(
        c.profile_id
        for c in session.candidates(theirs)
        if c.linked_to is None and c.profile_id != rows[1].profile_id
    )
    engine.set_children(store, SERVICE, [theirs], "link", profile_id=profile, who="cli@elsewhere")
    session.set_children([mine, theirs], "create", label="create new profile (2)")
    session.save()
    assert _stored(store, sandbox_today)[theirs] == ("create", None)
    session.undo("children")
    session.save()
    assert _stored(store, sandbox_today)[theirs] == ("link", profile), "the store's link is back"
    shown = {r.child_id: (r.action, r.profile_id) for r in session.child_rows()}
    assert shown[theirs] == ("link", profile), "and the grid shows it"


def test_an_edit_the_session_cannot_make_is_refused_and_changes_nothing(
    store: Any, sandbox_today: dt.date
) -> None:
    engine.refresh(store, SERVICE)
    session = _open(store, sandbox_today)
    rows = session.child_rows()
    child, other = rows[0].child_id, rows[1].child_id
    room = session.room_rows()[0].room_id
    refused = [
        (lambda: session.set_children(["c_nobody"], "ignore"), "no child"),
        (lambda: session.set_children([child], "archive"), "unknown action"),
        (lambda: session.set_children([child, other], "link", profile_id="p"), "exactly one"),
        (lambda: session.set_children([child], "link", profile_id="prf_nobody"), "no profile"),
        (lambda: session.set_rooms(["r_nowhere"], "ignore"), "no room"),
        (lambda: session.set_rooms([room], "link", portfolio_room_id="pr_x"), "no portfolio"),
    ]
    for edit, why in refused:
        with pytest.raises(engine.EngineError, match=why):
            edit()
    assert session.child_rows() == rows
    assert not session.pending and session.last_edit("children") is None

    session.set_rooms([room], "create")
    with pytest.raises(engine.EngineError, match="never linked"):
        session.set_rooms([room], "relink")  # "create" forgot the portfolio room
    session.save()
    assert engine.room_rows(store, SERVICE, as_of=sandbox_today)[0].action == "create"


def test_the_picker_candidates_carry_rooms_invitation_and_whether_a_link_is_set_up(
    store: Any, sandbox_today: dt.date, sandbox_world: RunningSandbox
) -> None:
    set_up_service(store, SERVICE, sandbox_today)
    session = _open(store, sandbox_today)
    rows = session.child_rows()
    linked = next(r for r in rows if r.action == "link" and r.profile_id)
    other = next(r for r in rows if r.child_id != linked.child_id)
    profiles = {p.id: p for p in sandbox_world.world.service(SERVICE).profiles.values()}
    prooms = {r.id: r.name for r in sandbox_world.world.service(SERVICE).portfolio_rooms.values()}

    found = {c.profile_id: c for c in session.candidates(other.child_id, linked.name)}
    choice = found[linked.profile_id]
    profile = profiles[linked.profile_id]
    assert choice.linked_to == linked.child_id
    assert choice.link_set_up, "the sync put the child's CCMS id on it"
    assert choice.invitation == profile.invitation_status
    assert choice.rooms == tuple(sorted(prooms[r] for r in profile.room_ids))
    assert choice.rooms, "a set-up child is in its room"

    session.set_children([other.child_id], "link", profile_id=linked.profile_id)
    session.set_children([linked.child_id], "create")
    proposed = next(c for c in session.candidates(linked.child_id, linked.name)
                    if c.profile_id == linked.profile_id)  # fmt: skip
    assert (proposed.linked_to, proposed.link_set_up) == (other.child_id, False)


def test_a_room_whose_bookings_end_shows_its_weeks_running_out_and_when_it_goes(
    store: Any, sandbox_today: dt.date, sandbox_world: RunningSandbox, sandbox_admin: AdminClient
) -> None:
    engine.refresh(store, SERVICE)
    room = engine.room_rows(store, SERVICE, as_of=sandbox_today)[0]
    last_day = rules.week_monday(sandbox_today) + dt.timedelta(days=9)  # Wednesday, week two
    for b in list(sandbox_world.world.service(SERVICE).bookings.values()):
        if b.room_id == room.room_id and b.status == "placed":
            sandbox_admin.end_booking(SERVICE, b.id, last_day)
    engine.refresh(store, SERVICE)
    row = next(r for r in _open(store, sandbox_today).room_rows() if r.room_id == room.room_id)
    assert row.weeks[0] and row.weeks[1] and not any(row.weeks[2:]), row.weeks
    assert row.removal_date == rules.week_monday(sandbox_today) + dt.timedelta(weeks=2)


def test_weekly_sessions_count_each_occurrence_in_its_week() -> None:
    monday = dt.date(2026, 11, 23)

    def booking(bid: str, room: str, days: tuple[int, ...], **kw: Any) -> Booking:
        return Booking(bid, "c1", room, kw.pop("start", monday), days, kw.pop("every", 1),
                       "permanent", kw.pop("status", "placed"), **kw)  # fmt: skip

    weeks = weekly_sessions(
        [
            booking("b1", "r1", (1, 3), end_date=monday + dt.timedelta(days=16)),  # to week 3 Wed
            booking("b2", "r2", (5,), every=2),  # fortnightly Fridays, from this week
            booking("b3", "r2", (2,), status="cancelled"),
            booking("b4", "r3", (1,), start=monday + dt.timedelta(weeks=7)),  # after the window
        ],
        monday + dt.timedelta(days=2),  # a Wednesday: the window still starts on Monday
    )
    assert weeks == {"r1": (2, 2, 2, 0, 0, 0), "r2": (1, 0, 1, 0, 1, 0)}
