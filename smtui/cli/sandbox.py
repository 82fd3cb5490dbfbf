"""`smtui demo` and `smtui sandbox`: the only commands that reach the sandbox, an extra
(`pip install 'smtui[sandbox]'`) the product itself does not need."""

from __future__ import annotations

import datetime as dt

import click

from smtui.cli.common import fail, friendly, has_terminal

INSTALL_HINT = "pip install 'smtui[sandbox]'"


def require_sandbox(command: str) -> None:
    """Fail in one line, saying how to install it, when the sandbox extra is missing (these
    commands import it next anyway, so importing it here costs nothing extra)."""
    try:
        import faker  # noqa: F401
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        fail(f"`smtui {command}` needs the sandbox extra ({exc.name} is missing): {INSTALL_HINT}")


@click.command()
@click.option("--seed", default=7, show_default=True, help="Seed of the sandbox's world.")
def demo(seed: int) -> None:
    """Open the UI on a fresh demo database against an in-process sandbox."""
    require_sandbox("demo")
    if not has_terminal():
        fail(
            "`smtui demo` opens the terminal UI and needs a terminal; use `smtui sandbox` "
            "and `smtui sync` without one"
        )
    from smtui.tui.app import run_demo

    run_demo(seed=seed)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8700, show_default=True, help="Port (0 picks a free one).")
@click.option("--seed", default=7, show_default=True, help="Seed: same seed, same world.")
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), help="Date the world is built around.")
@friendly
def sandbox(host: str, port: int, seed: int, today: dt.datetime | None) -> None:
    """Serve both vendor APIs (CCMS and portfolio) with seeded data, for demos and tests."""
    require_sandbox("sandbox")
    from smtui.sandbox.server import serve

    try:
        serve(host=host, port=port, seed=seed, today=today.date() if today else None)
    except OSError as exc:
        fail(f"cannot serve on {host}:{port}: {exc.strerror or exc}; try another --port")
