"""What the matcher hands back: plain frozen records a person (or the planner) can act on."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal, get_args

ProposalAction = Literal["link", "review", "create"]

# Why the matcher proposed what it did, as data: front ends group and count by it, and show
# ``REASON_LABELS``; the ``reason`` sentence is only the per-child detail.
ReasonKind = Literal[
    "already_linked",
    "same_name_same_birth_date",
    "similar_name_same_birth_date",
    "weighed_evidence",
    "shared_guardian",
    "unique_name_no_birth_date",
    "several_profiles",
    "duplicate_profiles",
    "twin",
    "profile_no_birth_date",
    "ccms_no_birth_date",
    "birth_date_differs",
    "name_differs",
    "namesake_far_birth_date",
    "closer_match_elsewhere",
    "no_similar_profile",
]
REASON_KINDS: tuple[ReasonKind, ...] = get_args(ReasonKind)
REASON_LABELS: dict[ReasonKind, str] = {
    "already_linked": "already linked",
    "same_name_same_birth_date": "same name and birth date",
    "similar_name_same_birth_date": "nickname, preferred name or small typo, same birth date",
    "weighed_evidence": "names and birth date, weighed for this service, leave no doubt",
    "shared_guardian": "shares a guardian email, names agree, birth date missing or nearly equal",
    "unique_name_no_birth_date": "profile has no birth date, name unique in both lists",
    "several_profiles": "several profiles look like this child: pick one",
    "duplicate_profiles": "one family's duplicate profiles: linked the one in use",
    "twin": "a twin or triplet: only the given name tells them apart",
    "profile_no_birth_date": "profile has no birth date",
    "ccms_no_birth_date": "no birth date in the CCMS",
    "birth_date_differs": "birth dates differ a little (swapped, a digit, days or months)",
    "name_differs": "same birth date, names differ",
    "namesake_far_birth_date": "same or similar name, birth date over a year apart",
    "closer_match_elsewhere": "closest profile fits another child better",
    "no_similar_profile": "no similar profile",
}


@dataclass(frozen=True, slots=True)
class Proposal:
    """The matcher's suggestion for one CCMS child.

    ``link`` is confident (or already linked); ``review`` names a suggested profile a person must
    confirm; ``create`` means no profile plausibly belongs to this child. ``alternatives`` lists
    other plausible profile ids (for example the second profile of a child with two). ``kind``
    is the reason as data (see ``ReasonKind``); it follows from the reason, so it takes no part
    in equality.
    """

    child_id: str
    action: ProposalAction
    profile_id: str | None
    score: float
    reason: str
    alternatives: tuple[str, ...] = ()
    kind: ReasonKind = field(default="no_similar_profile", compare=False)


@dataclass(frozen=True, slots=True)
class Candidate:
    """One row of the picker: a profile, how well it fits the child, and why."""

    profile_id: str
    score: float
    reason: str


def group_reviews(proposals: Iterable[Proposal]) -> list[tuple[ReasonKind, list[Proposal]]]:
    """Reviews grouped by reason kind, largest group first, so a person can decide a group at once.

    Ties keep the order of ``REASON_KINDS``; within a group, proposals keep their input order.
    """
    groups: defaultdict[ReasonKind, list[Proposal]] = defaultdict(list)
    for p in proposals:
        if p.action == "review":
            groups[p.kind].append(p)
    order = {k: n for n, k in enumerate(REASON_KINDS)}
    return sorted(groups.items(), key=lambda kv: (-len(kv[1]), order[kv[0]]))
