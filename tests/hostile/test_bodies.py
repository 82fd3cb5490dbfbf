"""Responses a vendor gets wrong: too big, too slow, not JSON, sent elsewhere, fields too long
or holding NUL bytes. What the user sees is one line naming the problem; what the store keeps
is never the bad data."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.hostile.conftest import NAME, Cli, line_with, linked_child, mappings, planned_archives
from tests.hostile.server import Recorder

MiB = 1024 * 1024


@pytest.mark.parametrize("declare", [True, False], ids=["content-length", "until-close"])
def test_a_100_mb_response_is_abandoned_at_the_body_cap(added: Cli, declare: bool) -> None:
    """Announced or not, the body is read only up to the 32 MiB cap, never whole."""
    added.hostile.rig("huge", "ccms/children", size=100 * MiB, declare=declare)
    result = added("refresh", NAME)
    line_with(
        result,
        "incomplete: CCMS children: read stopped after 0 records: page 1 was refused:",
        "the response is larger than the 32 MiB limit",
    )
    [sent] = added.hostile.sent
    # The client hung up; what is in flight is at most the cap plus the sockets' buffers.
    assert sent < 32 * MiB + 16 * MiB, sent
    assert b"A" * 1000 not in added.stored_bytes()


def test_the_body_cap_can_be_set_for_one_run(added: Cli) -> None:
    added.hostile.rig("huge", "ccms/children", size=5 * MiB, declare=False)
    result = added("refresh", NAME, SMTUI_MAX_BODY_BYTES=str(MiB))
    line_with(result, "page 1 was refused: the response is larger than the 1 MiB limit")
    bad = added("refresh", NAME, SMTUI_MAX_BODY_BYTES="lots")
    line_with(bad, "SMTUI_MAX_BODY_BYTES must be a whole number")


def test_a_5_mb_name_makes_the_read_incomplete_and_is_never_stored(
    connected: Cli, tmp_path: Path
) -> None:
    child = linked_child(connected, tmp_path)
    connected.hostile.rig(
        "override", "ccms/children", target=child, fields={"first_name": "A" * 5_000_000}
    )
    result = connected("sync", NAME, "--dry-run")
    line_with(
        result,
        "incomplete read: CCMS children: read stopped after 0 records: page 1 was malformed:",
        f"(id {child}).first_name: 5,000,000 characters, over the 200-character limit",
    )
    assert planned_archives(result) == []
    assert b"A" * 1000 not in connected.stored_bytes()


def test_nul_bytes_are_dropped_from_names(added: Cli, tmp_path: Path) -> None:
    """Names go on as the CCMS has them, minus NUL characters (PostgreSQL refuses them)."""
    assert added("refresh", NAME).returncode == 0
    child = next(row[1] for row in mappings(added, tmp_path) if row[0] == "child")
    added.hostile.rig(
        "override",
        "ccms/children",
        target=child,
        fields={"first_name": "Zo\x00e", "last_name": "Nul\x00\x00lington"},
    )
    result = added("refresh", NAME)
    assert result.returncode == 0, result.stderr
    names = {row[1]: row[2] for row in mappings(added, tmp_path)}
    assert names[child] == "Zoe Nullington"
    stored = added.stored_bytes()
    assert b"\x00lington" not in stored and b"Zo\x00e" not in stored


def test_a_nul_byte_in_an_id_makes_the_read_incomplete(added: Cli) -> None:
    """An id with a NUL taken out would name another record, so it is refused instead."""
    bookings = added.hostile.full_list("/ccms/v1/services/gumnut-grove/bookings", "ccms")
    target = bookings[0]["id"]
    added.hostile.rig("override", "ccms/bookings", target=target, fields={"child_id": "ch-1\x00x"})
    result = added("refresh", NAME)
    line_with(
        result,
        "incomplete: CCMS bookings: read stopped after 0 records: page 1 was malformed:",
        f"items[0] (id {target}).child_id: holds a NUL character",
    )


def test_a_login_page_instead_of_json_says_so(added: Cli) -> None:
    added.hostile.rig("html", "portfolio/profiles")
    result = added("refresh", NAME)
    line_with(
        result,
        "incomplete: portfolio profiles: read stopped after 0 records: page 1 was malformed:",
        "the response is text/html, not application/json",
    )


def test_a_redirect_to_another_host_is_not_followed(added: Cli, other_host: Recorder) -> None:
    """The token goes to the configured address only: a redirect is reported, not followed."""
    where = f"http://localhost:{other_host.port}"
    added.hostile.rig("redirect", "ccms/children", location=where)
    result = added("refresh", NAME)
    line = line_with(result, "CCMS GET /children: redirected to", "not followed")
    assert where in line and "check the service's CCMS URL" in line
    # the other lists are read at the same time and say so; the redirect is this one line
    progress = ("Reading 5 lists", "read in full", " changed, ")
    others = [ln for ln in result.stderr.strip().splitlines() if not any(p in ln for p in progress)]
    assert others == [line]
    assert other_host.seen == []


def test_a_response_trickled_a_byte_at_a_time_times_out(added: Cli) -> None:
    """Each byte comes well within the read timeout; the whole response never would. The
    deadline (lowered to 1 s here) ends each attempt, the retries run out, one line says so."""
    added.hostile.rig("trickle", "ccms/rooms")
    started = time.monotonic()
    result = added("refresh", NAME, timeout=90, SMTUI_HTTP_TIMEOUT="1")
    took = time.monotonic() - started
    line_with(
        result,
        "incomplete: CCMS rooms: read stopped after 0 records: page 1 could not be read:",
        "timed out (the response took longer than 1 s in all) after 6 attempts",
    )
    assert took < 50, took  # six 1 s attempts and their backoff, not six 60 s trickles
    assert all(sent < 100 for sent in added.hostile.sent)
