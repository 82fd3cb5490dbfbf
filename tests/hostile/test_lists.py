"""List reads a vendor gets wrong: cursors that cycle or never end, ids that repeat, pages
bigger than asked for. Each must end as an incomplete read that says why in one line, and
nothing may be archived from it."""

from __future__ import annotations

import re
from pathlib import Path

from smtui.connectors import PortfolioClient
from smtui.sandbox.server import RunningSandbox
from tests.hostile.conftest import (
    NAME,
    SERVICE,
    Cli,
    line_with,
    linked_child,
    mappings,
    planned_archives,
)


def test_cursors_that_cycle_end_the_read_instead_of_looping(connected: Cli) -> None:
    """A -> B -> A used to make `smtui sync` run forever (only next == current was caught)."""
    connected.hostile.rig("cycle", "ccms/children")
    result = connected("sync", NAME, "--dry-run", timeout=60)
    line_with(
        result,
        "incomplete read: CCMS children: read stopped after",
        "page 3 was refused: its next_cursor leads back to page 2",
    )
    assert planned_archives(result) == []
    assert connected.hostile.requests < 50  # three children pages and the other lists

    refreshed = connected("refresh", NAME, timeout=60)
    line_with(refreshed, "incomplete: CCMS children", "cursors go round in a circle")
    line_with(refreshed, "nothing will be archived or removed from it")


def test_the_portfolio_side_is_read_with_the_same_limits(added: Cli) -> None:
    added.hostile.rig("cycle", "portfolio/rooms")
    result = added("refresh", NAME, timeout=60)
    line_with(result, "incomplete: portfolio rooms: read stopped after", "leads back to page 2")


def test_a_list_that_never_ends_stops_at_the_page_cap(added: Cli) -> None:
    """Fresh cursors forever, no cycle to catch: the page cap ends it (lowered for the test)."""
    added.hostile.rig("endless", "ccms/bookings")
    result = added("refresh", NAME, timeout=60, SMTUI_MAX_PAGES="40")
    line_with(
        result,
        "incomplete: CCMS bookings: read stopped after",
        "the list goes on past the 40-page limit (SMTUI_MAX_PAGES raises it)",
    )
    assert added.hostile.requests < 40 + 10


def test_a_repeated_id_in_a_page_is_not_a_silent_last_copy_wins(
    connected: Cli, tmp_path: Path, sandbox_world: RunningSandbox
) -> None:
    """Two copies of an active, integrated child, the second one "inactive": the old reader
    kept the last copy and planned the child's archive from a read it counted as complete."""
    child = linked_child(connected, tmp_path)
    connected.hostile.rig("duplicate", "ccms/children", target=child, fields={"status": "inactive"})

    dry = connected("sync", NAME, "--dry-run")
    line_with(dry, "incomplete read: CCMS children", f"repeats id {child} (already on this page)")
    assert planned_archives(dry) == []

    run = connected("sync", NAME)
    line_with(run, f"repeats id {child}")
    assert "archive profile" not in run.stdout and "archive_profile" not in run.stdout
    profile = next(row[4] for row in mappings(connected, tmp_path) if row[1] == child)
    with PortfolioClient(
        sandbox_world.portfolio_url(SERVICE), sandbox_world.portfolio_token
    ) as portfolio:
        assert not portfolio.get_profile(profile).archived


def test_a_repeated_id_on_a_later_page_is_caught_too(connected: Cli, tmp_path: Path) -> None:
    child = linked_child(connected, tmp_path)
    connected.hostile.rig(
        "duplicate", "ccms/children", target=child, fields={"status": "inactive"}, page_size=10
    )
    result = connected("sync", NAME, "--dry-run")
    line = line_with(result, "incomplete read: CCMS children", f"repeats id {child}")
    found = re.search(
        r"read stopped after (\d+) records: page (\d+) was refused: it repeats id"
        rf" {child} \(already on page 1\)",
        line,
    )
    assert found, line
    records, page = int(found[1]), int(found[2])
    assert page > 1 and records == (page - 1) * 10  # the pages before it were kept
    assert planned_archives(result) == []


def test_more_items_than_the_limit_is_an_incomplete_read(added: Cli) -> None:
    added.hostile.rig("over_limit", "ccms/children")
    result = added("refresh", NAME)
    line_with(
        result,
        "incomplete: CCMS children: read stopped after 0 records",
        "page 1 was refused: it has 501 items, more than the 500 asked for",
    )
