"""What each screen looks like, against committed SVG snapshots (pytest-textual-snapshot).

Update after an intended change with ``pytest tests/tui --snapshot-update`` and look at the diff.
The data is the seeded sandbox at a fixed today; times are relative, names fixed, no ports shown.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot
from tui_helpers import as_reviews, open_service, set_up_service, settle, steady

from smtui import engine, rules
from smtui.sandbox.admin import AdminClient
from smtui.sandbox.server import RunningSandbox
from smtui.tui.app import SmtuiApp
from smtui.tui.dialogs import ConfirmPlanScreen

SIZE = (100, 30)


async def skip_reviews(pilot: Pilot) -> None:
    """Past "N children still need review" when the matcher left any (y skips them for now),
    never past the plan's own confirmation."""
    if not isinstance(pilot.app.screen, ConfirmPlanScreen):
        await pilot.press("y")
        await settle(pilot)
    assert isinstance(pilot.app.screen, ConfirmPlanScreen)


def test_home(
    snap_compare: Any, make_app: Callable[[], SmtuiApp], store: Any, sandbox_today: dt.date
) -> None:
    set_up_service(store, "little-wattle", sandbox_today)
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=steady)


def test_home_at_80x24(snap_compare: Any, make_app: Callable[[], SmtuiApp]) -> None:
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=steady)


def test_children_grid_with_marked_rows(
    snap_compare: Any, make_app: Callable[[], SmtuiApp]
) -> None:
    async def run_before(pilot: Pilot) -> None:
        await open_service(pilot, "gumnut-grove")
        await pilot.press("6", "space", "space", "down", "space", "shift+down")
        await steady(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_rooms_grid(snap_compare: Any, make_app: Callable[[], SmtuiApp]) -> None:
    async def run_before(pilot: Pilot) -> None:
        await open_service(pilot, "gumnut-grove")
        await pilot.press("f3")
        await steady(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_rooms_grid_with_a_room_running_out(
    snap_compare: Any,
    make_app: Callable[[], SmtuiApp],
    store: Any,
    sandbox_today: dt.date,
    sandbox_world: RunningSandbox,
    sandbox_admin: AdminClient,
) -> None:
    """Its bars stop after next week and it shows the Monday it goes, unless unlinked."""
    set_up_service(store, "gumnut-grove", sandbox_today)
    room = engine.room_rows(store, "gumnut-grove", as_of=sandbox_today)[1]
    last_day = rules.week_monday(sandbox_today) + dt.timedelta(days=9)
    for b in list(sandbox_world.world.service("gumnut-grove").bookings.values()):
        if b.room_id == room.room_id and b.status == "placed":
            sandbox_admin.end_booking("gumnut-grove", b.id, last_day)
    engine.refresh(store, "gumnut-grove")

    async def run_before(pilot: Pilot) -> None:
        await open_service(pilot, "gumnut-grove")
        await pilot.press("f3")
        await steady(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_confirmation_dialog(snap_compare: Any, make_app: Callable[[], SmtuiApp]) -> None:
    async def run_before(pilot: Pilot) -> None:
        await open_service(pilot, "gumnut-grove")
        await pilot.press("S")
        await settle(pilot)
        await skip_reviews(pilot)
        await steady(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_sync_log(
    snap_compare: Any, make_app: Callable[[], SmtuiApp], store: Any, sandbox_today: dt.date
) -> None:
    set_up_service(store, "gumnut-grove", sandbox_today)

    async def run_before(pilot: Pilot) -> None:
        await open_service(pilot, "gumnut-grove")
        await pilot.press("f4")
        await steady(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_link_picker(snap_compare: Any, make_app: Callable[[], SmtuiApp]) -> None:
    async def run_before(pilot: Pilot) -> None:
        await open_service(pilot, "gumnut-grove")
        await pilot.press("3", "l")
        await steady(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_settings(snap_compare: Any, make_app: Callable[[], SmtuiApp]) -> None:
    async def run_before(pilot: Pilot) -> None:
        await open_service(pilot, "gumnut-grove")
        await pilot.press("f5")
        await steady(pilot)

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=run_before)


def test_children_grid_at_80x24(snap_compare: Any, make_app: Callable[[], SmtuiApp]) -> None:
    async def run_before(pilot: Pilot) -> None:
        await open_service(pilot, "gumnut-grove")
        await pilot.press("space")
        await steady(pilot)

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=run_before)


def test_confirmation_dialog_at_80x24(snap_compare: Any, make_app: Callable[[], SmtuiApp]) -> None:
    """The plan is longer than the screen: it scrolls, and the buttons stay in view."""

    async def run_before(pilot: Pilot) -> None:
        await open_service(pilot, "little-wattle")
        await pilot.press("S")
        await settle(pilot)
        await skip_reviews(pilot)
        await steady(pilot)

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=run_before)


def test_add_service_form(snap_compare: Any, make_app: Callable[[], SmtuiApp]) -> None:
    async def run_before(pilot: Pilot) -> None:
        await settle(pilot)
        await pilot.press("a")
        await pilot.press(*"new-centre", "tab", *"ftp://x", "enter")  # a bad URL: one red line
        await steady(pilot)

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=run_before)


def test_why_modal(snap_compare: Any, make_app: Callable[[], SmtuiApp]) -> None:
    async def run_before(pilot: Pilot) -> None:
        await open_service(pilot, "gumnut-grove")
        await pilot.press("w")  # on the first row: a review, if the matcher left any
        await steady(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_room_picker(snap_compare: Any, make_app: Callable[[], SmtuiApp]) -> None:
    async def run_before(pilot: Pilot) -> None:
        await open_service(pilot, "gumnut-grove")
        await pilot.press("f3", "l")
        await steady(pilot)

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=run_before)


def test_confirmation_drill_down(snap_compare: Any, make_app: Callable[[], SmtuiApp]) -> None:
    """Enter on a kind lists what it touches, before -> after."""

    async def run_before(pilot: Pilot) -> None:
        await open_service(pilot, "gumnut-grove")
        await pilot.press("S")
        await settle(pilot)
        await skip_reviews(pilot)
        await settle(pilot)
        await pilot.press("enter")  # the first kind
        await steady(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_run_detail(
    snap_compare: Any, make_app: Callable[[], SmtuiApp], store: Any, sandbox_today: dt.date
) -> None:
    set_up_service(store, "gumnut-grove", sandbox_today)

    async def run_before(pilot: Pilot) -> None:
        await open_service(pilot, "gumnut-grove")
        await pilot.press("f4")
        await settle(pilot)
        await pilot.press("enter")
        await steady(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_help(snap_compare: Any, make_app: Callable[[], SmtuiApp]) -> None:
    async def run_before(pilot: Pilot) -> None:
        await open_service(pilot, "gumnut-grove")
        await pilot.press("question_mark")
        await steady(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_settings_with_an_unsaved_value(
    snap_compare: Any, make_app: Callable[[], SmtuiApp]
) -> None:
    async def run_before(pilot: Pilot) -> None:
        await open_service(pilot, "gumnut-grove")
        await pilot.press("f5")
        await settle(pilot)
        await pilot.press("tab", "tab", "ctrl+u", *"25")
        await steady(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


#: reviews added to the seeded data's own for the review-group snapshots (as_reviews)
REVIEWS = {"unique_name_no_birth_date": 5, "birth_date_differs": 3, "twin": 2}


def test_review_groups(snap_compare: Any, make_app: Callable[[], SmtuiApp], store: Any) -> None:
    """r: the children in review counted by reason, largest group first."""
    as_reviews(store, "little-wattle", REVIEWS)

    async def run_before(pilot: Pilot) -> None:
        await open_service(pilot, "little-wattle")
        await pilot.press("r")
        await steady(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_review_group_accept_confirmation(
    snap_compare: Any, make_app: Callable[[], SmtuiApp], store: Any
) -> None:
    """A group in the grid (its reason under it) and A's confirmation over it."""
    as_reviews(store, "little-wattle", REVIEWS)

    async def run_before(pilot: Pilot) -> None:
        await open_service(pilot, "little-wattle")
        await pilot.press("r")
        await pilot.pause()
        await pilot.press("down", "enter")  # the largest group
        await pilot.pause()
        await pilot.press("A")
        await steady(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)
