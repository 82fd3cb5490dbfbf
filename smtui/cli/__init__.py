"""The headless front end: what cron, scripts and support staff without a screen run.

Every command is a thin call into ``smtui.engine``, one module per command group; the shared
plumbing (exit codes, one-line errors, the lazily opened store, output) is in
``smtui.cli.common``. Output for the user goes to stdout, diagnostics to stderr; user errors
are one line and a non-zero exit, never a traceback. Engine modules are imported inside the
commands, so `smtui --help` and a cron run with nothing due stay cheap.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from smtui.cli.common import EXIT_ERROR, EXIT_OK, Ctx, fail, has_terminal
from smtui.cli.match import match
from smtui.cli.reports import explain, invitations, log
from smtui.cli.sandbox import demo, sandbox
from smtui.cli.services import service
from smtui.cli.settings import config
from smtui.cli.setup import mapping, setup
from smtui.cli.sync import refresh, sync
from smtui.cli.worker import worker

__all__ = ["main"]


class SmtuiGroup(click.Group):
    """Usage errors exit 1, not click's 2: scripts read 2 as "dry run found changes"."""

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
        from smtui.tui.app import run_app

        run_app(ctx.obj.store)


for _command in (
    service, refresh, sync, setup, mapping, explain, log, invitations, match, demo, sandbox, config,
    worker,
):  # fmt: skip
    main.add_command(_command)
