"""Helpers the TUI tests share: set a service up headless, wait for workers, steady a snapshot."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input

from smtui import engine
from smtui.match import REASON_LABELS
from smtui.tui.synclog import SyncLogPane

WHO = "tester@test"
CCMS_ENV = "SMTUI_TUI_TEST_CCMS_TOKEN"
PORTFOLIO_ENV = "SMTUI_TUI_TEST_PORTFOLIO_TOKEN"


def set_up_service(store: Any, name: str, today: dt.date) -> None:
    """Connect a service headless (reviews become creates), as a person would have earlier."""
    engine.refresh(store, name)
    reviews = [
        r.child_id for r in engine.child_rows(store, name, as_of=today) if r.action == "review"
    ]
    if reviews:
        engine.set_children(store, name, reviews, "create", who=WHO)
    engine.run_sync(store, name, setup=True, as_of=today, who=WHO)


async def settle(pilot: Pilot) -> None:
    """Let workers finish and their results reach the screen (workers can start workers)."""
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def open_service(pilot: Pilot, name: str) -> None:
    """From the home screen, put the cursor on ``name`` and open it."""
    await settle(pilot)
    table = pilot.app.screen.query_one("#services")
    names = list(table.order)
    table.move_cursor(row=names.index(name))
    await pilot.press("enter")
    await settle(pilot)


async def open_sync_log(pilot: Pilot, name: str) -> SyncLogPane:
    """Open ``name`` and its sync log tab (F4)."""
    await open_service(pilot, name)
    await pilot.press("f4")
    await settle(pilot)
    return pilot.app.screen.query_one(SyncLogPane)


async def steady(pilot: Pilot) -> None:
    """Before a snapshot: no toasts, no blinking cursor, nothing still loading."""
    await settle(pilot)
    for widget in pilot.app.screen.query(Input):
        widget.cursor_blink = False
    pilot.app.clear_notifications()
    await pilot.pause()


def as_reviews(store: Any, name: str, kinds: dict[str, int]) -> list[str]:
    """Read ``name`` and send its first confident links (by child id) back to review, ``n`` of
    each reason kind, as a matcher proposes them: the seeded data's own reviews change with the
    matcher, a test's groups must not. Returns the child ids, in the order of ``kinds``."""
    engine.refresh(store, name)
    links = sorted(
        (m for m in store.child_mappings(name).values() if m.action == "link"),
        key=lambda m: m.child_id,
    )
    it = iter(links)
    reviews = [
        dataclasses.replace(next(it), action="review", reason_kind=kind, reason=REASON_LABELS[kind])
        for kind, n in kinds.items()
        for _ in range(n)
    ]
    store.set_child_mappings(name, reviews, who="smtui (auto)", reason="auto-match")
    return [m.child_id for m in reviews]
