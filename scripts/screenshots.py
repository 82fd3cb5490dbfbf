"""Make the README screenshots (SVG) of the main screens from the demo data.

Run: python scripts/screenshots.py [--out screenshots]

The data is exactly what `smtui demo` opens on (``smtui.demo.start_demo``: the sandbox for a fixed
seed and date, served on loopback in this process, and a fresh demo store in a temporary directory
with every sandbox service and gumnut-grove already set up). The app is driven from the keyboard
with Textual's Pilot, so the pictures show what a person sees at 100x30. ``as_of``, ``who`` and the
clock are pinned (the clock to a few minutes after the demo's preset sync, so "5 min ago" and "in
12 h" read the same on every run) and no path or port is shown, so the pictures only change when
the UI does.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input

from smtui import engine
from smtui.demo import PRESET_SERVICE, start_demo
from smtui.tui.app import build_app

SEED = 7
TODAY = dt.date(2026, 12, 1)
SIZE = (100, 30)
WHO = "demo@smtui"
#: how long after the preset sync the pictures are taken
SINCE_PRESET = dt.timedelta(minutes=5)


async def settle(pilot: Pilot) -> None:
    """Let workers finish, then hide what would differ between runs (cursor blink, toasts)."""
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    for widget in pilot.app.screen.query(Input):
        widget.cursor_blink = False
    pilot.app.clear_notifications()
    await pilot.pause()


async def open_service(pilot: Pilot, name: str) -> None:
    await settle(pilot)
    table = pilot.app.screen.query_one("#services")
    names = list(table.order)
    table.move_cursor(row=names.index(name))
    await pilot.press("enter")
    await settle(pilot)


async def home(pilot: Pilot) -> None:
    await settle(pilot)


async def children(pilot: Pilot) -> None:
    await open_service(pilot, "sunny-hill")
    await pilot.press("6", "down", "space", "space", "space", "down", "space")
    await settle(pilot)


async def rooms(pilot: Pilot) -> None:
    await open_service(pilot, "sunny-hill")
    await pilot.press("f3")
    await settle(pilot)


async def confirm(pilot: Pilot) -> None:
    await open_service(pilot, "sunny-hill")
    await pilot.press("S")
    await settle(pilot)
    await pilot.press("y")  # skip the undecided reviews for now
    await settle(pilot)


async def sync_log(pilot: Pilot) -> None:
    await open_service(pilot, "gumnut-grove")
    await pilot.press("f4")
    await settle(pilot)


async def picker(pilot: Pilot) -> None:
    await open_service(pilot, "sunny-hill")
    await pilot.press("down", "l")  # two profiles share this child's name and birth date
    await settle(pilot)


async def review_groups(pilot: Pilot) -> None:
    await open_service(pilot, "sunny-hill")
    await pilot.press("r")  # the children in review, counted by reason
    await settle(pilot)


async def confirm_kind(pilot: Pilot) -> None:
    await confirm(pilot)
    await pilot.press("down", "enter")  # the second kind: what the plan takes away comes first
    await settle(pilot)


async def run_detail(pilot: Pilot) -> None:
    await sync_log(pilot)
    await pilot.press("enter")
    await settle(pilot)


async def settings(pilot: Pilot) -> None:
    await open_service(pilot, "gumnut-grove")
    await pilot.press("f5")
    await settle(pilot)
    await pilot.press("tab", "tab", "ctrl+u", *"25")  # typed, not saved yet
    await settle(pilot)


async def help_screen(pilot: Pilot) -> None:
    await open_service(pilot, "sunny-hill")
    await pilot.press("question_mark")
    await settle(pilot)


SHOTS: dict[str, Callable[[Pilot], Awaitable[None]]] = {
    "home": home,
    "children": children,
    "rooms": rooms,
    "picker": picker,
    "review-groups": review_groups,
    "confirm": confirm,
    "confirm-kind": confirm_kind,
    "sync-log": sync_log,
    "run-detail": run_detail,
    "settings": settings,
    "help": help_screen,
}


def fixed_clock(store: Any) -> Callable[[], dt.datetime]:
    """A clock stopped a few minutes after the demo's own sync, whenever the script runs."""
    started = engine.runs(store, PRESET_SERVICE)[0].started_at
    if started.tzinfo is None:
        started = started.replace(tzinfo=dt.UTC)
    now = started + SINCE_PRESET
    return lambda: now


async def shoot(store: Any, out: Path) -> None:
    clock = fixed_clock(store)
    for name, drive in SHOTS.items():
        app = build_app(store, as_of=TODAY, who=WHO, clock=clock)
        async with app.run_test(size=SIZE) as pilot:
            await drive(pilot)
            app.save_screenshot(f"{name}.svg", path=str(out))
        print(f"wrote {out / name}.svg")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent.parent / "screenshots")
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="smtui-shots-") as tmp:
        demo = start_demo(seed=SEED, today=TODAY, folder=Path(tmp))
        try:
            asyncio.run(shoot(demo.store, out))
        finally:
            demo.stop()


if __name__ == "__main__":
    main()
