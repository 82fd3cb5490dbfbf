"""The cron path stays light: `smtui sync --all` with nothing due (11 of every 12 hourly runs)
must not import the matcher, the vendor clients, Alembic or Textual (bench/bench_cron.py
measures what it costs). These imports are deferred, not gone, so only a test keeps them so."""

from __future__ import annotations

import ast
import datetime as dt
import importlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from smtui.config import load_settings
from smtui.configfile import database_setting
from smtui.engine.due import surely_nothing_due
from smtui.store import ServiceConfig, open_store
from smtui.store.location import sqlite_file
from smtui.store.migrate import alembic_config
from smtui.store.revisions import scripts

ROOT = Path(__file__).resolve().parent.parent
#: what only the paths that match, read the vendors, migrate or draw may load
DEFERRED = ("numpy", "rapidfuzz", "httpx", "alembic", "textual", "fastapi", "uvicorn", "faker")
#: and what the run that finds nothing due never needs: it asks the file with sqlite3
NOT_WHEN_NOTHING_IS_DUE = ("sqlalchemy", "sqlmodel", "pydantic", "pydantic_settings")

PROBE = """\
import sys
from smtui.cli import main

try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print("exit", code, file=sys.stderr)
print(",".join(sorted({m.split(".")[0] for m in sys.modules})), file=sys.stderr)
"""


def _services(db: Path, *, due: str | None = None) -> None:
    """Three services, set up and synced just now, one of them turned off: none is due, but
    ``due``, which is set up and has never synced."""
    with open_store(str(db)) as store:
        for name in ("kowhai", "rimu", "totara"):
            store.add_service(
                ServiceConfig(
                    name=name,
                    ccms_url=f"http://127.0.0.1:9/ccms/{name}",
                    portfolio_url=f"http://127.0.0.1:9/portfolio/{name}",
                    ccms_token_env="SMTUI_CCMS_TOKEN",
                    portfolio_token_env="SMTUI_PORTFOLIO_TOKEN",
                )
            )
            store.update_service(name, set_up_at=dt.datetime.now(dt.UTC), state="active")
            if name != due:
                run = store.start_run(
                    name, kind="sync", dry_run=False, as_of=None, fingerprint=None, who="cron"
                )
                store.finish_run(run, "ok", {})
        store.update_service("totara", enabled=False)


def _cron(db: Path, tmp_path: Path) -> tuple[str, int, set[str]]:
    """`smtui --db DB sync --all` in a fresh interpreter: its output, its exit code and the
    top-level packages it imported."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMTUI_")}
    env.update(PYTHONPATH=str(ROOT), SMTUI_CONFIG=str(tmp_path / "none.toml"))
    result = subprocess.run(
        [sys.executable, "-c", PROBE, "--db", str(db), "sync", "--all"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
    )
    assert result.returncode == 0, result.stderr  # the probe itself ran to its end
    *_, exit_line, modules = result.stderr.splitlines()
    return result.stdout, int(exit_line.removeprefix("exit ")), set(modules.split(","))


def test_sync_all_with_nothing_due_defers_the_heavy_imports(tmp_path: Path) -> None:
    db = tmp_path / "cron.db"
    _services(db)
    out, code, loaded = _cron(db, tmp_path)
    assert (out, code) == ("No service is due.\n", 0)
    heavy = set(DEFERRED) | set(NOT_WHEN_NOTHING_IS_DUE)
    assert not loaded & heavy, sorted(loaded & heavy)


def test_a_due_service_still_gets_the_whole_sync(tmp_path: Path) -> None:
    """The other side of the test above: with a service due, the run imports the engine's
    sync (the matcher, the vendor clients) and tries the vendors (nothing listens on port 9)."""
    db = tmp_path / "cron.db"
    _services(db, due="rimu")
    out, code, loaded = _cron(db, tmp_path)
    assert out.startswith("rimu: error: ") and code == 1, out
    assert {"numpy", "rapidfuzz", "httpx"} <= loaded, loaded


def test_the_head_revision_is_read_as_alembic_reads_it() -> None:
    """The store skips Alembic when the database is at the head it reads from the scripts'
    lines; that reading must be Alembic's own, or a new migration would never be applied."""
    alembic = ScriptDirectory.from_config(alembic_config())
    assert scripts().heads == set(alembic.get_heads())
    assert scripts().known == {rev.revision for rev in alembic.walk_revisions()}


@pytest.mark.parametrize("package", ["smtui.engine", "smtui.store"])
def test_a_lazy_facade_names_each_export_once_where_it_lives(package: str) -> None:
    """``__all__``, the ``TYPE_CHECKING`` imports that editors and mypy read, and the table the
    lazy lookup uses must list the same names from the same modules, and each name must be the
    object its module defines."""
    module = importlib.import_module(package)
    source = Path(module.__file__ or "").read_text()
    typed: dict[str, str] = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for stmt in node.body:
                assert isinstance(stmt, ast.ImportFrom) and stmt.module
                typed.update({alias.name: stmt.module for alias in stmt.names})
    assert typed == module._HOME
    assert sorted(module.__all__) == sorted(typed)
    for name, home in typed.items():
        assert getattr(module, name) is getattr(importlib.import_module(home), name), name
    with pytest.raises(AttributeError, match="no_such_name"):
        module.no_such_name  # noqa: B018


def test_the_file_and_the_store_agree_on_what_is_due(tmp_path: Path) -> None:
    """The cron path's sqlite3 reading of the file says "nothing due" exactly when the store's
    own query finds nothing, for services due, not yet due, never synced and turned off, at
    times before, at and after each one is due."""
    db = tmp_path / "cron.db"
    _services(db, due="rimu")
    with open_store(str(db)) as store:
        store.update_service("rimu", set_up_at=None)  # not set up: never due
        store.add_service(
            ServiceConfig(
                name="matai",
                ccms_url="http://127.0.0.1:9/ccms/matai",
                portfolio_url="http://127.0.0.1:9/portfolio/matai",
                ccms_token_env="SMTUI_CCMS_TOKEN",
                portfolio_token_env="SMTUI_PORTFOLIO_TOKEN",
            )
        )
        store.update_service("matai", set_up_at=dt.datetime.now(dt.UTC), state="active")
        dues = [store.next_due(n) for n in ("kowhai", "matai")]
        moments = [dt.datetime.now(dt.UTC) + dt.timedelta(hours=h) for h in (-30, 0, 13, 100)]
        moments += [d + dt.timedelta(seconds=s) for d in dues if d for s in (-1, 0, 1)]
        seen = set()
        for now in moments:
            expected = not store.due_services(now)
            seen.add(expected)
            assert surely_nothing_due(str(db), now) is expected, (now, store.due_services(now))
    assert seen == {True, False}  # both answers were tried


def test_anything_unusual_takes_the_full_path(tmp_path: Path) -> None:
    """Only a SQLite store at this smtui's head is read by the cheap path; anything else gets
    the full one, which migrates it, reports it or opens the right database."""
    db = tmp_path / "cron.db"
    _services(db)
    assert surely_nothing_due(str(db))
    assert not surely_nothing_due(str(tmp_path / "missing.db"))
    assert not surely_nothing_due("postgresql+psycopg://smtui@127.0.0.1:5432/smtui")
    assert not surely_nothing_due(f"sqlite:///{db}?timeout=1")
    assert sqlite_file(f"sqlite:///{db}") == db
    with sqlite3.connect(db) as conn:  # an older schema: the full path migrates it
        conn.execute("UPDATE alembic_version SET version_num = '0001'")
    assert not surely_nothing_due(str(db))
    (tmp_path / "junk.db").write_bytes(b"not a database" * 100)
    assert not surely_nothing_due(str(tmp_path / "junk.db"))


@pytest.mark.parametrize(
    ("flag", "env", "file"),
    [
        (None, None, None),
        ("/x/flag.db", "/x/env.db", "/x/file.db"),
        (None, "/x/env.db", "/x/file.db"),
        (None, None, "/x/file.db"),
        (None, "", "/x/file.db"),
        (None, "postgresql+psycopg://u@h/db", None),
    ],
)
def test_the_cheap_path_finds_the_database_the_settings_name(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    flag: str | None,
    env: str | None,
    file: str | None,
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'db = "{file}"\n' if file else "")
    monkeypatch.setenv("SMTUI_CONFIG", str(config))
    if env is None:
        monkeypatch.delenv("SMTUI_DB", raising=False)
    else:
        monkeypatch.setenv("SMTUI_DB", env)
    settings, _ = load_settings(flag)
    assert database_setting(flag) == settings.db
