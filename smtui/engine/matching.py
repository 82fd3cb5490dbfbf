"""Matching two CSV files, for `smtui match`: the matcher alone, no store and no vendor system.

Through the engine like every other command, so the CLI stays a front end over one facade; the
CSV format and its one-line errors (``CsvInputError``) are the matcher's (smtui.match.csvio).
"""

from __future__ import annotations

import os
from typing import TextIO

from smtui.match import match_children
from smtui.match.csvio import read_match_csv, write_proposals_csv


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
