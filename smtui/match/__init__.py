"""Pure child matching: CCMS children to portfolio profiles, plus picker helpers and CSV I/O."""

from smtui.match.csvio import (
    CsvInputError,
    read_children_csv,
    read_match_csv,
    read_profiles_csv,
    write_proposals_csv,
)
from smtui.match.evidence import RoomKeys
from smtui.match.matcher import match_children
from smtui.match.picker import candidates_for, search_profiles
from smtui.match.results import (
    REASON_KINDS,
    REASON_LABELS,
    Candidate,
    Proposal,
    ReasonKind,
    group_reviews,
)

__all__ = [
    "REASON_KINDS",
    "REASON_LABELS",
    "Candidate",
    "CsvInputError",
    "Proposal",
    "ReasonKind",
    "RoomKeys",
    "candidates_for",
    "group_reviews",
    "match_children",
    "read_children_csv",
    "read_match_csv",
    "read_profiles_csv",
    "search_profiles",
    "write_proposals_csv",
]
