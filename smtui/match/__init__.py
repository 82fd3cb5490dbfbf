"""Pure child matching: CCMS children to portfolio profiles, plus picker helpers and CSV I/O."""

from smtui.match.csvio import (
    CsvInputError,
    read_children_csv,
    read_profiles_csv,
    write_proposals_csv,
)
from smtui.match.matcher import match_children
from smtui.match.picker import candidates_for, search_profiles
from smtui.match.results import Candidate, Proposal

__all__ = [
    "Candidate",
    "CsvInputError",
    "Proposal",
    "candidates_for",
    "match_children",
    "read_children_csv",
    "read_profiles_csv",
    "search_profiles",
    "write_proposals_csv",
]
