"""The cron path stays light: `smtui sync --all` with nothing due (11 of every 12 hourly runs)
must not import the matcher, the vendor clients, Alembic or Textual (bench/bench_cron.py
measures what it costs). These imports are deferred, not gone, so only a test keeps them so."""

from __future__ import annotations

import ast
import datetime as dt
import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from smtui.store import ServiceConfig, open_store
from smtui.store.migrate import alembic_config, scripts

ROOT = Path(__file__).resolve().parent.parent
#: what only the paths that match, read the vendors, migrate or draw may load
DEFERRED = ("numpy", "rapidfuzz", "httpx", "alembic", "textual", "fastapi", "uvicorn", "faker")

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
    assert not loaded & set(DEFERRED), sorted(loaded & set(DEFERRED))


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
