"""Keys a person can find, rebind and trust: the palette, help, esc one level back, marks kept."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from textual.command import CommandPalette
from tui_helpers import WHO, open_service, open_sync_log, set_up_service, settle

from smtui.tui.app import SmtuiApp, build_app
from smtui.tui.children import ChildrenPane
from smtui.tui.dialogs import Dialog
from smtui.tui.home import HomeScreen
from smtui.tui.keys import HelpScreen, keymap_of
from smtui.tui.picker import PickerScreen
from smtui.tui.rooms import RoomsPane
from smtui.tui.rundetail import RunDetailScreen
from smtui.tui.service import ServiceScreen


async def palette_prompts(pilot: Any, query: str) -> list[str]:
    await pilot.press("ctrl+p")
    await pilot.pause()
    await pilot.press(*query)
    for _ in range(10):  # the palette searches in a worker
        await pilot.pause(0.05)
    palette = pilot.app.screen
    assert isinstance(palette, CommandPalette)
    options = palette.query_one("CommandList")
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


async def test_the_palette_finds_the_screens_actions_with_their_keys(
    make_app: Callable[[], SmtuiApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_service(pilot, "gumnut-grove")
        prompts = await palette_prompts(pilot, "link")
        assert prompts[0].startswith("Link  l"), prompts
        await pilot.press("escape")
        await pilot.pause()
        prompts = await palette_prompts(pilot, "sync")
        assert any(p.startswith("Set up  S / ^s") for p in prompts), prompts
        await pilot.press("escape")
        await pilot.pause()
        await palette_prompts(pilot, "link")
        await pilot.press("enter")  # runs it, as the key would
        await settle(pilot)
        assert isinstance(app.screen, PickerScreen)


async def test_question_mark_shows_the_whole_keymap_and_esc_closes_it(
    make_app: Callable[[], SmtuiApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_service(pilot, "gumnut-grove")
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        ids = {line.binding_id for line in app.screen.lines}
        # every pane of the screen, not only the focused one
        assert {"children.link", "rooms.unlink", "log.open_run", "service.update"} <= ids
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ServiceScreen)
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ServiceScreen)


def test_every_binding_has_an_id() -> None:
    """An id is what the keymap rebinds: every binding smtui declares has one, and no two
    different actions share it."""
    import importlib
    import inspect
    import pkgutil

    import smtui.tui

    seen: dict[str, str] = {}
    missing = []
    for info in pkgutil.iter_modules(smtui.tui.__path__):
        module = importlib.import_module(f"smtui.tui.{info.name}")
        for _name, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != module.__name__:
                continue
            for binding in cls.__dict__.get("BINDINGS", []):
                if not binding.id:
                    missing.append(f"{cls.__name__}: {binding.key}")
                    continue
                owner = f"{cls.__name__}.{binding.action}"
                assert seen.setdefault(binding.id, owner) == owner, binding.id
    assert missing == []


async def test_a_key_rebound_in_the_keymap_does_the_action_and_shows_as_rebound(
    store: Any, sandbox_today: dt.date
) -> None:
    app = build_app(store, as_of=sandbox_today, who=WHO, keymap={"children.link": "k"})
    async with app.run_test(size=(100, 30)) as pilot:
        await open_service(pilot, "gumnut-grove")
        await pilot.press("3", "k")
        await settle(pilot)
        assert isinstance(app.screen, PickerScreen)
        await pilot.press("escape")
        await pilot.pause()
        help_lines = {line.binding_id: line.keys for line in keymap_of(app.screen)}
        assert help_lines["children.link"] == "k"


async def test_marks_survive_an_action_and_esc_clears_them(
    make_app: Callable[[], SmtuiApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_service(pilot, "gumnut-grove")
        pane = app.screen.query_one(ChildrenPane)
        await pilot.press("6", "space", "space", "x")
        await settle(pilot)
        marked = set(pane.marks)
        assert len(marked) == 2
        assert {pane.by_id[k].action for k in marked} == {"ignore"}
        await pilot.press("c")  # the same set takes the next key
        await settle(pilot)
        assert pane.marks == marked
        assert {pane.by_id[k].action for k in marked} == {"create"}
        await pilot.press("u")
        await settle(pilot)
        assert pane.marks == marked, "an undo keeps them too"
        await pilot.press("escape")
        await settle(pilot)
        assert pane.marks == set()
        assert isinstance(app.screen, ServiceScreen)


async def test_home_and_end_go_to_the_first_and_last_row(
    make_app: Callable[[], SmtuiApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_service(pilot, "gumnut-grove")
        pane = app.screen.query_one(ChildrenPane)
        await pilot.press("6", "end")
        assert pane.cursor_key() == pane.shown_keys[-1]
        await pilot.press("home")
        assert pane.cursor_key() == pane.shown_keys[0]
        await pilot.press("G")
        assert pane.cursor_key() == pane.shown_keys[-1]
        await pilot.press("g")
        assert pane.cursor_key() == pane.shown_keys[0]


async def test_the_grid_draws_the_cursor_row_under_a_header_that_stays_when_scrolled(
    make_app: Callable[[], SmtuiApp],
) -> None:
    """The grid draws only the lines in view: after End the last row is drawn, highlighted,
    the header is still the top line, and page keys move by a screen of rows."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_service(pilot, "little-wattle")
        pane = app.screen.query_one(ChildrenPane)
        grid = pane.grid
        await pilot.press("6", "end")
        await settle(pilot)
        assert grid.row_count > grid.size.height, "more rows than lines: it scrolls"
        assert grid.scroll_y > 0
        assert grid.render_line(0).text.split()[:2] == ["CCMS", "name"]
        y = grid.cursor_row + 1 - round(grid.scroll_y)
        assert 1 <= y < grid.size.height, "the cursor row is in view"
        last = grid.get_row(pane.shown_keys[-1])[1].plain
        drawn = grid.render_line(y)
        assert last in drawn.text
        cursor_bg = list(drawn)[-1].style
        other_bg = list(grid.render_line(y - 1))[-1].style
        assert cursor_bg is not None and other_bg is not None
        assert cursor_bg.bgcolor != other_bg.bgcolor, "the cursor row is highlighted"
        await pilot.press("pageup")
        assert grid.cursor_row == grid.row_count - 1 - (grid.scrollable_content_region.height - 1)


async def test_sync_log_esc_clears_the_filter_before_leaving(
    make_app: Callable[[], SmtuiApp], store: Any, sandbox_today: dt.date
) -> None:
    set_up_service(store, "gumnut-grove", sandbox_today)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        log = await open_sync_log(pilot, "gumnut-grove")
        await pilot.press("slash", *"add", "enter")
        await settle(pilot)
        assert log.text_filter == "add"
        await pilot.press("escape")
        await settle(pilot)
        assert log.text_filter == ""
        assert isinstance(app.screen, ServiceScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)


async def test_enter_on_a_run_shows_it_in_full(
    make_app: Callable[[], SmtuiApp], store: Any, sandbox_today: dt.date
) -> None:
    set_up_service(store, "gumnut-grove", sandbox_today)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_sync_log(pilot, "gumnut-grove")
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RunDetailScreen)
        outcome = str(screen.query_one("#run-outcome").render())
        done = sum(screen.run.counts.values())
        assert f"done {done:,}" in outcome and "failed 0" in outcome, outcome
        assert "everything planned was done" in str(screen.query_one("#run-head").render())
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ServiceScreen)


async def test_the_filter_bar_keeps_every_number_whole_at_80_columns(
    make_app: Callable[[], SmtuiApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_service(pilot, "little-wattle")
        pane = app.screen.query_one(ChildrenPane)
        bar = pane.query_one("#child-filters")
        text = str(bar.render())
        total = f"{len(pane.rows):,}"
        assert text.rstrip().endswith(total), text
        assert len(text.rstrip()) <= bar.size.width


async def test_the_rooms_cursor_stays_on_its_row_after_an_update(
    make_app: Callable[[], SmtuiApp], store: Any, sandbox_today: dt.date
) -> None:
    set_up_service(store, "gumnut-grove", sandbox_today)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_service(pilot, "gumnut-grove")
        await pilot.press("f3")
        await settle(pilot)
        pane = app.screen.query_one(RoomsPane)
        pane.grid.move_cursor(row=2)
        await pilot.pause()
        key = pane.grid.cursor_key()
        await pilot.press("S")
        await settle(pilot)
        if isinstance(app.screen, Dialog):
            await pilot.press("y")
            await settle(pilot)
        if isinstance(app.screen, Dialog):
            await pilot.press("y")
            await settle(pilot)
        assert isinstance(app.screen, ServiceScreen)
        await pilot.press("f3")
        await settle(pilot)
        assert pane.grid.cursor_key() == key


async def test_the_rooms_cursor_stays_on_its_row_after_an_edit(
    make_app: Callable[[], SmtuiApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_service(pilot, "gumnut-grove")
        await pilot.press("f3")
        await settle(pilot)
        pane = app.screen.query_one(RoomsPane)
        for row in (2, 1):
            pane.grid.move_cursor(row=row)
            await pilot.pause()
            key = pane.grid.cursor_key()
            await pilot.press("c" if pane.cursor_row().action != "create" else "x")
            await settle(pilot)
            assert pane.grid.cursor_key() == key
            await pilot.press("u")
            await settle(pilot)
            assert pane.grid.cursor_key() == key


async def test_the_palettes_keys_command_opens_the_help_that_esc_closes(
    make_app: Callable[[], SmtuiApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        prompts = await palette_prompts(pilot, "keys")
        assert prompts and prompts[0].startswith("Keys"), prompts
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        assert "home.add" in {line.binding_id for line in app.screen.lines}
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
