"""Which schema revisions this smtui has, read from the migration scripts without Alembic.

Both the store's schema check (``migrate``) and the cron path's look at the file (``due``)
need the head revision; neither may pay for importing Alembic or SQLAlchemy to learn it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
VERSIONS_DIR = MIGRATIONS_DIR / "versions"
VERSION_TABLE = "alembic_version"  # Alembic's default, which env.py keeps

# `revision: str = "0005"` and `down_revision: str | None = "0003"` (or None, or a tuple of
# ids for a merge), as `alembic revision` writes them
_REVISION = re.compile(r"^revision(?:\s*:[^=\n]*)?\s*=\s*['\"]([^'\"]+)['\"]", re.M)
_DOWN_REVISION = re.compile(r"^down_revision(?:\s*:[^=\n]*)?\s*=(.*)$", re.M)
_QUOTED = re.compile(r"['\"]([^'\"]+)['\"]")


@dataclass(frozen=True)
class Scripts:
    """The revisions of the scripts in ``versions/``: all of them, and the head(s)."""

    known: frozenset[str]
    heads: frozenset[str]


@cache
def scripts() -> Scripts:
    """Read from the scripts' own ``revision``/``down_revision`` lines, without importing
    Alembic: a head is a revision no other script names as its ``down_revision``.
    tests/test_cron_path.py checks both sets against Alembic's own reading of the directory."""
    known: set[str] = set()
    parents: set[str] = set()
    for script in VERSIONS_DIR.glob("*.py"):
        source = script.read_text(encoding="utf-8")
        revision = _REVISION.search(source)
        if revision is None:
            continue  # __init__.py
        known.add(revision.group(1))
        down = _DOWN_REVISION.search(source)
        parents.update(_QUOTED.findall(down.group(1)) if down else ())
    return Scripts(frozenset(known), frozenset(known - parents))
