"""The hourly cron run's cheap answer to "is anything due?" (see ``smtui.store.due``).

Imported by the CLI before the settings and the store, so it must stay on the standard
library: a "no" here means the full path (open the store, migrate, sync what is due).
"""

from __future__ import annotations

import datetime as dt

from smtui.store.due import surely_nothing_due as _file_says_nothing_due
from smtui.store.location import sqlite_file


def surely_nothing_due(db: str | None, now: dt.datetime | None = None) -> bool:
    """True only when ``db`` (a path or URL; None: the default file) is a SQLite store at this
    smtui's schema with no service due by ``now``."""
    path = sqlite_file(db)
    return path is not None and _file_says_nothing_due(path, now)
