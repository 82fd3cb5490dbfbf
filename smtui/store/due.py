"""Whether anything is due, answered from the file alone: the hourly cron run's cheap path.

Cron starts ``smtui sync --all`` every hour and 11 runs of 12 find nothing due. Importing
SQLAlchemy, SQLModel and pydantic to learn that costs most of a second of CPU, so for a SQLite
store this module asks the file with the standard library's ``sqlite3``, read-only, and says
"nothing is due" only when it is sure: the file exists, its schema is at this smtui's head and
the due query finds nothing. Anything else (no file, another schema, another database, any
error) is "not sure" and the CLI takes the full path, which migrates, reports and syncs.

:data:`DUE_QUERY` is the one definition of "due" (``Store.due_services`` runs the same text),
so the two paths cannot disagree.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

from smtui.store.revisions import VERSION_TABLE, scripts

#: enabled, set-up services whose next due time has come, most overdue first
DUE_QUERY = (
    "SELECT name FROM service WHERE enabled AND set_up_at IS NOT NULL AND next_due_at <= :now "
    "ORDER BY next_due_at, name"
)

# How SQLAlchemy's SQLite DateTime stores a value (the store keeps UTC, naive): text that
# sorts as the time does, so the comparison in DUE_QUERY is a string comparison.
_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"


def surely_nothing_due(path: Path, now: dt.datetime | None = None) -> bool:
    """True only when the SQLite store at ``path`` is at head and has nothing due by ``now``."""
    if not path.is_file():
        return False
    when = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(tzinfo=None)
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error:
        return False
    try:
        revisions = {r for (r,) in conn.execute(f"SELECT version_num FROM {VERSION_TABLE}")}
        if not revisions or revisions != scripts().heads:
            return False
        due = conn.execute(DUE_QUERY, {"now": when.strftime(_SQLITE_TIME)}).fetchone()
    except sqlite3.Error:
        return False
    finally:
        conn.close()
    return due is None
