"""How fast the children grid paints and filters, against a baseline from the same run.

Run: python bench/bench_tui.py [--rows 2000]

Targets (issue 12, 2,000 children): painting the grid <= 1 s; a type-to-filter keystroke <= 100 ms
median; showing the result of a bulk action on 2,000 marked rows <= 0.5 s (the UI's share: the
store write and the re-plan are the engine's); a resize reflowed at once (<= 100 ms). The baseline
is painting 500 rows on this machine in this run, so the ratio says how the grid scales, whatever
the machine. The rows are generated view records (the grid only ever sees views.ChildRow), so the
numbers measure the UI, not the engine.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import statistics
import time
from dataclasses import replace

from textual.app import App, ComposeResult

from smtui.tui.children import ChildrenPane
from smtui.views import ChildRow

FIRST = ["Ava", "Noah", "Mia", "Aroha", "Wiremu", "Zoë", "Liam", "Isla", "Mohammed", "Chloé"]
LAST = ["Ngata", "O'Brien", "Smith", "Nguyen", "Tane", "Kaur", "Brown", "Williams", "[b]x[/b]"]
ROOMS = ["Possums", "Koalas", "Wombats", "Kiwis", "Tui"]


def make_rows(n: int, seed: int = 1) -> list[ChildRow]:
    rnd = random.Random(seed)
    rows = []
    for i in range(n):
        action = rnd.choice(["link", "link", "link", "create", "review", "ignore"])
        name = f"{rnd.choice(FIRST)} {rnd.choice(LAST)} {i}"
        rows.append(
            ChildRow(
                child_id=f"c{i:05}",
                name=name,
                birth_date=dt.date(2020, 1, 1) + dt.timedelta(days=rnd.randrange(1500)),
                status="active",
                action=action,
                profile_id=f"p{i}" if action in ("link", "review") else None,
                profile_name=name if action in ("link", "review") else None,
                score=rnd.uniform(50, 100) if action != "create" else 0.0,
                reason="same name and birth date",
                rooms=(rnd.choice(ROOMS),),
                origin="auto",
                changed=rnd.random() < 0.1,
            )
        )
    return rows


class GridApp(App[None]):
    def compose(self) -> ComposeResult:
        yield ChildrenPane("bench")


async def paint(n: int, repeat: int = 3) -> float:
    """Best of ``repeat``: set the rows and wait until the screen has been refreshed."""
    rows = make_rows(n)
    times = []
    for _ in range(repeat):
        app = GridApp()
        async with app.run_test(size=(120, 40)) as pilot:
            pane = app.query_one(ChildrenPane)
            await pilot.pause()
            start = time.perf_counter()
            pane.set_rows(rows)
            await pilot.pause()
            times.append(time.perf_counter() - start)
    return min(times)


async def keystrokes(n: int, typed: str = "ava ngata 1") -> list[float]:
    """Latency of each keystroke of type-to-filter (the debounce delay itself excluded)."""
    app = GridApp()
    latencies = []
    async with app.run_test(size=(120, 40)) as pilot:
        pane = app.query_one(ChildrenPane)
        pane.set_rows(make_rows(n))
        await pilot.pause()
        for i in range(1, len(typed) + 1):
            start = time.perf_counter()
            pane.query_text = typed[:i]
            pane.show()
            await pilot.pause()
            latencies.append(time.perf_counter() - start)
    return latencies


async def bulk(n: int) -> float:
    """Every row marked, then the rows an action returns (all changed) shown, marks kept."""
    rows = make_rows(n)
    app = GridApp()
    async with app.run_test(size=(120, 40)) as pilot:
        pane = app.query_one(ChildrenPane)
        pane.set_rows(rows)
        pane.action_filter("all")
        await pilot.pause()
        pane.action_mark_all()
        await pilot.pause()
        after = [replace(r, action="ignore", changed=True) for r in rows]
        start = time.perf_counter()
        pane.set_rows(after)
        await pilot.pause()
        took = time.perf_counter() - start
        assert len(pane.marks) == n, "marks survive the action"
    return took


async def reflow(n: int) -> float:
    """From 120 to 200 columns and back: the grid re-fitted at each size."""
    app = GridApp()
    async with app.run_test(size=(120, 40)) as pilot:
        pane = app.query_one(ChildrenPane)
        pane.set_rows(make_rows(n))
        await pilot.pause()
        start = time.perf_counter()
        for width in (200, 120, 160):
            await pilot.resize_terminal(width, 40)
            await pilot.pause()
        return (time.perf_counter() - start) / 3


def verdict(seconds: float, target: float) -> str:
    return "OK" if seconds <= target else "SLOW"


async def main(rows: int) -> None:
    base = await paint(500)
    big = await paint(rows)
    print(f"paint 500 rows (baseline): {base * 1000:7.1f} ms")
    print(
        f"paint {rows:,} rows:         {big * 1000:7.1f} ms  ratio {big / base:5.1f}x  "
        f"target <= 1000 ms: {'OK' if big <= 1.0 else 'SLOW'}"
    )
    keys = await keystrokes(rows)
    print(
        f"type-to-filter over {rows:,} rows, per keystroke: first {keys[0] * 1000:.1f} ms, "
        f"median {statistics.median(keys) * 1000:.1f} ms, max {max(keys) * 1000:.1f} ms "
        f"(max / baseline {max(keys) / base:.1f}x)  "
        f"target median <= 100 ms: {verdict(statistics.median(keys), 0.1)}"
    )
    took = await bulk(rows)
    print(
        f"bulk action result on {rows:,} marked rows: {took * 1000:7.1f} ms  "
        f"target <= 500 ms: {verdict(took, 0.5)}"
    )
    each = await reflow(rows)
    print(
        f"resize reflow with {rows:,} rows: {each * 1000:7.1f} ms each  "
        f"target <= 100 ms: {verdict(each, 0.1)}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    asyncio.run(main(parser.parse_args().rows))
