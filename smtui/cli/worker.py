"""`smtui worker`: sync due services from a PostgreSQL task queue (many machines, one database)."""

from __future__ import annotations

import click

from smtui.cli.common import Ctx, echo, fail, friendly, pass_ctx, safe


@click.command()
@click.option("--once", is_flag=True, help="Queue what is due, work the queue empty, exit.")
@click.option("--concurrency", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Services this worker syncs at once.")  # fmt: skip
@pass_ctx
@friendly
def worker(ctx: Ctx, once: bool, concurrency: int) -> None:
    """Sync due services as a procrastinate worker (PostgreSQL only; on SQLite cron runs
    `smtui sync --all`). Run one per machine, e.g. under systemd: docs/postgres.md."""
    url = ctx.settings.db or ""
    if not url.startswith("postgresql"):
        fail(
            "smtui worker needs a PostgreSQL store (--db or SMTUI_DB postgresql+psycopg://…); "
            "with SQLite, run `smtui sync --all` from cron"
        )
    try:
        from smtui import worker as queue
    except ImportError:
        fail("smtui worker needs procrastinate and psycopg: pip install 'smtui[worker]'")
    if not once:
        queue.run_forever(url, concurrency=concurrency)
        return
    report = queue.run_once(url, concurrency=concurrency)
    echo(f"queued {len(report.queued)} due service(s)")
    for name, outcome in sorted(report.outcomes.items()):
        echo(safe(f"  {name}: {outcome}"))
