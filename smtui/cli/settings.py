"""`smtui config show`: the installation's settings and where each came from."""

from __future__ import annotations

import click

from smtui.cli.common import JSON, Ctx, echo, emit_json, pass_ctx


@click.group()
def config() -> None:
    """Show the settings (config file, SMTUI_ variables, --db)."""


@config.command("show")
@JSON
@pass_ctx
def config_show(ctx: Ctx, as_json: bool) -> None:
    """Print each setting, its value and where it came from (default, file, env or --db)."""
    from smtui.config import config_path

    settings, sources = ctx.settings_with_sources()
    values = settings.model_dump()
    if as_json:
        emit_json(
            {
                "file": str(config_path()),
                "settings": {k: {"value": v, "source": sources[k]} for k, v in values.items()},
            }
        )
        return
    path = config_path()
    echo(f"{'config file':12} {path}" + ("" if path.exists() else " (none)"))
    for key, value in values.items():
        if key == "db" and value is None:
            from smtui.store.location import default_path

            value = str(default_path())
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items()) or "-"
        echo(f"{key:12} {value}  ({sources[key]})")
