"""`smtui service ...`: add, list, show, set, unlock and remove services."""

from __future__ import annotations

from typing import Any

import click

from smtui.cli.common import (
    JSON,
    Ctx,
    as_dict,
    echo,
    emit_json,
    fail,
    friendly,
    pass_ctx,
    print_table,
    safe,
    warn,
    when,
)


@click.group()
def service() -> None:
    """Add, list, show and remove services."""


@service.command("add")
@click.argument("name")
@click.option("--ccms-url", required=True, help="CCMS base URL of this service.")
@click.option("--portfolio-url", required=True, help="Portfolio base URL of this service.")
@click.option(
    "--ccms-token-env", metavar="VAR", help="Environment variable holding the CCMS token."
)
@click.option("--ccms-token-file", metavar="PATH", help="File (mode 0600) holding the CCMS token.")
@click.option("--portfolio-token-env", metavar="VAR", help="Env var holding the portfolio token.")
@click.option(
    "--portfolio-token-file", metavar="PATH", help="File (0600) with the portfolio token."
)
@click.option("--timezone", help="IANA timezone (default: the config's, Australia/Sydney).")
@click.option("--interval", "interval_hours", default=12.0, show_default=True, help="Hours.")
@pass_ctx
@friendly
def service_add(ctx: Ctx, name: str, timezone: str | None, **opts: Any) -> None:
    """Add a service. Tokens are never stored: only where to find them."""
    from smtui import engine

    tz = timezone or ctx.settings.timezone
    cfg = engine.add_service(ctx.store, engine.ServiceConfig(name=name, timezone=tz, **opts))
    for warning in engine.token_warnings(cfg):
        warn(warning)
    echo(f"Added {cfg.name}. Next: smtui refresh {cfg.name}")


@service.command("list")
@JSON
@pass_ctx
@friendly
def service_list(ctx: Ctx, as_json: bool) -> None:
    """List services with their state and last sync."""
    from smtui import engine

    rows = engine.service_summaries(ctx.store)
    if as_json:
        emit_json([as_dict(r) for r in rows])
        return
    if not rows:
        echo("No services yet: add one with `smtui service add`.")
        return
    table: list[tuple[str, ...]] = [
        ("SERVICE", "STATE", "CHILDREN", "LAST SYNC", "RESULT", "NEXT DUE")
    ]
    for r in rows:
        table.append(
            (
                r.name,
                r.state,
                str(r.integrated_children),
                when(r.last_sync_at),
                r.last_result or "-",
                when(r.next_due),
            )
        )
    print_table(table)


@service.command("show")
@click.argument("name")
@JSON
@pass_ctx
@friendly
def service_show(ctx: Ctx, name: str, as_json: bool) -> None:
    """Show one service's settings (token sources, never tokens)."""
    from smtui import engine

    cfg, summary = engine.service_config(ctx.store, name), engine.service_summary(ctx.store, name)
    if as_json:
        emit_json({"settings": as_dict(cfg), "summary": as_dict(summary)})
        return
    for key, value in as_dict(cfg).items():
        if value is not None and key != "state":  # the summary's state says more
            echo(f"{key:28} {value}")
    echo(f"{'state':28} {summary.state}")
    echo(f"{'integrated children':28} {summary.integrated_children}")
    echo(f"{'next due':28} {when(summary.next_due)}")


@service.command("set")
@click.argument("name")
@click.option("--interval", "interval_hours", type=float, help="Hours between syncs.")
@click.option("--timezone", help="IANA timezone, e.g. Pacific/Auckland.")
@click.option(
    "--max-archive-pct",
    "max_archive_children_pct",
    type=float,
    help="Hold archives above this % of integrated children (default 10).",
)
@click.option(
    "--max-archive-min",
    "max_archive_children_min",
    type=int,
    help="...but always allow this many (default 3).",
)
@click.option(
    "--max-remove-rooms-pct",
    "max_remove_rooms_pct",
    type=float,
    help="Hold room removals above this % of managed rooms (default 25).",
)
@click.option(
    "--max-remove-rooms-min",
    "max_remove_rooms_min",
    type=int,
    help="...but always allow this many (default 2).",
)
@click.option(
    "--hold-window-days",
    "hold_window_days",
    type=float,
    help="The holds count archives and removals over this many days (default 7).",
)
@click.option(
    "--suspicious-drop-pct",
    "suspicious_drop_pct",
    type=float,
    help="Hold every archive when the CCMS lists this % fewer children than are integrated "
    "(default 50).",
)
@click.option("--on/--off", "enabled", default=None, help="Turn the integration on or off.")
@click.option("--purge", is_flag=True, help="With --off: also delete cached personal data.")
@click.option("--ccms-url", help="New CCMS base URL (mappings and history are kept).")
@click.option("--portfolio-url", help="New portfolio base URL (mappings and history are kept).")
@click.option("--ccms-token-env", metavar="VAR", help="Read the CCMS token from this env var.")
@click.option("--ccms-token-file", metavar="PATH", help="Read the CCMS token from this file.")
@click.option("--portfolio-token-env", metavar="VAR", help="Portfolio token from this env var.")
@click.option("--portfolio-token-file", metavar="PATH", help="Portfolio token from this file.")
@pass_ctx
@friendly
def service_set(ctx: Ctx, name: str, enabled: bool | None, purge: bool, **fields: Any) -> None:
    """Change a service's interval, timezone, thresholds, URLs or token sources; turn it on/off."""
    from smtui import engine

    changes = {k: v for k, v in fields.items() if v is not None}
    if purge and enabled is not False:
        fail("--purge goes with --off")
    for system in ("ccms", "portfolio"):  # two flags for one source: a usage error, not a rule
        if f"{system}_token_env" in changes and f"{system}_token_file" in changes:
            fail(f"give one of --{system}-token-env or --{system}-token-file, not both")
    if not changes and enabled is None:
        fail("nothing to change: see `smtui service set --help`")
    if changes:
        cfg = engine.update_settings(ctx.store, name, **changes)
        if any("token" in k for k in changes):
            for warning in engine.token_warnings(cfg):
                warn(warning)
    if enabled is True:
        engine.turn_on(ctx.store, name)
    elif enabled is False:
        engine.turn_off(ctx.store, name, purge=purge)
    echo(f"{name}: updated")


@service.command("unlock")
@click.argument("name")
@pass_ctx
@friendly
def service_unlock(ctx: Ctx, name: str) -> None:
    """Free a service whose sync run is gone (killed, or its host down), saying who held it.

    A run that is in fact still alive notices at its next lease renewal and stops.
    """
    from smtui import engine

    holder = engine.unlock(ctx.store, name)
    if holder is None:
        echo(f"{name}: not locked")
        return
    echo(safe(f"{name}: unlocked; it was held by {holder.describe().split(' by ', 1)[1]}"))


@service.command("remove")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_ctx
@friendly
def service_remove(ctx: Ctx, name: str, yes: bool) -> None:
    """Forget a service and everything cached about it (the vendor systems are untouched)."""
    from smtui import engine

    engine.service_config(ctx.store, name)  # an unknown name fails before the question
    if not yes and not click.confirm(f"Remove {name} and all its cached data and history?"):
        fail("nothing removed")
    engine.remove_service(ctx.store, name)
    echo(f"Removed {name}.")
