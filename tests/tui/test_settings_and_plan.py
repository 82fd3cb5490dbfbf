"""Settings that never look saved when they are not, and a plan a person can drill into."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from textual.widgets import Input
from tui_helpers import open_service, settle

from smtui import engine
from smtui.tui.app import SmtuiApp
from smtui.tui.dialogs import ConfirmPlanScreen, Dialog, PlanKindScreen, UnsavedScreen
from smtui.tui.fit import FitTable
from smtui.tui.home import HomeScreen
from smtui.tui.service import ServiceScreen
from smtui.tui.settings import SettingsPane


async def open_settings(pilot: Any) -> SettingsPane:
    await open_service(pilot, "gumnut-grove")
    await pilot.press("f5")
    await settle(pilot)
    return pilot.app.screen.query_one(SettingsPane)


async def type_into(pilot: Any, field: str, value: str) -> None:
    box = pilot.app.screen.query_one(f"#set-{field}", Input)
    box.focus()
    await pilot.pause()
    box.value = ""
    await pilot.press(*value)
    await pilot.pause()


async def test_an_unsaved_value_is_marked_and_leaving_asks(
    make_app: Callable[[], SmtuiApp], store: Any
) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        pane = await open_settings(pilot)
        await type_into(pilot, "max_archive_children_pct", "50")
        assert pane.dirty
        assert "1 unsaved" in str(pane.query_one("#settings-dirty").render())
        assert str(pane.query_one("#label-max_archive_children_pct").render()).startswith("*")

        await pilot.press("f2")  # leaving the tab asks
        await pilot.pause()
        assert isinstance(app.screen, UnsavedScreen)
        await pilot.press("escape")  # stay
        await pilot.pause()
        focused = app.screen.focused
        assert focused is not None and focused.id == "set-max_archive_children_pct", (
            "focus stays on the field being edited"
        )
        assert engine.service_config(store, "gumnut-grove").max_archive_children_pct != 50

        await pilot.press("ctrl+s")
        await settle(pilot)
        assert engine.service_config(store, "gumnut-grove").max_archive_children_pct == 50
        assert not pane.dirty
        assert app.screen.focused is focused, "saving never moves the focus"


async def test_discard_puts_the_stored_value_back(
    make_app: Callable[[], SmtuiApp], store: Any
) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        pane = await open_settings(pilot)
        stored = pane.saved["interval_hours"]
        await type_into(pilot, "interval_hours", "10")
        await pilot.press("escape")  # leaving the service asks too
        await pilot.pause()
        assert isinstance(app.screen, UnsavedScreen)
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen), "discarded, and gone where esc goes"
        assert engine.service_config(store, "gumnut-grove").interval_hours == float(stored)


async def test_the_plan_lists_destructive_kinds_first_and_drills_into_one(
    make_app: Callable[[], SmtuiApp], sandbox_today: dt.date, store: Any
) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_service(pilot, "little-wattle")
        await pilot.press("S")
        await settle(pilot)
        if isinstance(app.screen, Dialog) and not isinstance(app.screen, ConfirmPlanScreen):
            await pilot.press("y")
            await settle(pilot)
        confirm = app.screen
        assert isinstance(confirm, ConfirmPlanScreen)
        grid = confirm.query_one("#plan-kinds", FitTable)
        kinds = list(grid.order)
        assert set(kinds) == {k for k, n in confirm.preview.counts.items() if n}
        destructive = [k for k in kinds if k.startswith(("archive", "remove", "release"))]
        assert kinds[: len(destructive)] == destructive, kinds
        for kind in kinds:
            count = grid.cells[kind][1].plain
            assert count == f"{confirm.preview.counts[kind]:,}"

        grid.move_cursor(row=kinds.index("create_profile"))
        await pilot.press("enter")
        await settle(pilot)
        drill = app.screen
        assert isinstance(drill, PlanKindScreen)
        table = drill.query_one(FitTable)
        assert len(table.order) == confirm.preview.counts["create_profile"]
        name = table.cells[table.order[0]][0].plain.split(" for ")[1].split(" in ")[0]
        await pilot.press("slash", *name)
        await settle(pilot)
        assert 1 <= len(table.order) < confirm.preview.counts["create_profile"] or (
            confirm.preview.counts["create_profile"] == 1
        )
        await pilot.press("escape")  # the filter first
        await pilot.pause()
        assert len(table.order) == confirm.preview.counts["create_profile"]
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is confirm
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, ServiceScreen)
