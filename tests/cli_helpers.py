"""Run the real `smtui` command in a subprocess, as cron and support staff do."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from smtui.sandbox.server import RunningSandbox

CHECKOUT = Path(__file__).resolve().parent.parent  # the smtui under test, wherever cwd is


def cli_env(db: Path, **extra: str) -> dict[str, str]:
    """The environment a CLI subprocess runs in: this checkout's smtui, this store, the
    sandbox tokens, and none of the caller's own SMTUI_ settings or config file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMTUI_")}
    env.update(
        PYTHONPATH=os.pathsep.join(filter(None, (str(CHECKOUT), os.environ.get("PYTHONPATH")))),
        SMTUI_DB=str(db),
        SMTUI_CONFIG=str(db.parent / "no-config.toml"),  # absent: the defaults
        SMTUI_CCMS_TOKEN="ccms-sandbox-token",
        SMTUI_PORTFOLIO_TOKEN="portfolio-sandbox-token",
    )
    env.update(extra)
    return env


def run_cli(
    *args: str,
    db: Path,
    env: dict[str, str] | None = None,
    timeout: float = 120,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "smtui", *args],
        capture_output=True,
        text=True,
        env=cli_env(db, **(env or {})),
        stdin=subprocess.DEVNULL,
        timeout=timeout,
        cwd=cwd,
    )


def add_service_args(sandbox: RunningSandbox, service_id: str, timezone: str) -> list[str]:
    return [
        "service",
        "add",
        service_id,
        "--ccms-url",
        sandbox.ccms_url(service_id),
        "--ccms-token-env",
        "SMTUI_CCMS_TOKEN",
        "--portfolio-url",
        sandbox.portfolio_url(service_id),
        "--portfolio-token-env",
        "SMTUI_PORTFOLIO_TOKEN",
        "--timezone",
        timezone,
    ]
