"""Changes after setup in the app: what the confirmation names is what the run does; a turned-off
service looks off; a service this app is syncing cannot be synced a second time."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

from textual.widgets import Button, Checkbox, Static
from tui_helpers import WHO, open_service, set_up_service, settle

from smtui import engine
from smtui.engine.lease import hold
from smtui.tui.app import SmtuiApp
from smtui.tui.children import ChildrenPane
from smtui.tui.dialogs import ConfirmPlanScreen, TurnOffScreen
from smtui.tui.service import ServiceScreen

SERVICE = "gumnut-grove"


def _body(screen: ConfirmPlanScreen) -> str:
    return "\n".join(str(w.render()) for w in screen.query(Static))


async def test_create_on_a_linked_child_is_named_in_the_confirmation_and_done(
    make_app: Callable[[], SmtuiApp], store: Any, sandbox_today: dt.date
) -> None:
    set_up_service(store, SERVICE, sandbox_today)
    row = next(
        r
        for r in engine.child_rows(store, SERVICE, as_of=sandbox_today)
        if r.action == "link" and r.rooms and r.status == "active"
    )
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_service(pilot, SERVICE)
        pane = app.screen.query_one(ChildrenPane)
        await pilot.press("6")  # all children
        grid = pane.grid
        grid.move_cursor(row=grid.order.index(row.child_id))
        await pilot.press("c")
        await settle(pilot)
        await pilot.press("S")
        await settle(pilot)
        confirm = app.screen
        assert isinstance(confirm, ConfirmPlanScreen)
        body = _body(confirm)
        assert "Mapping changes" in body
        assert f"instead of profile {row.profile_id}" in body
        assert f"release profile {row.profile_id}" in body
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, ServiceScreen)
    run = engine.runs(store, SERVICE)[0]
    assert run.result == "ok", run.message
    assert run.counts.get("release_profile") == 1 and run.counts.get("create_profile") == 1
    assert engine.preview(store, SERVICE, as_of=sandbox_today).is_empty


async def test_turned_off_with_purge_the_service_screen_shows_it_off_everywhere(
    make_app: Callable[[], SmtuiApp], store: Any, sandbox_today: dt.date
) -> None:
    set_up_service(store, SERVICE, sandbox_today)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_service(pilot, SERVICE)
        screen = app.screen
        assert isinstance(screen, ServiceScreen)
        assert screen.check_action("update", ()) is True
        await pilot.press("f5")
        await settle(pilot)
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert isinstance(app.screen, TurnOffScreen)
        app.screen.query_one(Checkbox).value = True
        app.screen.query_one("#yes", Button).press()
        await settle(pilot)
        assert screen.sub_title == "off"
        assert "turned off" in str(screen.query_one("#svc-status", Static).render())
        assert screen.query_one(ChildrenPane).rows == [], "no child's name left on screen"
        for action in ("update", "refresh"):
            assert screen.check_action(action, ()) is False, action
        await pilot.press("R")  # not offered, and does nothing
        await settle(pilot)
        assert store.load_ccms_snapshot(SERVICE) is None, "R read the purged data again"

        await pilot.press("f5")
        await settle(pilot)
        screen.query_one("#turn-on", Button).press()
        await settle(pilot)
        assert screen.check_action("update", ()) is True
        assert screen.query_one(ChildrenPane).rows, "turning on starts from a fresh read"


async def test_a_service_this_app_is_syncing_cannot_be_started_again(
    make_app: Callable[[], SmtuiApp], store: Any, sandbox_today: dt.date
) -> None:
    set_up_service(store, SERVICE, sandbox_today)
    holding, release = threading.Event(), threading.Event()

    def a_run_in_progress() -> None:  # as `s` on the services screen starts one
        with hold(store, SERVICE, WHO):
            holding.set()
            release.wait(30)

    worker = threading.Thread(target=a_run_in_progress)
    worker.start()
    try:
        assert holding.wait(10)
        app = make_app()
        async with app.run_test(size=(100, 30)) as pilot:
            await open_service(pilot, SERVICE)
            screen = app.screen
            assert isinstance(screen, ServiceScreen)
            assert screen.check_action("update", ()) is None  # shown, not available
            assert "syncing now" in str(screen.query_one("#svc-status", Static).render())
            runs_before = len(engine.runs(store, SERVICE))
            await pilot.press("S")
            await settle(pilot)
            assert not isinstance(app.screen, ConfirmPlanScreen)
            assert len(engine.runs(store, SERVICE)) == runs_before
    finally:
        release.set()
        worker.join(10)
    # and a second run in this process is refused by the engine itself, naming the holder
    with hold(store, SERVICE, WHO):
        try:
            engine.run_sync(store, SERVICE, as_of=sandbox_today, who=WHO)
        except engine.Locked as exc:
            assert "tester@" in str(exc)
        else:
            raise AssertionError("a second run of the same service started")


async def test_the_turn_off_dialog_answers_from_the_keyboard(
    make_app: Callable[[], SmtuiApp], store: Any, sandbox_today: dt.date
) -> None:
    set_up_service(store, SERVICE, sandbox_today)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_service(pilot, SERVICE)
        await pilot.press("f5")
        await settle(pilot)
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert isinstance(app.screen, TurnOffScreen)
        await pilot.press("p", "y")  # purge too, then yes
        await settle(pilot)
        assert not isinstance(app.screen, TurnOffScreen)
    assert engine.service_config(store, SERVICE).enabled is False
    assert store.load_ccms_snapshot(SERVICE) is None
