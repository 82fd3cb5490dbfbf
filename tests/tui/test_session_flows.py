"""The service screen over its engine session, from the keyboard: an edit is kept when the app
quits at once, a room running out of bookings shows it, the picker says whether a link is set up,
and a plan refused as stale brings the grids the fresh read."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections.abc import Callable
from typing import Any

from textual import events
from textual.widgets import OptionList
from tui_helpers import open_service, set_up_service, settle

from smtui import engine, rules
from smtui.sandbox.admin import AdminClient
from smtui.sandbox.server import RunningSandbox
from smtui.tui.app import SmtuiApp
from smtui.tui.children import ChildrenPane
from smtui.tui.dialogs import ConfirmPlanScreen, Dialog
from smtui.tui.picker import PickerScreen
from smtui.tui.rooms import RoomsPane
from tests import pg_helpers

SERVICE = "gumnut-grove"


@pg_helpers.sqlite_only("holds SQLite's write lock to keep the edit's write waiting")
async def test_quitting_while_an_edit_is_still_being_written_waits_for_it(
    make_app: Callable[[], SmtuiApp], store: Any, store_url: str, sandbox_today: dt.date
) -> None:
    """The grid shows an edit before it is written; quitting waits for the write. Another
    program holds the database's write lock for a moment, so the write is still waiting when
    the app is told to quit."""
    other = sqlite3.connect(store_url, isolation_level=None, check_same_thread=False)
    release = threading.Timer(1.0, other.rollback)
    app = make_app()
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await open_service(pilot, SERVICE)
            pane = app.screen.query_one(ChildrenPane)
            await pilot.press("6", "ctrl+a")
            await settle(pilot)
            marked = set(pane.marks)
            assert marked and len(marked) == len(pane.rows)
            other.execute("BEGIN IMMEDIATE")
            release.start()
            await pilot.press("x")
            assert {pane.by_id[cid].action for cid in marked} == {"ignore"}, "shown at once"
            assert release.is_alive(), "the write is still waiting for the lock"
            app.post_message(events.Key("ctrl+q", None))
        # the app has gone; the lock was released while it waited for the write
    finally:
        release.join()
        other.close()
    actions = {r.child_id: r.action for r in engine.child_rows(store, SERVICE, as_of=sandbox_today)}
    assert {actions[cid] for cid in marked} == {"ignore"}


async def test_a_room_running_out_of_bookings_shows_its_weeks_and_its_removal_date(
    make_app: Callable[[], SmtuiApp],
    store: Any,
    sandbox_today: dt.date,
    sandbox_world: RunningSandbox,
    sandbox_admin: AdminClient,
) -> None:
    set_up_service(store, SERVICE, sandbox_today)
    room = engine.room_rows(store, SERVICE, as_of=sandbox_today)[0]
    monday = rules.week_monday(sandbox_today)
    for b in list(sandbox_world.world.service(SERVICE).bookings.values()):
        if b.room_id == room.room_id and b.status == "placed":
            sandbox_admin.end_booking(SERVICE, b.id, monday + dt.timedelta(days=9))
    engine.refresh(store, SERVICE)
    removal = (monday + dt.timedelta(weeks=2)).isoformat()
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_service(pilot, SERVICE)
        await pilot.press("f3")
        await settle(pilot)
        pane = app.screen.query_one(RoomsPane)
        bars = str(pane.grid.get_cell(room.room_id, "weeks"))
        assert len(bars) == 6 and bars[:2].strip("·") == bars[:2] and bars[2:] == "····", bars
        assert str(pane.grid.get_cell(room.room_id, "removal")) == f"{removal} unless unlinked"
        foot = str(pane.query_one("#room-foot").render())
        assert f"1 removed from {removal} unless unlinked" in foot

        pane.grid.move_cursor(row=pane.grid.order.index(room.room_id))
        await pilot.press("n")  # unlinked: the engine leaves it alone, so it is never removed
        await settle(pilot)
        assert str(pane.grid.get_cell(room.room_id, "removal")) == ""
        assert str(pane.grid.get_cell(room.room_id, "weeks")) == bars, "its bookings stay shown"
    row = next(r for r in engine.room_rows(store, SERVICE, as_of=sandbox_today)
               if r.room_id == room.room_id)  # fmt: skip
    assert (row.action, row.removal_date) == ("ignore", None)


async def test_the_picker_says_whose_profile_it_is_and_whether_that_link_is_set_up(
    make_app: Callable[[], SmtuiApp], store: Any, sandbox_today: dt.date
) -> None:
    set_up_service(store, SERVICE, sandbox_today)
    rows = engine.child_rows(store, SERVICE, as_of=sandbox_today)
    taken = next(r for r in rows if r.action == "link" and r.profile_name)
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await open_service(pilot, SERVICE)
        pane = app.screen.query_one(ChildrenPane)
        await pilot.press("6")
        grid = pane.grid
        grid.move_cursor(row=0 if grid.order[0] != taken.child_id else 1)
        await pilot.press("l")
        await settle(pilot)
        assert isinstance(app.screen, PickerScreen)
        await pilot.press(*(taken.profile_name or ""))
        await settle(pilot)
        prompt = str(app.screen.query_one(OptionList).get_option(taken.profile_id).prompt)
        assert f"linked to {taken.name} (set up)" in prompt
        assert " invit" in prompt and " · live" in prompt
        await pilot.press("escape")
        await settle(pilot)

        grid.move_cursor(row=grid.order.index(taken.child_id))
        await pilot.press("c")  # its link is now only what the next run would undo
        await settle(pilot)
        grid.move_cursor(row=0 if grid.order[0] != taken.child_id else 1)
        await pilot.press("l")
        await settle(pilot)
        await pilot.press(*(taken.profile_name or ""))
        await settle(pilot)
        prompt = str(app.screen.query_one(OptionList).get_option(taken.profile_id).prompt)
        assert "linked to" not in prompt.split("\n")[1], "no child's link points at it now"


async def test_a_plan_refused_as_stale_brings_the_fresh_read_to_the_grid(
    make_app: Callable[[], SmtuiApp],
    store: Any,
    sandbox_today: dt.date,
    sandbox_admin: AdminClient,
) -> None:
    set_up_service(store, SERVICE, sandbox_today)
    linked = next(
        r for r in engine.child_rows(store, SERVICE, as_of=sandbox_today) if r.action == "link"
    )
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_service(pilot, SERVICE)
        pane = app.screen.query_one(ChildrenPane)
        await pilot.press("S")
        await settle(pilot)
        if isinstance(app.screen, Dialog) and not isinstance(app.screen, ConfirmPlanScreen):
            await pilot.press("y")  # reviews left for later
            await pilot.pause()
        assert isinstance(app.screen, ConfirmPlanScreen)
        # meanwhile the centre renames the child: the plan shown no longer holds
        sandbox_admin.update_child(SERVICE, linked.child_id, first_name="Renamed")
        await pilot.press("y")
        await settle(pilot)
        assert pane.by_id[linked.child_id].name.startswith("Renamed"), "the run's fresh read"
    run = engine.runs(store, SERVICE)[0]
    assert run.result == "failed" and "changed since the plan was shown" in run.message


@pg_helpers.sqlite_only("holds SQLite's write lock past the store's busy timeout")
async def test_an_edit_whose_write_fails_is_taken_back_from_the_grid(
    make_app: Callable[[], SmtuiApp], store: Any, store_url: str, sandbox_today: dt.date
) -> None:
    """Another program keeps the database locked longer than the store waits: the edit shown
    at once is not saved, so the grid goes back to what is, and there is nothing to undo."""
    other = sqlite3.connect(store_url, isolation_level=None, check_same_thread=False)
    app = make_app()
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await open_service(pilot, SERVICE)
            pane = app.screen.query_one(ChildrenPane)
            await pilot.press("6")
            await settle(pilot)
            key = pane.cursor_key()
            assert key is not None
            before = pane.by_id[key].action
            other.execute("BEGIN IMMEDIATE")
            await pilot.press("x" if before != "ignore" else "c")
            assert pane.by_id[key].action != before, "shown at once"
            for _ in range(150):  # the write gives up after the store's busy timeout (5 s)
                await pilot.pause(0.1)
                if pane.by_id[key].action == before:
                    break
            assert pane.by_id[key].action == before
            assert pane.session is not None and pane.session.last_edit("children") is None
            assert "u undo" not in str(pane.query_one("#child-foot").render())
    finally:
        other.rollback()
        other.close()
    actions = {r.child_id: r.action for r in engine.child_rows(store, SERVICE, as_of=sandbox_today)}
    assert actions[key] == before
