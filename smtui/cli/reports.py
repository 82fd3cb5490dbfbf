"""`smtui explain`, `smtui log` and `smtui invitations`: read-only reports from the store."""

from __future__ import annotations

import datetime as dt

import click

from smtui.cli.common import (
    AS_OF,
    JSON,
    Ctx,
    as_dict,
    child_id,
    counts_text,
    echo,
    emit_json,
    friendly,
    pass_ctx,
    print_table,
    read_note,
    safe,
    when,
)


@click.command()
@click.argument("name")
@click.argument("child")
@AS_OF
@pass_ctx
@friendly
def explain(ctx: Ctx, name: str, child: str, as_of: dt.date | None) -> None:
    """Why a child is in its rooms, why archived, and what the next sync will do."""
    from smtui import engine

    for line in engine.explain(ctx.store, name, child_id(ctx, name, child), as_of=as_of):
        echo(safe(line))
    echo(read_note(ctx, name))


@click.command()
@click.argument("name")
@click.option("--run", "run_id", type=int, help="Show the operations of this run.")
@click.option("--limit", default=20, show_default=True)
@JSON
@pass_ctx
@friendly
def log(ctx: Ctx, name: str, run_id: int | None, limit: int, as_json: bool) -> None:
    """Past sync runs of a service, or one run's operations."""
    from smtui import engine

    if run_id is None:
        runs = engine.runs(ctx.store, name, limit=limit)
        if as_json:
            emit_json([as_dict(r) for r in runs])
            return
        rows: list[tuple[str, ...]] = [("RUN", "KIND", "STARTED", "RESULT", "WHO", "CHANGES")]
        for r in runs:
            rows.append(
                (
                    str(r.run_id),
                    r.kind,
                    when(r.started_at),
                    r.result,
                    r.who,
                    counts_text(r.counts) or r.message or "-",
                )
            )
        print_table(rows)
        return
    events = engine.run_events(ctx.store, run_id, service=name)
    if as_json:
        emit_json([as_dict(ev) for ev in events])
        return
    for ev in events:
        echo(safe(f"{ev.state:9} {ev.kind:18} {ev.label}" + (f": {ev.error}" if ev.error else "")))


@click.command()
@click.argument("name")
@JSON
@pass_ctx
@friendly
def invitations(ctx: Ctx, name: str, as_json: bool) -> None:
    """Integrated children whose families have no invitation yet (smtui never sends one)."""
    from smtui import engine

    missing = engine.uninvited(ctx.store, name)
    if as_json:
        emit_json(
            {
                "service": name,
                "read_at": engine.read_at(ctx.store, name),
                "uninvited": [{"name": n, "profile_id": p} for n, p in missing],
            }
        )
        return
    echo(
        f"{len(missing)} integrated children have no invitation yet. smtui never sends "
        "invitations: send them from the portfolio app."
    )
    for child_name, profile_id in missing:
        echo(f"  {profile_id:10} {safe(child_name)}")
    echo(read_note(ctx, name))
