"""The embedded default: a sandbox in-process and a fresh demo store pointing at it.

`smtui demo` and the screenshot script both start here, so what a new user sees first is what the
screenshots show. Tokens go into 0600 files beside the demo database, so `smtui --db DEMO_DB sync`
from another shell reaches the same sandbox while the demo runs.

The sandbox is an extra (`pip install 'smtui[sandbox]'`): it is imported only when a demo starts,
so the product installs and runs without FastAPI, uvicorn or Faker.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from platformdirs import user_data_dir

from smtui.engine import ServiceConfig, add_service, open_store, refresh, run_sync

if TYPE_CHECKING:
    from smtui.sandbox.server import RunningSandbox
    from smtui.store import Store

# The service the demo connects before the app opens, so history and the log have something.
PRESET_SERVICE = "gumnut-grove"


@dataclass
class Demo:
    store: Store
    sandbox: RunningSandbox
    db_path: Path

    @property
    def today(self) -> dt.date:
        """The sandbox's clock: the app plans as of this date so it agrees with the sandbox."""
        return self.sandbox.world.today

    def stop(self) -> None:
        """Stop the sandbox and close the store (the demo database stays for a look after)."""
        self.sandbox.stop()
        self.store.close()


def _token_file(folder: Path, name: str, token: str) -> str:
    path = folder / f"{name}.token"
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(token)
    return str(path)


def start_demo(
    *,
    seed: int = 7,
    today: dt.date | None = None,
    folder: Path | None = None,
    preset: bool = True,
) -> Demo:
    """Start the sandbox on a free loopback port and a fresh demo store with all its services."""
    from smtui.sandbox.server import start_sandbox

    folder = folder or Path(user_data_dir("smtui")) / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    db_path = folder / "demo.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    sandbox = start_sandbox(seed=seed, today=today)
    ccms_file = _token_file(folder, "ccms", sandbox.ccms_token)
    portfolio_file = _token_file(folder, "portfolio", sandbox.portfolio_token)
    store = open_store(str(db_path))
    world = sandbox.world
    for sid in sandbox.service_ids:
        svc = world.service(sid)
        add_service(
            store,
            ServiceConfig(
                name=sid,
                display_name=svc.name,
                ccms_url=sandbox.ccms_url(sid),
                portfolio_url=sandbox.portfolio_url(sid),
                ccms_token_file=ccms_file,
                portfolio_token_file=portfolio_file,
                timezone=svc.timezone,
            ),
        )
    if preset and PRESET_SERVICE in sandbox.service_ids:
        refresh(store, PRESET_SERVICE)
        run_sync(store, PRESET_SERVICE, setup=True, as_of=world.today, who="demo")
    return Demo(store=store, sandbox=sandbox, db_path=db_path)
