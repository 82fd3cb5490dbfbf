"""Where the store is, in the standard library alone (the cron path reads it before it knows
whether SQLAlchemy is needed at all)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

import platformdirs

DEFAULT_FILENAME = "smtui.db"


def default_path() -> Path:
    """``smtui.db`` in the user data directory: the store when nothing names another."""
    return Path(platformdirs.user_data_dir("smtui")) / DEFAULT_FILENAME


def sqlite_file(value: str | None) -> Path | None:
    """The SQLite file a --db / SMTUI_DB value names (the default file for none), or None when
    it names another kind of database, or a SQLite URL with options this reader would ignore."""
    if not value:
        return default_path()
    if "://" not in value:
        return Path(value).expanduser()
    for prefix in ("sqlite:///", "sqlite+pysqlite:///"):
        if value.startswith(prefix) and "?" not in value:
            rest = unquote(value[len(prefix) :])
            return Path(rest) if rest and rest != ":memory:" else None
    return None
