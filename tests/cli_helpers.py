"""Run the real `smtui` command in a subprocess, as cron and support staff do."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from smtui.sandbox.server import RunningSandbox


def run_cli(
    *args: str, db: Path, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("SMTUI_")}
    full_env.update(
        SMTUI_DB=str(db),
        SMTUI_CCMS_TOKEN="ccms-sandbox-token",
        SMTUI_PORTFOLIO_TOKEN="portfolio-sandbox-token",
    )
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "smtui", *args],
        capture_output=True,
        text=True,
        env=full_env,
        stdin=subprocess.DEVNULL,
        timeout=timeout,
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
