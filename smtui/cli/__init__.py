"""The headless front end: what cron, scripts and support staff without a screen run.

Every command is a thin call into ``smtui.engine``, one module per command group; the shared
plumbing (exit codes, one-line errors, the lazily opened store, output) is in
``smtui.cli.common``. Output for the user goes to stdout, diagnostics to stderr; user errors
are one line and a non-zero exit, never a traceback. Engine modules are imported inside the
commands, and each command's module only when that command runs (or ``--help`` lists it), so
`smtui --help` and a cron run with nothing due stay cheap.
"""

from __future__ import annotations

import os
import sys
from importlib import import_module
from typing import TYPE_CHECKING, Any

import click

from smtui.cli.common import EXIT_ERROR, EXIT_OK, Ctx, fail, has_terminal

if TYPE_CHECKING:
    from smtui.tui.app import SmtuiApp

__all__ = ["configured_app", "main"]

#: each command and the module of ``smtui.cli`` that defines it (under the command's own name)
COMMANDS = {
    "config": "settings",
    "demo": "sandbox",
    "explain": "reports",
    "invitations": "reports",
    "log": "reports",
    "mapping": "setup",
    "match": "match",
    "prune": "prune",
    "refresh": "sync",
    "sandbox": "sandbox",
    "service": "services",
    "setup": "setup",
    "sync": "sync",
    "worker": "worker",
}


class SmtuiGroup(click.Group):
    """Commands are imported when used; usage errors exit 1, not click's 2: scripts read 2 as
    "dry run found changes"."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMANDS.get(cmd_name)
        if module is None:
            return None
        command: click.Command = getattr(import_module(f"{__name__}.{module}"), cmd_name)
        return command

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            code = super().main(*args, **kwargs)
        except click.ClickException as exc:
            exc.show()
            sys.exit(EXIT_ERROR)
        except click.exceptions.Abort:
            fail("aborted")
        except BrokenPipeError:
            # click's own output (help) to a reader that went away; our output goes through
            # echo and never gets here. Keep Python quiet when it flushes stdout on the way out
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(EXIT_OK)
        sys.exit(code if isinstance(code, int) else EXIT_OK)


@click.group(
    cls=SmtuiGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option(
    "--db",
    envvar="SMTUI_DB",
    metavar="PATH|URL",
    help="Store location: a SQLite path or SQLAlchemy URL (env SMTUI_DB, or `db` in the "
    "config file).",
)
@click.version_option(package_name="smtui")
@click.pass_context
def main(ctx: click.Context, db: str | None) -> None:
    """Keep Storypark portfolios in step with Storypark Manage.

    Run without a command to open the terminal UI on the configured store.
    """
    from click.core import ParameterSource

    # SMTUI_DB reaches the settings as an env value; only a --db typed here is "--db"
    given = db if ctx.get_parameter_source("db") is ParameterSource.COMMANDLINE else None
    ctx.obj = Ctx(given)
    if ctx.invoked_subcommand is None:
        if not has_terminal():
            fail("the terminal UI needs a terminal; from cron or a script use `smtui sync --all`")
        configured_app(ctx.obj).run()


def configured_app(ctx: Ctx) -> SmtuiApp:
    """The app on the configured store with the config's keymap and theme: what `smtui` opens
    (tests/test_config.py drives the same app). An unknown theme is one line, not a traceback."""
    from smtui.config import config_path
    from smtui.tui.app import UnknownTheme, build_app, set_theme

    settings, sources = ctx.settings_with_sources()
    app = build_app(ctx.store, keymap=settings.keymap)
    try:
        set_theme(app, settings.theme)
    except UnknownTheme as known:
        where = "SMTUI_THEME" if sources["theme"] == "env" else str(config_path())
        fail(f"{where}: theme {settings.theme!r} is not a Textual theme (known: {known})")
    return app
