"""The engine must run where there is no terminal (cron), so it must never need Textual."""

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_hold() -> None:
    """import-linter: nothing outside smtui.tui imports textual or the UI package."""
    result = subprocess.run(
        [sys.executable, "-m", "importlinter.cli", "--config", str(ROOT / "pyproject.toml")],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_layers_contract_makes_no_exceptions() -> None:
    """An import across the layers is fixed in the design (the token shape check moved below
    both tokens and connectors, into records), never listed as an ignored import."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (layers,) = [c for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers"]
    assert layers.get("ignore_imports", []) == []


def test_headless_commands_do_not_load_textual() -> None:
    """`smtui sync` under cron must never build (or even import) the app."""
    code = (
        "import sys, smtui.cli, smtui.engine; "
        "assert 'textual' not in sys.modules, sorted(m for m in sys.modules if 'textual' in m)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_ruff_clean() -> None:
    for args in (["check", "."], ["format", "--check", "."]):
        result = subprocess.run(
            [sys.executable, "-m", "ruff", *args], capture_output=True, text=True, cwd=ROOT
        )
        assert result.returncode == 0, result.stdout + result.stderr


def _loaded_after(code: str) -> set[str]:
    probe = f"import sys\n{code}\nprint(','.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return set(result.stdout.strip().splitlines()[-1].split(","))


def test_the_product_never_loads_the_sandbox_extra() -> None:
    """FastAPI, uvicorn and Faker are the sandbox's: the CLI and demo import them lazily."""
    loaded = _loaded_after("import smtui.cli, smtui.demo, smtui.engine, smtui.config")
    assert not loaded & {"fastapi", "uvicorn", "faker", "starlette"}, loaded


def test_help_loads_no_engine() -> None:
    """Every command imports the engine inside itself, so `smtui --help` is click alone."""
    code = "from smtui.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass"
    loaded = _loaded_after(code)
    heavy = {"sqlalchemy", "sqlmodel", "httpx", "numpy", "rapidfuzz", "alembic", "textual"}
    assert not loaded & heavy, loaded & heavy
