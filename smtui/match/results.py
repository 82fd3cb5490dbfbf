"""What the matcher hands back: plain frozen records a person (or the planner) can act on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ProposalAction = Literal["link", "review", "create"]


@dataclass(frozen=True, slots=True)
class Proposal:
    """The matcher's suggestion for one CCMS child.

    ``link`` is confident (or already linked); ``review`` names a suggested profile a person must
    confirm; ``create`` means no profile plausibly belongs to this child. ``alternatives`` lists
    other plausible profile ids (for example the second profile of a child with two).
    """

    child_id: str
    action: ProposalAction
    profile_id: str | None
    score: float
    reason: str
    alternatives: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Candidate:
    """One row of the picker: a profile, how well it fits the child, and why."""

    profile_id: str
    score: float
    reason: str
