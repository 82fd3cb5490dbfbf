"""How long finished runs and their journal are kept: `smtui prune` by hand, and after every
cron `sync --all` that synced something, so the journal does not grow by a run per sync for
ever without anyone having to remember it (docs/operations.md)."""

from __future__ import annotations

import datetime as dt
import os
from typing import TYPE_CHECKING

from smtui.engine.errors import EngineError

if TYPE_CHECKING:
    from smtui.store import Store

#: Runs that finished longer ago than this many days go (what the store must keep stays).
KEEP_DAYS = 90
ENV_KEEP_DAYS = "SMTUI_KEEP_RUNS_DAYS"


def keep_days() -> int:
    """SMTUI_KEEP_RUNS_DAYS (0: never prune automatically), else KEEP_DAYS."""
    raw = os.environ.get(ENV_KEEP_DAYS, "").strip()
    if not raw:
        return KEEP_DAYS
    if not raw.isdigit():
        raise EngineError(
            f"{ENV_KEEP_DAYS} must be a whole number of days (0 turns automatic pruning off), "
            f"not {raw[:40]!r}"
        )
    return int(raw)


def prune_old(store: Store, days: int, *, dry_run: bool = False) -> tuple[int, int]:
    """Delete runs finished more than ``days`` ago with their journal ops: (runs, ops)."""
    cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    return store.prune_runs(cutoff, dry_run=dry_run)


def prune_automatically(store: Store) -> tuple[int, int]:
    """After cron's run: prune past ``keep_days()``, unless it is 0."""
    days = keep_days()
    return prune_old(store, days) if days else (0, 0)
