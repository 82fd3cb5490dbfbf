"""The UI driven from the keyboard against the real sandbox and a real store file."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from collections.abc import Callable
from typing import Any

from textual import events
from textual.widgets import Button, Checkbox, Footer, Input, OptionList
from tui_helpers import (
    CCMS_ENV,
    PORTFOLIO_ENV,
    WHO,
    open_service,
    open_sync_log,
    set_up_service,
    settle,
)

from smtui import engine
from smtui.sandbox.admin import AdminClient
from smtui.tui.add_service import AddServiceScreen
from smtui.tui.app import SmtuiApp
from smtui.tui.children import ChildrenPane
from smtui.tui.dialogs import ConfirmPlanScreen, Dialog, LinesScreen, TurnOffScreen
from smtui.tui.home import HomeScreen
from smtui.tui.picker import PickerScreen
from smtui.tui.rooms import RoomsPane
from smtui.tui.service import ServiceScreen
from smtui.tui.settings import SettingsPane
from smtui.tui.synclog import SyncLogPane
from tests.cli_helpers import run_cli


def _actions(store: Any, name: str, today: dt.date) -> dict[str, str]:
    return {r.child_id: r.action for r in engine.child_rows(store, name, as_of=today)}


async def test_setup_end_to_end(
    make_app: Callable[[], SmtuiApp], store: Any, sandbox_today: dt.date
) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_service(pilot, "gumnut-grove")
        screen = app.screen
        assert isinstance(screen, ServiceScreen)
        pane = screen.query_one(ChildrenPane)
        assert pane.rows, "opening a service that was never read reads both systems"
        reviews = sum(1 for r in pane.rows if r.action == "review")

        await pilot.press("S")
        await settle(pilot)
        if reviews:
            assert isinstance(app.screen, Dialog)
            await pilot.press("y")
            await pilot.pause()
        assert isinstance(app.screen, ConfirmPlanScreen)
        expected = app.screen.preview
        await pilot.press("y")
        await pilot.pause()
        tabs = screen.query_one("TabbedContent")
        assert tabs.active == "tab-log", "the sync log is shown while the run goes"
        await settle(pilot)
        for _ in range(5):  # and stays shown: focus never ping-pongs between two tabs
            await pilot.pause(0.05)
            assert (tabs.active, screen.focused and screen.focused.id) == ("tab-log", "runs")

        assert app.screen is screen
        summary = engine.service_summary(store, "gumnut-grove")
        assert summary.state in ("active", "needs review")
        run = engine.runs(store, "gumnut-grove")[0]
        assert (run.kind, run.result, run.who) == ("setup", "ok", WHO)
        # the run did exactly what the dialog said it would
        assert run.counts == {k: n for k, n in expected.counts.items() if n}
        assert summary.integrated_children > 0
        log = screen.query_one(SyncLogPane)
        assert log.runs and log.runs[0].run_id == run.run_id
        assert screen.check_action("update", ()) is True, "after setup S means update"


async def test_cancel_on_confirmation_changes_nothing(
    make_app: Callable[[], SmtuiApp],
    store: Any,
    sandbox_today: dt.date,
    sandbox_admin: AdminClient,
) -> None:
    counts_before = {s["id"]: s["counts"] for s in sandbox_admin.services()}
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_service(pilot, "gumnut-grove")
        mappings_before = _actions(store, "gumnut-grove", sandbox_today)
        await pilot.press("S")
        await settle(pilot)
        if isinstance(app.screen, Dialog) and not isinstance(app.screen, ConfirmPlanScreen):
            await pilot.press("y")
            await pilot.pause()
        assert isinstance(app.screen, ConfirmPlanScreen)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, ServiceScreen)

    assert engine.runs(store, "gumnut-grove") == []
    assert engine.service_summary(store, "gumnut-grove").state == "not set up"
    assert _actions(store, "gumnut-grove", sandbox_today) == mappings_before
    assert {s["id"]: s["counts"] for s in sandbox_admin.services()} == counts_before


async def test_bulk_remap_twelve_rows_then_undo(
    make_app: Callable[[], SmtuiApp], store: Any, sandbox_today: dt.date
) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_service(pilot, "little-wattle")
        pane = app.screen.query_one(ChildrenPane)
        await pilot.press("6", "home")  # all children, from the first (twelve rows below it)
        before = _actions(store, "little-wattle", sandbox_today)
        start = pane.grid.cursor_row
        await pilot.press("space", "space", "space", *["shift+down"] * 8)
        # three by space (each moves down), then eight more rows by extending downwards
        first_twelve = pane.shown_keys[start : start + 12]
        assert len(first_twelve) == 12
        assert pane.marks == set(first_twelve)
        assert "12 marked" in str(pane.query_one("#child-foot").render())

        await pilot.press("x")
        await settle(pilot)
        after = _actions(store, "little-wattle", sandbox_today)
        assert all(after[k] == "ignore" for k in first_twelve)
        assert {k: v for k, v in after.items() if k not in first_twelve} == {
            k: v for k, v in before.items() if k not in first_twelve
        }
        assert pane.marks == set(first_twelve), "marks outlive the action: esc clears them"

        await pilot.press("u")
        await settle(pilot)
        assert _actions(store, "little-wattle", sandbox_today) == before


async def test_link_picker_links_the_chosen_profile(
    make_app: Callable[[], SmtuiApp], store: Any, sandbox_today: dt.date
) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_service(pilot, "gumnut-grove")
        pane = app.screen.query_one(ChildrenPane)
        await pilot.press("3")  # creates: children with no profile yet
        child = pane.by_id[pane.cursor_key()]
        await pilot.press("l")
        await settle(pilot)
        picker = app.screen
        assert isinstance(picker, PickerScreen)
        candidates = engine.profile_candidates(store, "gumnut-grove", child.child_id)
        free = next(i for i, c in enumerate(candidates) if i and c.linked_to is None)
        await pilot.press(*["down"] * free, "enter")  # not the best one: a real choice
        await settle(pilot)
        assert isinstance(app.screen, ServiceScreen)
    row = next(
        r
        for r in engine.child_rows(store, "gumnut-grove", as_of=sandbox_today)
        if r.child_id == child.child_id
    )
    assert (row.action, row.profile_id, row.origin) == (
        "link",
        candidates[free].profile_id,
        "manual",
    )


async def test_linking_a_profile_another_child_has_asks_first(
    make_app: Callable[[], SmtuiApp], store: Any, sandbox_today: dt.date
) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_service(pilot, "gumnut-grove")
        pane = app.screen.query_one(ChildrenPane)
        rows = engine.child_rows(store, "gumnut-grove", as_of=sandbox_today)
        taken = next(
            r for r in rows
            if r.action == "link" and r.profile_name and engine.profile_candidates(
                store, "gumnut-grove", r.child_id, r.profile_name)[0].profile_id == r.profile_id
        )  # fmt: skip
        await pilot.press("3")  # creates: children with no profile yet
        child = pane.by_id[pane.cursor_key()]

        async def pick_taken_profile() -> None:
            await pilot.press("l")
            await settle(pilot)
            assert isinstance(app.screen, PickerScreen)
            await pilot.press(*taken.profile_name)
            await settle(pilot)
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, Dialog)
            assert app.screen.title_text.endswith(f"is linked to {taken.name}")

        await pick_taken_profile()
        await pilot.press("n")
        await settle(pilot)
        assert _actions(store, "gumnut-grove", sandbox_today)[child.child_id] == "create"
        await pick_taken_profile()
        await pilot.press("y")
        await settle(pilot)
    after = {r.child_id: r for r in engine.child_rows(store, "gumnut-grove", as_of=sandbox_today)}
    assert (after[child.child_id].action, after[child.child_id].profile_id) == (
        "link", taken.profile_id
    )  # fmt: skip


async def test_setup_refused_while_a_profile_is_linked_twice(
    make_app: Callable[[], SmtuiApp], store: Any, sandbox_today: dt.date
) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_service(pilot, "gumnut-grove")
        rows = engine.child_rows(store, "gumnut-grove", as_of=sandbox_today)
        linked = next(r for r in rows if r.action == "link")
        other = next(r for r in rows if r.child_id != linked.child_id)
        engine.set_children(
            store, "gumnut-grove", [other.child_id], "link", profile_id=linked.profile_id, who=WHO
        )
        await pilot.press("S")
        await settle(pilot)
        assert isinstance(app.screen, LinesScreen)
        assert any(linked.profile_id in line for line in app.screen.lines)
        await pilot.press("escape")
    assert engine.runs(store, "gumnut-grove") == []


async def test_approve_a_held_run_from_the_sync_log(
    make_app: Callable[[], SmtuiApp],
    store: Any,
    sandbox_today: dt.date,
    sandbox_admin: AdminClient,
) -> None:
    set_up_service(store, "gumnut-grove", sandbox_today)
    linked = [
        r
        for r in engine.child_rows(store, "gumnut-grove", as_of=sandbox_today)
        if r.action == "link"
    ]
    for row in linked[:8]:  # far past "10% and at least 3": the archives are held
        sandbox_admin.leave(
            "gumnut-grove", row.child_id, last_day=sandbox_today - dt.timedelta(days=1)
        )
    held = engine.run_sync(store, "gumnut-grove", as_of=sandbox_today, who=WHO)
    assert held.run.result == "held"

    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        log = await open_sync_log(pilot, "gumnut-grove")
        assert log.held_run() is not None
        await pilot.press("A")
        await pilot.pause()
        assert isinstance(app.screen, Dialog)
        assert any("archive" in line.lower() for line in app.screen.body)
        await pilot.press("y")
        await settle(pilot)

    latest = engine.runs(store, "gumnut-grove")[0]
    assert (latest.kind, latest.result) == ("approve", "ok")
    assert latest.counts.get("archive_profile", 0) >= 8
    assert engine.service_summary(store, "gumnut-grove").state != "held for approval"


HOSTILE = (
    ("[b]x[/b]", "Tester"),
    ("O'Brien", "[/x]"),
    ("Zoë 🌈", "Ngata 👶🏽"),
    ("محمد", "العلي"),
    ("A" * 100, "B" * 100),
)


async def test_hostile_names_render_literally(
    make_app: Callable[[], SmtuiApp],
    store: Any,
    sandbox_admin: AdminClient,
    sandbox_today: dt.date,
) -> None:
    engine.refresh(store, "gumnut-grove")
    room_id = engine.room_rows(store, "gumnut-grove", as_of=sandbox_today)[0].room_id
    for first, last in HOSTILE:
        sandbox_admin.enrol(
            "gumnut-grove",
            first_name=first,
            last_name=last,
            room_id=room_id,
            weekdays=[1, 2, 3],
            birth_date=dt.date(2022, 5, 1),
            start_date=sandbox_today,
        )
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_service(pilot, "gumnut-grove")
        await pilot.press("R")  # re-read both systems: the new children arrive
        await settle(pilot)
        pane = app.screen.query_one(ChildrenPane)
        await pilot.press("6", "slash", *"[b]", "enter")
        await settle(pilot)
        shown = [pane.grid.get_row(k)[1].plain for k in pane.shown_keys]
        assert shown == ["[b]x[/b] Tester"]
        await pilot.press("slash", "escape")
        await settle(pilot)
        names = {pane.grid.get_row(k)[1].plain for k in pane.shown_keys}
        assert {"O'Brien [/x]", "محمد العلي", "Zoë 🌈 Ngata 👶🏽"} <= names
        long = next(n for n in names if n.startswith("AAAA"))
        assert long.endswith("…") and len(long) <= 26
        app.export_screenshot()  # rendering every visible row must not raise


async def test_rooms_unlink_relink_and_undo(
    make_app: Callable[[], SmtuiApp], store: Any, sandbox_today: dt.date
) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_service(pilot, "gumnut-grove")
        await pilot.press("f3")
        await settle(pilot)
        pane = app.screen.query_one(RoomsPane)
        room = pane.cursor_row()
        assert room is not None and room.action == "link"

        def action() -> tuple[str, str | None]:
            row = next(
                r
                for r in engine.room_rows(store, "gumnut-grove", as_of=sandbox_today)
                if r.room_id == room.room_id
            )
            return row.action, row.portfolio_room_id

        await pilot.press("n")  # unlink: the engine leaves the room alone from now on
        await settle(pilot)
        assert action() == ("ignore", room.portfolio_room_id)
        await pilot.press("L")  # relink to the same portfolio room
        await settle(pilot)
        assert action() == ("link", room.portfolio_room_id)
        await pilot.press("u")
        await settle(pilot)
        assert action() == ("ignore", room.portfolio_room_id)


async def test_add_service_form_validates_then_adds(
    make_app: Callable[[], SmtuiApp], store: Any, sandbox_world: Any
) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, AddServiceScreen)
        form.query_one("#add-name", Input).value = "kowhai-kids"
        form.query_one("#add-ccms_url", Input).value = "ftp://nowhere"
        portfolio_url = sandbox_world.portfolio_url("kowhai-kids")
        form.query_one("#add-portfolio_url", Input).value = portfolio_url
        form.query_one("#add-ccms_token", Input).value = CCMS_ENV
        form.query_one("#add-portfolio_token", Input).value = PORTFOLIO_ENV
        form.query_one("#add-timezone", Input).value = "Pacific/Auckland"
        form.query_one("#add-name", Input).focus()
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is form, "a bad URL keeps the form open"
        assert "CCMS URL must start with" in str(form.query_one("#add-error").render())
        form.query_one("#add-ccms_url", Input).value = sandbox_world.ccms_url("kowhai-kids")
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, AddServiceScreen)
    cfg = engine.service_config(store, "kowhai-kids")
    assert (cfg.ccms_token_env, cfg.timezone) == (CCMS_ENV, "Pacific/Auckland")


async def test_settings_save_and_turn_off_with_purge(
    make_app: Callable[[], SmtuiApp], store: Any
) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_service(pilot, "gumnut-grove")
        await pilot.press("f5")
        await settle(pilot)
        pane = app.screen.query_one(SettingsPane)
        pane.query_one("#set-interval_hours", Input).value = "abc"
        await pilot.press("enter")
        await settle(pilot)
        assert "not a number" in str(pane.query_one("#settings-error").render())
        assert engine.service_config(store, "gumnut-grove").interval_hours == 12
        pane.query_one("#set-interval_hours", Input).value = "6"
        await pilot.press("enter")
        await settle(pilot)
        assert engine.service_config(store, "gumnut-grove").interval_hours == 6

        await pilot.press("ctrl+o")
        await pilot.pause()
        assert isinstance(app.screen, TurnOffScreen)
        app.screen.query_one(Checkbox).value = True  # also purge cached personal data
        app.screen.query_one("#yes", Button).press()
        await settle(pilot)
    cfg = engine.service_config(store, "gumnut-grove")
    assert cfg.enabled is False
    assert engine.service_summary(store, "gumnut-grove").state == "off"


async def test_rooms_link_to_a_chosen_portfolio_room(
    make_app: Callable[[], SmtuiApp], store: Any, sandbox_today: dt.date
) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_service(pilot, "gumnut-grove")
        await pilot.press("f3")
        await settle(pilot)
        pane = app.screen.query_one(RoomsPane)
        room = pane.cursor_row()
        assert room is not None and room.action == "link"
        target_id, target_name = next(
            (rid, name)
            for rid, name in engine.portfolio_rooms(store, "gumnut-grove")
            if rid != room.portfolio_room_id and "archived" not in name
        )
        await pilot.press("l")
        await settle(pilot)
        picker = app.screen
        assert isinstance(picker, PickerScreen)
        options = picker.query_one(OptionList)
        assert options.get_option_at_index(0).id == room.portfolio_room_id, "its link first"
        own = str(options.get_option(room.portfolio_room_id).prompt)
        assert "current link" in own and "linked from" not in own
        other = next(r for r in pane.rows if r.action == "link" and r.room_id != room.room_id)
        taken = str(options.get_option(other.portfolio_room_id or "").prompt)
        assert f"linked from {other.name}" in taken, "the picker says which room uses it"
        await pilot.press(*target_name.casefold()[:5])  # search narrows the list
        await settle(pilot)
        options = picker.query_one(OptionList)
        assert options.get_option_at_index(0).id == target_id
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ServiceScreen)
        shown = pane.grid.get_row(room.room_id)
        assert [str(cell) for cell in shown[1:3]] == ["link", target_name]
        assert "u undo link" in str(pane.query_one("#room-foot").render())
    row = next(
        r
        for r in engine.room_rows(store, "gumnut-grove", as_of=sandbox_today)
        if r.room_id == room.room_id
    )
    assert (row.action, row.portfolio_room_id) == ("link", target_id)


async def test_footer_keys_fit_80_columns_on_every_tab(
    make_app: Callable[[], SmtuiApp],
) -> None:
    """Keys cut off on the right are keys a person never learns about."""

    def cut_keys() -> list[str]:
        footer = app.screen.query_one(Footer)
        keys = list(footer.query("FooterKey"))
        palette = [k for k in keys if k.has_class("-command-palette")]
        right = palette[0].region.x if palette else footer.region.right
        return [
            f"{k.key} {k.description}" for k in keys if k not in palette and k.region.right > right
        ]

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert cut_keys() == [], "home"
        await open_service(pilot, "gumnut-grove")
        await pilot.press("6", "space", "space", "x")  # undo on offer, no marks
        await settle(pilot)
        assert cut_keys() == [], "children"
        await pilot.press("space")
        await settle(pilot)
        assert cut_keys() == [], "children with marks"
        for tab in ("f3", "f4", "f5"):
            await pilot.press(tab)
            await settle(pilot)
            assert cut_keys() == [], tab


async def test_a_sync_from_another_shell_shows_up_in_the_open_app(
    make_app: Callable[[], SmtuiApp],
    store: Any,
    sandbox_today: dt.date,
    sandbox_admin: AdminClient,
    store_url: str,
) -> None:
    """Cron (or a colleague) syncs while the app is open: history and header follow."""
    set_up_service(store, "gumnut-grove", sandbox_today)
    leaver = next(
        r
        for r in engine.child_rows(store, "gumnut-grove", as_of=sandbox_today)
        if r.action == "link"
    )
    sandbox_admin.leave(
        "gumnut-grove", leaver.child_id, last_day=sandbox_today - dt.timedelta(days=1)
    )
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_service(pilot, "gumnut-grove")
        await pilot.press("f4")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ServiceScreen)
        log = screen.query_one(SyncLogPane)
        before = {r.run_id for r in log.runs}
        last_before = screen.summary.last_sync_at
        integrated_before = screen.summary.integrated_children

        tokens = {CCMS_ENV: os.environ[CCMS_ENV], PORTFOLIO_ENV: os.environ[PORTFOLIO_ENV]}
        args = ("sync", "gumnut-grove", "--as-of", sandbox_today.isoformat())
        done = await asyncio.to_thread(run_cli, *args, db=store_url, env=tokens)
        assert done.returncode == 0, done.stdout + done.stderr

        for _ in range(60):  # the history is re-read every few seconds, no key pressed
            await pilot.pause(0.25)
            # the CLI has finished: wait for a poll after it (one during it reads "running")
            if log.runs and log.runs[0].run_id not in before and log.runs[0].result != "running":
                break
        await settle(pilot)
        newest = log.runs[0]
        assert newest.run_id not in before
        assert (newest.kind, newest.result) == ("sync", "ok")
        assert newest.counts.get("archive_profile") == 1
        assert screen.summary.last_sync_at not in (None, last_before), "the header follows"
        assert screen.summary.last_sync_at == newest.finished_at
        assert screen.summary.integrated_children == integrated_before - 1, "the leaver left"
        grid = screen.query_one(ChildrenPane)
        assert grid.by_id[leaver.child_id].status == "inactive", "the grids read it again"


async def test_home_filter_then_enter_opens_the_service(make_app: Callable[[], SmtuiApp]) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"wattle", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ServiceScreen)
        assert app.screen.service == "little-wattle"


async def test_keys_typed_in_one_burst_after_slash_land_in_the_filter(
    make_app: Callable[[], SmtuiApp],
) -> None:
    """Over SSH a fast typist's keys arrive together; none may go to the list behind the box
    (on the home screen s there would start a sync)."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for key, char in [("slash", "/"), *((c, c) for c in "wattle"), ("enter", "\r")]:
            app.post_message(events.Key(key, char))  # as the driver does: no wait between keys
        await settle(pilot)
        assert isinstance(app.screen, ServiceScreen)
        assert app.screen.service == "little-wattle"
        assert engine.runs(app.store, "gumnut-grove") == []

        pane = app.screen.query_one(ChildrenPane)
        for key, char in [("6", "6"), ("slash", "/"), *((c, c) for c in "smith")]:
            app.post_message(events.Key(key, char))
        await settle(pilot)
        assert pane.query_text == "smith"

        await pilot.press("enter", "escape")  # back in the grid, filter cleared
        await settle(pilot)
        assert pane.shown_keys
        before = {r.child_id: r.action for r in pane.rows}
        for key, char in [("l", "l"), *((c, c) for c in "xcy")]:  # keys the grid acts on
            app.post_message(events.Key(key, char))
        await settle(pilot)
        assert isinstance(app.screen, PickerScreen)
        assert app.screen.query_one(Input).value == "xcy", "the picker's search got them"
        assert {r.child_id: r.action for r in pane.rows} == before, "nothing acted behind it"


async def test_escape_clears_marks_then_the_filter_then_goes_home(
    make_app: Callable[[], SmtuiApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_service(pilot, "gumnut-grove")
        pane = app.screen.query_one(ChildrenPane)
        everyone = len(pane.rows)
        await pilot.press("6", "slash", *"smith", "enter", "space")
        await settle(pilot)
        assert 0 < len(pane.shown_keys) < everyone
        assert len(pane.marks) == 1

        await pilot.press("escape")
        await settle(pilot)
        assert pane.marks == set()
        assert 0 < len(pane.shown_keys) < everyone, "the filter outlives the marks"

        await pilot.press("escape")
        await settle(pilot)
        assert len(pane.shown_keys) == everyone
        assert isinstance(app.screen, ServiceScreen)

        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)


async def test_a_sync_started_here_is_in_the_history_while_it_runs(
    make_app: Callable[[], SmtuiApp],
    store: Any,
    sandbox_today: dt.date,
    sandbox_admin: AdminClient,
    monkeypatch: Any,
) -> None:
    """Not only at the next poll of the history: the poll is switched off here."""
    monkeypatch.setattr("smtui.tui.synclog.HISTORY_SECONDS", 3600.0)
    set_up_service(store, "gumnut-grove", sandbox_today)
    rows = engine.child_rows(store, "gumnut-grove", as_of=sandbox_today)
    for row in [r for r in rows if r.action == "link"][:3]:
        sandbox_admin.update_child("gumnut-grove", row.child_id, first_name="Renamed")
    # each write takes 3 s: the run is still going when the first operation reports
    sandbox_admin.set_faults(rate=1, kinds=["latency"], latency_ms=3000, scope="write",
                             system="portfolio")  # fmt: skip
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        log = await open_sync_log(pilot, "gumnut-grove")
        before = [r.run_id for r in log.runs]
        await pilot.press("R")  # read the renames, so the plan shown is the plan run
        await settle(pilot)
        await pilot.press("S")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmPlanScreen)
        await pilot.press("y")
        seen = None
        for _ in range(100):
            await pilot.pause(0.05)
            if log.runs and log.runs[0].run_id not in before:
                seen = log.runs[0]
                break
        assert seen is not None and seen.result == "running"
        assert log.selected == seen.run_id, "the running run is the one shown"
        await settle(pilot)
