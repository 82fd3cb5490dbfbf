"""`smtui setup` and `smtui mapping ...`: connect a service headless and decide its mappings."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from smtui.cli.common import (
    AS_OF,
    Ctx,
    child_id,
    counts_text,
    echo,
    fail,
    friendly,
    pass_ctx,
    run_exit_code,
    safe,
    write_csv,
)


@click.command()
@click.argument("name")
@click.option(
    "--accept-proposals",
    is_flag=True,
    help="Connect now with the confident links and creates; leave reviews undecided.",
)
@AS_OF
@pass_ctx
@friendly
def setup(ctx: Ctx, name: str, accept_proposals: bool, as_of: dt.date | None) -> None:
    """Set up a service headless: read both sides, auto-map, print what needs review."""
    from smtui import engine
    from smtui.engine.mapping import review_groups

    cfg = engine.service_config(ctx.store, name)
    if cfg.set_up_at is not None:
        fail(f"{name} is already set up: use `smtui sync {name}` or `smtui mapping`")
    engine.refresh(ctx.store, name, progress=lambda line: echo(line, err=True))
    rows = engine.child_rows(ctx.store, name, as_of=as_of)
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.action] = counts.get(r.action, 0) + 1
    echo("Proposals: " + ", ".join(f"{n} {a}" for a, n in sorted(counts.items())))
    reviews = [r for r in rows if r.action == "review"]
    by_id = {r.child_id: r for r in reviews}
    # the groups of the app's review list (g), in its order: a group is decided together
    for group in review_groups(rows):
        echo(f"  {group.label}: {len(group.child_ids)}")
        for r in (by_id[cid] for cid in group.child_ids):
            echo(
                safe(
                    f"    review {r.child_id:10} {r.name} -> {r.profile_name or '-'} "
                    f"({r.profile_id or '-'}): {r.reason}"
                )
            )
    check = engine.check_mapping(ctx.store, name)
    for problem in check.problems:
        echo(safe(f"  problem: {problem}"))
    preview = engine.preview(ctx.store, name, as_of=as_of)
    echo("Connecting now would: " + (counts_text(preview.counts) or "change nothing"))
    for label in (*preview.relinks, *preview.archives, *preview.room_removals, *preview.held):
        echo(safe(f"  {label}"))
    for warning in preview.warnings:
        echo(safe(f"  warning: {warning}"))
    if not accept_proposals:
        echo(
            f"Decide with `smtui mapping set {name} CHILD link:PROFILE|create|ignore`, "
            f"then `smtui setup {name} --accept-proposals` (or use the UI)."
        )
        return
    if check.problems:
        fail("fix the problems above before connecting")
    result = engine.run_sync(ctx.store, name, setup=True, as_of=as_of)
    echo(f"{name}: set up ({result.run.result}): {counts_text(result.run.counts)}")
    if reviews:
        echo(f"{len(reviews)} children still need review; they were not added.")
    sys.exit(run_exit_code(result.run.result))


@click.group()
def mapping() -> None:
    """Set, export and import child and room mappings."""


def _parse_action(value: str, extra: tuple[str, ...] = ()) -> tuple[str, str | None]:
    action, _, target = value.partition(":")
    allowed = ("link", "create", "ignore", *extra)
    if action not in allowed or (action == "link") != bool(target):
        fail(f"action {value!r} is not one of link:ID, {', '.join(allowed[1:])}")
    return action, target or None


@mapping.command("set")
@click.argument("name")
@click.argument("child")
@click.argument("action", metavar="link:PROFILE|create|ignore")
@click.option(
    "--force",
    is_flag=True,
    help="Link to a profile that carries another CCMS child's id (a re-enrolled child).",
)
@pass_ctx
@friendly
def mapping_set(ctx: Ctx, name: str, child: str, action: str, force: bool) -> None:
    """Decide for one CCMS child."""
    from smtui import engine

    kind, target = _parse_action(action)
    cid = child_id(ctx, name, child)
    if kind == "link" and target is not None:
        conflict = engine.link_conflict(ctx.store, name, cid, target)
        if conflict is not None and not (force and conflict[1]):
            message, forceable = conflict
            fix = (
                "add --force if it really is this child"
                if forceable
                else "link that child elsewhere first"
            )
            fail(f"{safe(message)}: {fix}; nothing changed")
    engine.set_children(ctx.store, name, [cid], kind, profile_id=target, who=engine.who_am_i())
    echo(f"{name}: child {child} -> {action}")


@mapping.command("room")
@click.argument("name")
@click.argument("room")
@click.argument("action", metavar="link:PORTFOLIO_ROOM|create|ignore|relink")
@pass_ctx
@friendly
def mapping_room(ctx: Ctx, name: str, room: str, action: str) -> None:
    """Decide for one CCMS room (ignore = unlink, e.g. over a holiday closure: the sync never
    touches it; relink links it again to the portfolio room it had)."""
    from smtui import engine

    kind, target = _parse_action(action, ("relink",))
    engine.set_rooms(ctx.store, name, [room], kind, portfolio_room_id=target, who=engine.who_am_i())
    echo(f"{name}: room {room} -> {action}")


@mapping.command("export")
@click.argument("name")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@pass_ctx
@friendly
def mapping_export(ctx: Ctx, name: str, file: Path) -> None:
    """Write every child and room mapping to a CSV for bulk edits."""
    from smtui import engine

    rows = engine.export_mappings(ctx.store, name)
    write_csv(file, list(engine.MAPPING_COLUMNS), [list(r) for r in rows])
    echo(f"{len(rows)} mappings -> {file}")


@mapping.command("import")
@click.argument("name")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_ctx
@friendly
def mapping_import(ctx: Ctx, name: str, file: Path) -> None:
    """Apply a CSV edited from `mapping export`; all rows are checked before any is written."""
    from smtui import engine

    changed = engine.import_mappings(ctx.store, name, file, who=engine.who_am_i())
    echo(f"{changed} mappings changed from {file}")
