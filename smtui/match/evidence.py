"""Evidence for one (child, profile) pair: name agreement, birth date agreement, score, tier.

The tier, not the score, decides what the matcher may do with a pair: tier 2 (strong name and
exactly equal birth date) may become an automatic link; tier 1 is worth a person's look, and
only the learned weights (``weights.py``, with the matcher's vetoes) may promote it; tier 0 is
not this child, unless the learned weights find it likely enough for a person's look. The
score only ranks pairs and tells a person how close they are.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

from smtui.match.names import (
    AGREE_WELL,
    EXACT_FIRST,
    EXACT_LAST,
    FIRST_QUALITY,
    LAST_QUALITY,
    PartMatch,
    compare_first,
    compare_last,
    sort_key,
    tokens,
)
from smtui.records import Child, Profile

LINK, REVIEW, NOT_PLAUSIBLE = 2, 1, 0
PLAUSIBLE_NAME = 65.0  # name score (0..100) worth a review when birth dates do not contradict
FAR_DAYS = 366  # more than about a year apart: a different child, whatever the name says
DOB_POINTS = {
    "same": 30.0,
    "swapped": 18.0,
    "missing": 12.0,
    "digit": 6.0,
    "close": 6.0,
    "far": 0.0,
}
NAME_WEIGHT = 0.7
SWAP_PENALTY = 3.0
ARCHIVED_PENALTY = 3.0
# Never an address in a reason: only whether one is shared.
GUARDIAN_NOTES = {
    "shared": "shares a guardian email",
    "different": "guardian emails differ",
    "": "",
}
ROOM_NOTES = {"shared": "same room", "different": "in different rooms", "": ""}
_DIGITS = re.compile(r"(\d+)")


@lru_cache(maxsize=131072)
def natural_key(ident: str) -> tuple[object, ...]:
    """Order ids as a person would (p2 before p10) so tie-breaks are stable and unsurprising."""
    return tuple(int(p) if p.isdigit() else p for p in _DIGITS.split(ident))


class Person(NamedTuple):
    """A child or profile reduced to what matching needs, normalised once.

    NamedTuples, not frozen dataclasses, here and for Evidence: equally immutable, and several
    times cheaper to build, which matters at tens of thousands per run.
    """

    id: str
    first: tuple[str, ...]
    last: tuple[str, ...]
    preferred: tuple[str, ...]
    birth_date: dt.date | None
    shown_first: str
    shown_last: str
    key: str
    archived: bool = False
    emails: frozenset[str] = frozenset()  # guardian email addresses, lower-cased
    rooms: frozenset[str] = frozenset()  # room keys, comparable across the two systems

    @property
    def shown(self) -> str:
        return f"{self.shown_first} {self.shown_last}".strip()


@dataclass(frozen=True, slots=True)
class RoomKeys:
    """The rooms each child is booked in and each profile is in, as keys equal across systems.

    The caller decides what makes two rooms the same (a room mapping, or the room's name before
    rooms are mapped); the matcher only compares keys. A child or profile left out has no
    rooms known, which is no information, not a disagreement.
    """

    children: Mapping[str, frozenset[str]] = field(default_factory=dict)
    profiles: Mapping[str, frozenset[str]] = field(default_factory=dict)


def child_person(child: Child, rooms: frozenset[str] = frozenset()) -> Person:
    first, last, preferred = (
        tokens(child.first_name),
        tokens(child.last_name),
        tokens(child.preferred_name),
    )
    return Person(
        id=child.id,
        first=first,
        last=last,
        preferred=preferred,
        birth_date=child.birth_date,
        shown_first=child.first_name.strip(),
        shown_last=child.last_name.strip(),
        key=sort_key(first, last),
        emails=_emails(child.guardian_emails),
        rooms=rooms,
    )


def profile_person(profile: Profile, rooms: frozenset[str] = frozenset()) -> Person:
    first, last = tokens(profile.first_name), tokens(profile.last_name)
    return Person(
        id=profile.id,
        first=first,
        last=last,
        preferred=(),
        birth_date=profile.birth_date,
        shown_first=profile.first_name.strip(),
        shown_last=profile.last_name.strip(),
        key=sort_key(first, last),
        archived=profile.archived,
        emails=_emails(profile.guardian_emails),
        rooms=rooms,
    )


def _emails(addresses: tuple[str, ...]) -> frozenset[str]:
    """Addresses as compared: trimmed and lower-cased (a CSV or a vendor may not have)."""
    if not addresses:
        return frozenset()
    return frozenset(a.strip().lower() for a in addresses if a.strip())


def compare_sets(child: frozenset[str], profile: frozenset[str]) -> str:
    """Domain evidence: "shared", "different" (both sides known, nothing in common) or ""
    (unknown on either side: no information, never disagreement)."""
    if not (child and profile):
        return ""
    return "different" if child.isdisjoint(profile) else "shared"


class Evidence(NamedTuple):
    child_id: str
    profile_id: str
    score: float
    name_score: float
    first: PartMatch
    last: PartMatch
    swapped: bool
    dob: str  # same | swapped | digit | missing | close | far
    dob_note: str
    strong: bool
    tier: int
    archived: bool
    guard_note: str = ""
    basis: str = ""  # "" (the tiers), "weighed" (learned weights), "unique_name", "guardian"
    child_dated: bool = True  # the CCMS child has a birth date (which side a "missing" lacks)
    guardian: str = ""  # "shared", "different" or "" (unknown on a side): ``compare_sets``
    room: str = ""  # the same for the profile's rooms against the child's booked rooms

    @property
    def agree_well(self) -> bool:
        return self.first.kind in AGREE_WELL

    def reason(self) -> str:
        """Readable why: name notes first, then the birth date, then any guard."""
        parts = [n for n in (self.first.note, self.last.note) if n]
        if self.swapped:
            parts.append("first and last name swapped")
        if not parts:
            parts.append("same name")
        parts += [n for n in (GUARDIAN_NOTES[self.guardian], ROOM_NOTES[self.room]) if n]
        if self.basis == "unique_name":
            parts += ["unique in both lists", "profile has no birth date"]
        else:
            parts.append(self.dob_note)
        if self.archived:
            parts.append("profile archived")
        if self.guard_note:
            parts.append(self.guard_note)
        return ", ".join(parts)


def compare_dates(child: dt.date | None, profile: dt.date | None) -> tuple[str, str]:
    """Classify two birth dates and describe the difference for a person."""
    if child is None and profile is None:
        return "missing", "no birth date on either side"
    if profile is None:
        return "missing", "no birth date on profile"
    if child is None:
        return "missing", "no birth date in CCMS"
    if child == profile:
        return "same", "same birth date"
    if (
        child.day <= 12
        and child.day != child.month
        and (child.year, child.day, child.month)
        == (
            profile.year,
            profile.month,
            profile.day,
        )
    ):
        return "swapped", "birth date day/month swapped"
    days = abs((child - profile).days)
    if days > FAR_DAYS:
        years = round(days / 365.25)
        unit = "year" if years == 1 else "years"
        return "far", f"birth date {years} {unit} apart: likely another child"
    level = "digit" if _one_digit_apart(child, profile) else "close"
    if days < 62:
        return level, f"birth date {days} days apart"
    return level, f"birth date {round(days / 30.44)} months apart"


def _one_digit_apart(a: dt.date, b: dt.date) -> bool:
    """2020-03-18 typed as 2020-03-19 or 2021-03-18: one keystroke, not another child."""
    return sum(x != y for x, y in zip(a.isoformat(), b.isoformat(), strict=True)) == 1


def _orient(child: Person, profile: Person, swapped: bool) -> tuple[PartMatch, PartMatch]:
    p_first, p_last = (profile.last, profile.first) if swapped else (profile.first, profile.last)
    s_first, s_last = (
        (profile.shown_last, profile.shown_first)
        if swapped
        else (profile.shown_first, profile.shown_last)
    )
    first = compare_first(child.first, child.preferred, p_first, child.shown_first, s_first)
    last = compare_last(child.last, p_last, s_last)
    return first, last


def _is_strong(first: PartMatch, last: PartMatch, swapped: bool) -> bool:
    """Both parts agree, with at most one small typo and no typo on top of a swap."""
    if first.kind not in FIRST_QUALITY or last.kind not in LAST_QUALITY:
        return False
    typos = (first.kind in ("slip", "typo")) + (last.kind == "typo")
    return typos == 0 or (typos == 1 and not swapped)


def assess(child: Person, profile: Person) -> Evidence:
    """Weigh one pair. Pure and cheap: called only for candidate pairs."""
    swapped = False
    if child.first == profile.first and child.last == profile.last and child.first and child.last:
        first, last = EXACT_FIRST, EXACT_LAST  # the common case, without the comparisons
    else:
        first, last = _orient(child, profile, swapped=False)
    if first.kind not in FIRST_QUALITY or last.kind not in LAST_QUALITY:
        s_first, s_last = _orient(child, profile, swapped=True)
        if s_first.quality + s_last.quality > first.quality + last.quality + 0.05:
            first, last, swapped = s_first, s_last, True
    name_score = 100.0 * (first.quality + last.quality) / 2 - (SWAP_PENALTY if swapped else 0.0)
    dob, dob_note = compare_dates(child.birth_date, profile.birth_date)
    strong = _is_strong(first, last, swapped)
    score = NAME_WEIGHT * name_score + DOB_POINTS[dob]
    if dob == "far":
        score *= 0.5
    if profile.archived:
        score -= ARCHIVED_PENALTY
    score = round(min(100.0, max(0.0, score)), 1)
    guardian = compare_sets(child.emails, profile.emails)
    room = compare_sets(child.rooms, profile.rooms)
    if dob == "far":
        tier = NOT_PLAUSIBLE
    elif strong and dob == "same" and first.kind != "typo":
        tier = LINK  # a first name spelled differently may be another name: never linked
    elif (
        strong
        or (first.kind in AGREE_WELL and dob == "same")
        or (first.kind == "blank" and last.kind in LAST_QUALITY and dob in ("same", "swapped"))
        or (last.kind == "blank" and first.kind in FIRST_QUALITY and dob in ("same", "swapped"))
        or (name_score >= PLAUSIBLE_NAME and dob not in ("close", "digit"))
    ):
        tier = REVIEW
    else:
        tier = NOT_PLAUSIBLE
    return Evidence(
        child_id=child.id,
        profile_id=profile.id,
        score=score,
        name_score=name_score,
        first=first,
        last=last,
        swapped=swapped,
        dob=dob,
        dob_note=dob_note,
        strong=strong,
        tier=tier,
        archived=profile.archived,
        child_dated=child.birth_date is not None,
        guardian=guardian,
        room=room,
    )
