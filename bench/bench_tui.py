"""How fast the terminal UI answers on a 2,000-child service, through the real app.

Run: python bench/bench_tui.py [--children 2000] [--repeat 3]

The sandbox runs in this process (seed 7, a fixed today); harbour-city gets enough extra
enrolments to hold ``--children`` active children. A real SQLite store in a temporary directory
holds it and gumnut-grove (24 children), both read once through the engine, not set up. The app
(``build_app``, as the CLI runs it) is then driven with Textual's Pilot, and each step is timed
until the screen shows its result: the rows on the grid, the filtered rows, 2,000 marked rows
showing the new action, the undone actions, the picker's candidates, the grid refitted to the new
width, the app gone.

Targets (issue 12, 2,000 children): open a service <= 1 s; a filter keystroke <= 100 ms median;
a bulk action on 2,000 marked rows <= 0.5 s; undo <= 0.5 s; picker open <= 0.3 s; quit <= 0.5 s;
a resize reflowed <= 100 ms. The baseline is the same step on gumnut-grove in the same run: on a
loaded machine both grow, and what is left is the cost of the service's size. Each step also says
the CPU time the process spent (all threads), which a loaded machine inflates far less than the
wall time. Lines without a target: when the workers behind a step were done (the plan marking
the rows the next sync changes, an edit written), which the screen does not wait for, and the
picker opened with no rest on the row first (its candidates are worked out while the cursor
rests). Each figure is the median of ``--repeat`` runs of the whole sequence.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual import events
from textual.app import App
from textual.geometry import Size
from textual.pilot import Pilot
from textual.widgets import OptionList

from smtui import engine
from smtui.sandbox.server import RunningSandbox, start_sandbox
from smtui.tui.app import build_app
from smtui.tui.children import PREFETCH_DELAY, ChildrenPane
from smtui.tui.picker import PickerScreen

SEED = 7
TODAY = dt.date(2026, 12, 1)
BIG, SMALL = "harbour-city", "gumnut-grove"
SIZE = (120, 40)
CCMS_ENV, PORTFOLIO_ENV = "SMTUI_BENCH_CCMS_TOKEN", "SMTUI_BENCH_PORTFOLIO_TOKEN"
#: step -> target in seconds, in the order the steps run
TARGETS = {
    "open a service": 1.0,
    "filter keystroke (median)": 0.1,
    "bulk action on the marked rows": 0.5,
    "undo": 0.5,
    "picker open": 0.3,
    "resize reflowed": 0.1,
    "quit": 0.5,
}
#: not targets: when the workers behind a step were done (the plan's marks shown, the edit
#: written), and the picker opened with no rest on the row (its candidates not yet worked out)
AFTERWARDS = (
    "open: rows marked by the plan",
    "bulk action: saved and re-planned",
    "undo: saved and re-planned",
    "picker open, no rest on the row",
)


def grow(sandbox: RunningSandbox, children: int) -> None:
    """Enrol children into harbour-city until it has ``children`` active ones."""
    world = sandbox.world
    svc = world.service(BIG)
    active = sum(1 for c in svc.children.values() if c.status == "active")
    rooms = sorted(svc.rooms)
    for i in range(children - active):
        world.enrol(
            BIG,
            {
                "first_name": f"Extra{i}",
                "last_name": "Bench",
                "birth_date": dt.date(2022, 1, 1) + dt.timedelta(days=i % 900),
            },
            {
                "room_id": rooms[i % len(rooms)],
                "start_date": TODAY - dt.timedelta(days=14),
                "weekdays": (1, 2, 3),
                "every": 1,
                "kind": "permanent",
                "status": "placed",
            },
        )


def make_store(sandbox: RunningSandbox, folder: Path) -> Any:
    os.environ[CCMS_ENV] = sandbox.ccms_token
    os.environ[PORTFOLIO_ENV] = sandbox.portfolio_token
    store = engine.open_store(str(folder / "smtui.db"))
    for name in (BIG, SMALL):
        engine.add_service(
            store,
            engine.ServiceConfig(
                name=name,
                ccms_url=sandbox.ccms_url(name),
                portfolio_url=sandbox.portfolio_url(name),
                ccms_token_env=CCMS_ENV,
                portfolio_token_env=PORTFOLIO_ENV,
                timezone="Australia/Sydney",
            ),
        )
        engine.refresh(store, name)
    return store


class Shown:
    """When the screen first showed a result: checked after every frame the app paints.

    Textual calls ``post_display_hook`` once a frame is composed (headless too), and the UI
    runs on one thread, so a condition true in the hook is true of the frame just painted.
    Keys and resizes are posted as the terminal driver posts them, not through ``Pilot``, whose
    waits for an idle process (20 ms each, several per key) and forced repaints would be timed
    with them. Each step also gives the CPU time the process spent meanwhile (every thread):
    on a loaded machine the wall time grows with the load, the CPU time much less.
    """

    def __init__(self, app: App[Any]) -> None:
        self.app = app
        self.shown: Callable[[], bool] | None = None
        self.at: tuple[float, float] | None = None
        app.post_display_hook = self.painted  # type: ignore[method-assign]

    def painted(self) -> None:
        if self.shown is not None and self.at is None and self.shown():
            self.at = (time.perf_counter(), time.process_time())

    async def time(
        self, act: Callable[[], object], shown: Callable[[], bool]
    ) -> tuple[float, float]:
        """(wall, CPU) seconds from ``act`` until a frame shows ``shown`` true."""
        self.shown, self.at = shown, None
        start, cpu = time.perf_counter(), time.process_time()
        act()
        while self.at is None:
            if time.perf_counter() - start > 120:
                raise TimeoutError("the screen never showed the result")
            await asyncio.sleep(0.001)
        self.shown = None
        return self.at[0] - start, self.at[1] - cpu

    def key(self, key: str, char: str | None = None) -> Callable[[], None]:
        return lambda: self.app.post_message(events.Key(key, char))

    def resize(self, width: int, height: int) -> Callable[[], None]:
        """A terminal's new size, as Pilot.resize_terminal gives it (the headless driver's
        size, then the Resize event), without its wait and forced repaint."""

        def act() -> None:
            size = Size(width, height)
            self.app._driver._size = size  # type: ignore[union-attr]
            self.app.post_message(events.Resize(size, size))

        return act


async def idle(pilot: Pilot) -> None:
    """Every worker done and its result on the screen: the next step starts from rest."""
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def at_rest(pilot: Pilot) -> tuple[float, float]:
    """(wall, CPU) until every worker is done and its result shown."""
    start, cpu = time.perf_counter(), time.process_time()
    await idle(pilot)
    return time.perf_counter() - start, time.process_time() - cpu


def action_cell(pane: ChildrenPane, key: str) -> str:
    return str(pane.grid.get_cell(key, "action"))


def narrowing(pane: ChildrenPane) -> str:
    """What to type: a name whose every next letter leaves fewer rows, so each keystroke
    changes the grid (a keystroke that changes nothing would be timed before it was shown)."""
    keys = [pane.search_keys[r.child_id] for r in pane.rows]
    best = ""
    for row in pane.rows[:: max(1, len(pane.rows) // 50)]:
        typed, last = "", len(keys) + 1
        for ch in row.name.casefold():
            n = sum(1 for k in keys if (typed + ch).strip() in k)
            if n >= last:
                break
            typed, last = typed + ch, n
        if len(typed) > len(best):
            best = typed
    return best


Timings = dict[str, list[tuple[float, float]]]


async def session(store: Any, name: str, timings: Timings) -> None:
    """One app, one service: open, filter, bulk, undo, picker, resize, quit."""

    def took(step: str, spent: tuple[float, float]) -> None:
        timings.setdefault(step, []).append(spent)

    def plus(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float]:
        return a[0] + b[0], a[1] + b[1]

    app = build_app(store, as_of=TODAY, who="bench@smtui")
    watch = Shown(app)
    async with app.run_test(size=SIZE) as pilot:
        await idle(pilot)
        table = app.screen.query_one("#services")
        names = list(table.order)
        table.move_cursor(row=names.index(name))
        await idle(pilot)

        def pane() -> ChildrenPane | None:
            found = app.screen.query(ChildrenPane)
            return found.first() if found else None

        def opened() -> bool:
            p = pane()
            return p is not None and p.loaded and p.grid.row_count > 0

        spent = await watch.time(watch.key("enter", "\r"), opened)
        took("open a service", spent)
        took(AFTERWARDS[0], plus(spent, await at_rest(pilot)))
        kids = pane()
        assert kids is not None

        await pilot.press("6")  # every child
        await idle(pilot)
        typed = narrowing(kids)
        await pilot.press("slash")
        await idle(pilot)
        keystrokes = []
        for i, ch in enumerate(typed, start=1):
            needle = typed[:i].strip()  # as the filter reads it
            want = [r.child_id for r in kids.rows if needle in kids.search_keys[r.child_id]]
            keystrokes.append(
                await watch.time(
                    watch.key(ch if ch != " " else "space", ch),
                    lambda want=want: kids.shown_keys == want,
                )
            )
            await idle(pilot)
        took("filter keystroke (median)", median(keystrokes))
        await pilot.press("escape")  # clear the filter, back to the grid
        await idle(pilot)

        before = {r.child_id: r.action for r in kids.rows}
        await pilot.press("ctrl+a")
        await idle(pilot)
        assert len(kids.marks) == len(kids.rows), "every row marked"
        first, last = kids.shown_keys[0], kids.shown_keys[-1]
        spent = await watch.time(
            watch.key("x", "x"),
            lambda: (
                action_cell(kids, first).startswith("don't add")
                and action_cell(kids, last).startswith("don't add")
            ),
        )
        took("bulk action on the marked rows", spent)
        took(AFTERWARDS[1], plus(spent, await at_rest(pilot)))

        def undone() -> bool:
            return all(kids.by_id[k].action == v for k, v in before.items()) and all(
                before[k] == "ignore" or not action_cell(kids, k).startswith("don't add")
                for k in (first, last)
            )

        spent = await watch.time(watch.key("u", "u"), undone)
        took("undo", spent)
        took(AFTERWARDS[2], plus(spent, await at_rest(pilot)))

        await pilot.press("escape")  # clear the marks: link takes one child
        await pilot.pause(PREFETCH_DELAY + 0.1)  # the cursor rests on its row: its candidates
        await idle(pilot)  # are worked out meanwhile

        def picker() -> bool:
            return (
                isinstance(app.screen, PickerScreen)
                and app.screen.query_one(OptionList).option_count > 0
            )

        took("picker open", await watch.time(watch.key("l", "l"), picker))
        await idle(pilot)
        await pilot.press("escape")
        await idle(pilot)
        await pilot.press("down")  # l at once: the candidates are worked out on opening
        took(AFTERWARDS[3], await watch.time(watch.key("l", "l"), picker))
        await idle(pilot)
        await pilot.press("escape")
        await idle(pilot)

        steps = []
        for width in (200, 120, 160):
            steps.append(
                await watch.time(
                    watch.resize(width, SIZE[1]),
                    lambda width=width: (
                        app.size.width == width and kids.grid.widths == kids.grid.fitted_widths()
                    ),
                )
            )
            await idle(pilot)
        took("resize reflowed", median(steps))

        start, cpu = time.perf_counter(), time.process_time()
        app.post_message(events.Key("ctrl+q", None))
    took("quit", (time.perf_counter() - start, time.process_time() - cpu))


def median(spent: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(s[0] for s in spent), statistics.median(s[1] for s in spent)


def line(step: str, big: list[tuple[float, float]], small: list[tuple[float, float]]) -> str:
    (wall, cpu), (base, base_cpu) = median(big), median(small)
    target = TARGETS.get(step)
    verdict = ""
    if target is not None:
        verdict = f"  target {target * 1000:4.0f}: {'OK' if wall <= target else 'SLOW'}"
    return (
        f"{step:<38}{wall * 1000:6.0f} ms (cpu {cpu * 1000:5.0f})"
        f"   baseline {base * 1000:5.0f} ms (cpu {base_cpu * 1000:5.0f}){verdict}"
    )


async def main(children: int, repeat: int) -> None:
    sandbox = start_sandbox(seed=SEED, today=TODAY)
    try:
        grow(sandbox, children)
        with tempfile.TemporaryDirectory(prefix="smtui-bench-tui-") as tmp:
            store = make_store(sandbox, Path(tmp))
            count = len(engine.child_rows(store, BIG, as_of=TODAY))
            big: Timings = {}
            small: Timings = {}
            await session(store, SMALL, {})  # warm: imports and caches are not timed
            for _ in range(repeat):
                await session(store, SMALL, small)
                await session(store, BIG, big)
            store.close()
    finally:
        sandbox.stop()
    load = os.getloadavg()[0]
    print(
        f"{BIG}: {count:,} children; baseline: {SMALL}; median of {repeat} run(s); load {load:.1f}"
    )
    for step in (*TARGETS, *AFTERWARDS):
        print(line(step, big[step], small[step]))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    asyncio.run(main(args.children, args.repeat))
