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
    Dates are YYYY-MM-DD and may be empty. Output columns:
    source_id,action,target_id,score,reason (action: link, review or create).
    """
    # the matcher itself (no engine call: nothing here touches a store or a vendor system)
    from smtui.match import match_children
    from smtui.match.csvio import read_children_csv, read_profiles_csv, write_proposals_csv

    proposals = match_children(read_children_csv(source), read_profiles_csv(target))
    if out is None:
        write_proposals_csv(proposals, sys.stdout)
        return
    with out.open("w", newline="", encoding="utf-8") as fh:
        write_proposals_csv(proposals, fh)
    counts: dict[str, int] = {}
    for p in proposals:
        counts[p.action] = counts.get(p.action, 0) + 1
    echo(", ".join(f"{n} {a}" for a, n in sorted(counts.items())) + f" -> {out}", err=True)
