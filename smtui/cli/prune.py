"""`smtui prune`: delete old finished runs and their journal (retention, docs/operations.md)."""

from __future__ import annotations

import click

from smtui.cli.common import Ctx, echo, friendly, pass_ctx
from smtui.engine.retention import KEEP_DAYS, prune_old


@click.command()
@click.option(
    "--older-than",
    "days",
    type=click.IntRange(1, None),
    default=KEEP_DAYS,
    show_default=True,
    help="Delete runs that finished more than this many days ago.",
)
@click.option("--dry-run", is_flag=True, help="Count what would be deleted; delete nothing.")
@pass_ctx
@friendly
def prune(ctx: Ctx, days: int, dry_run: bool) -> None:
    """Delete finished runs older than DAYS and their journal ops, keeping each service's last
    successful run and anything an unfinished or held run, or a create's key, still needs."""
    runs, ops = prune_old(ctx.store, days, dry_run=dry_run)
    verb = "would delete" if dry_run else "deleted"
    echo(f"{verb} {runs} run(s) and {ops} journal op(s) finished more than {days} day(s) ago")
