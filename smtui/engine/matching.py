"""Matching for the engine: child proposals from the snapshots, and two CSV files for
`smtui match` (the matcher alone, no store and no vendor system).

Through the engine like every other command, so the CLI stays a front end over one facade; the
CSV format and its one-line errors (``CsvInputError``) are the matcher's (smtui.match.csvio).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from typing import TextIO

from smtui.automap import match_rooms, propose_child_mappings
from smtui.match import match_children
from smtui.match.csvio import read_match_csv, write_proposals_csv
from smtui.records import CcmsSnapshot, ChildMapping, PortfolioSnapshot, RoomMapping


def propose_children(
    ccms: CcmsSnapshot,
    portfolio: PortfolioSnapshot,
    existing: Mapping[str, ChildMapping],
    room_mappings: Mapping[str, RoomMapping],
    *,
    only_new: bool,
    as_of: dt.date,
) -> list[ChildMapping]:
    """The matcher's child proposals from the two snapshots, with all the evidence they hold:
    names and birth dates, the guardian emails on both sides, and each child's booked rooms
    against each profile's rooms (by ``room_mappings``, or by name before rooms are mapped)."""
    rooms = match_rooms(
        ccms.rooms, ccms.bookings, portfolio.rooms, portfolio.profiles, room_mappings, as_of
    )
    return propose_child_mappings(
        ccms.children, portfolio.profiles, existing, only_new=only_new, rooms=rooms
    )


def match_csv(
    source: str | os.PathLike[str],
    target: str | os.PathLike[str],
    out: TextIO | str | os.PathLike[str],
) -> dict[str, int]:
    """Match the children in ``source`` to the profiles in ``target`` and write the proposals
    to ``out`` (an open text file or a path) as source_id,action,target_id,score,reason.

    Both files may add ``rooms`` and ``guardian_emails`` columns (``;``-separated): evidence
    only a childcare service has (``read_match_csv``).
    Returns how many proposals of each action were written (link, review, create), by action.
    Both files are read before anything is written, so a bad input leaves ``out`` untouched.
    """
    children, profiles, rooms = read_match_csv(source, target)
    proposals = match_children(children, profiles, rooms=rooms)
    write_proposals_csv(proposals, out)
    counts: dict[str, int] = {}
    for p in sorted(proposals, key=lambda p: p.action):
        counts[p.action] = counts.get(p.action, 0) + 1
    return counts
