"""Make the README screenshots (SVG) of the main screens from seeded demo data.

Run: python scripts/screenshots.py [--out screenshots]

The data is the sandbox world for a fixed seed and date, served on loopback in this process, and a
fresh store in a temporary directory; the app is driven from the keyboard with Textual's Pilot, so
the pictures show exactly what a person sees at 100x30.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input

from smtui import engine
from smtui.sandbox.server import start_sandbox
from smtui.tui.app import build_app

SEED = 7
TODAY = dt.date(2026, 11, 23)
SIZE = (100, 30)
WHO = "demo@smtui"
SERVICES = {
    "sunny-hill": "Australia/Sydney",
    "kowhai-kids": "Pacific/Auckland",
    "little-wattle": "Australia/Melbourne",
    "gumnut-grove": "Australia/Brisbane",
}
SET_UP = ("little-wattle", "gumnut-grove")


def make_store(db: Path, sandbox: Any) -> Any:
    os.environ["SMTUI_DEMO_CCMS_TOKEN"] = sandbox.ccms_token
    os.environ["SMTUI_DEMO_PORTFOLIO_TOKEN"] = sandbox.portfolio_token
    store = engine.open_store(str(db))
    for name, tz in SERVICES.items():
        engine.add_service(
            store,
            engine.ServiceConfig(
                name=name,
                ccms_url=sandbox.ccms_url(name),
                portfolio_url=sandbox.portfolio_url(name),
                ccms_token_env="SMTUI_DEMO_CCMS_TOKEN",
                portfolio_token_env="SMTUI_DEMO_PORTFOLIO_TOKEN",
                timezone=tz,
            ),
        )
    for name in SET_UP:
        engine.refresh(store, name)
        rows = engine.child_rows(store, name, as_of=TODAY)
        reviews = [r.child_id for r in rows if r.action == "review"]
        if reviews:
            engine.set_children(store, name, reviews, "create", who=WHO)
        engine.run_sync(store, name, setup=True, as_of=TODAY, who=WHO)
    return store


async def settle(pilot: Pilot) -> None:
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
    names = [str(k.value) for k in table.rows]
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


SHOTS: dict[str, Callable[[Pilot], Awaitable[None]]] = {
    "home": home,
    "children": children,
    "rooms": rooms,
    "confirm": confirm,
    "sync-log": sync_log,
}


async def shoot(store: Any, out: Path) -> None:
    for name, drive in SHOTS.items():
        app = build_app(store, as_of=TODAY, who=WHO)
        async with app.run_test(size=SIZE) as pilot:
            await drive(pilot)
            app.save_screenshot(f"{name}.svg", path=str(out))
        print(f"wrote {out / name}.svg")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent.parent / "screenshots")
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    with (
        start_sandbox(seed=SEED, today=TODAY) as sandbox,
        tempfile.TemporaryDirectory(prefix="smtui-shots-") as tmp,
    ):
        store = make_store(Path(tmp) / "demo.db", sandbox)
        asyncio.run(shoot(store, out))


if __name__ == "__main__":
    main()
