"""`smtui match`: the matcher on two CSV files, with no store and no vendor system."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from smtui.cli.common import echo, friendly


@click.command()
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write CSV here.")
@friendly
def match(source: Path, target: Path, out: Path | None) -> None:
    """Match children in SOURCE.csv to profiles in TARGET.csv; print proposals as CSV.

    \b
    SOURCE columns: id,first_name,last_name,preferred_name,birth_date
    TARGET columns: id,first_name,last_name,birth_date
    Both may add rooms and guardian_emails columns (several separated by ;):
    a shared guardian email with an agreeing name links without asking.
    Dates are YYYY-MM-DD and may be empty. Output columns:
    source_id,action,target_id,score,reason (action: link, review or create).
    """
    from smtui.engine.matching import match_csv

    counts = match_csv(source, target, sys.stdout if out is None else out)
    if out is not None:
        echo(", ".join(f"{n} {a}" for a, n in counts.items()) + f" -> {out}", err=True)
