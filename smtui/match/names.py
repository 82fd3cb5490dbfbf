"""Name normalisation and name-to-name evidence.

Educators type portfolio names by hand, so two spellings of one child differ in accents, case,
punctuation, word order, nicknames and small typos. Everything here turns such differences into
an explicit *kind* of agreement, so the matcher can both score a pair and say why in words.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from nicknames import NickNamer
from rapidfuzz import fuzz
from rapidfuzz.distance import OSA

# Letters NFKD does not decompose into base letter + accent.
_FOLD = str.maketrans({"ø": "o", "ł": "l", "đ": "d", "æ": "ae", "œ": "oe", "þ": "th", "ı": "i"})
_NON_WORD = re.compile(r"[\W_]+")

_NICKNAMER = NickNamer()

# How much each kind of agreement is worth (0..1); "different" scales with raw similarity.
FIRST_QUALITY = {"exact": 1.0, "preferred": 0.97, "middle": 0.95, "nickname": 0.9, "typo": 0.8}
LAST_QUALITY = {"exact": 1.0, "part": 0.9, "typo": 0.8}
DIFFERENT_WEIGHT = 0.6
TYPO_RATIO = 85.0
# First-name kinds that count as "the names agree well" (twin guard): no typo allowed there.
AGREE_WELL = frozenset({"exact", "preferred", "middle", "nickname"})


def normalise(text: str | None) -> str:
    """Casefold, drop accents and punctuation, collapse spaces: 'Zoë O'Brien-Ngā' -> 'zoe o brien nga'."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NON_WORD.sub(" ", bare.casefold().translate(_FOLD)).strip()


def tokens(text: str | None) -> tuple[str, ...]:
    return tuple(normalise(text).split())


def sort_key(first: tuple[str, ...], last: tuple[str, ...]) -> str:
    """Order-insensitive key: swapped first/last names give the same string."""
    return " ".join(sorted(first + last))


@lru_cache(maxsize=65536)
def name_family(name: str) -> frozenset[str]:
    """The name plus every name the nickname table relates it to, in either direction."""
    return frozenset(
        {name, *_NICKNAMER.nicknames_of(name), *_NICKNAMER.canonicals_of(name)},
    )


@lru_cache(maxsize=262144)
def are_nicknames(a: str, b: str) -> bool:
    """True when one is a nickname of the other or both shorten the same name (Liz, Beth)."""
    if a == b:
        return False
    fa, fb = name_family(a), name_family(b)
    if b in fa or a in fb:
        return True
    canon_a = _NICKNAMER.canonicals_of(a)
    return bool(canon_a and canon_a & _NICKNAMER.canonicals_of(b))


@lru_cache(maxsize=262144)
def is_typo(a: str, b: str) -> bool:
    """A small slip: one edit in a name of 4+ letters, or very similar longer strings.

    Three-letter names are excluded on purpose: Ava/Eva or Mia/Mya are different children as
    often as they are typos.
    """
    if a == b or not a or not b:
        return False
    if min(len(a), len(b)) >= 4 and OSA.distance(a, b, score_cutoff=1) <= 1:
        return True
    return fuzz.ratio(a, b) >= TYPO_RATIO


def similarity(a: str, b: str) -> float:
    return fuzz.ratio(a, b) / 100.0


@dataclass(frozen=True, slots=True)
class PartMatch:
    """How one name part (first or last) of a profile relates to the child's."""

    kind: str  # exact | preferred | middle | nickname | part | typo | different
    quality: float
    note: str = ""


def compare_first(
    child_first: tuple[str, ...],
    child_preferred: tuple[str, ...],
    profile_first: tuple[str, ...],
    shown_child: str,
    shown_profile: str,
) -> PartMatch:
    """Compare given names, trying the CCMS first name, then the preferred name, then nicknames."""
    if not profile_first or not (child_first or child_preferred):
        return PartMatch("different", 0.0)
    if child_first == profile_first or "".join(child_first) == "".join(profile_first):
        return PartMatch("exact", FIRST_QUALITY["exact"])
    if child_preferred and (
        child_preferred == profile_first or child_preferred[0] == profile_first[0]
    ):
        return PartMatch(
            "preferred", FIRST_QUALITY["preferred"], f"preferred name {shown_profile}"
        )
    if child_first and child_first[0] == profile_first[0]:
        return PartMatch("middle", FIRST_QUALITY["middle"], "middle name differs")
    p0 = profile_first[0]
    for given in (child_first[:1], child_preferred[:1]):
        if given and are_nicknames(given[0], p0):
            return PartMatch(
                "nickname", FIRST_QUALITY["nickname"], f"nickname {shown_profile}->{shown_child}"
            )
    joined_p = " ".join(profile_first)
    best = 0.0
    for given in (child_first, child_preferred):
        if not given:
            continue
        joined = " ".join(given)
        if is_typo(joined, joined_p) or is_typo(given[0], p0):
            return PartMatch("typo", FIRST_QUALITY["typo"], f"first name typo {shown_profile}")
        best = max(best, similarity(joined, joined_p))
    return PartMatch("different", DIFFERENT_WEIGHT * best, f"first name differs ({shown_profile})")


def compare_last(
    child_last: tuple[str, ...], profile_last: tuple[str, ...], shown_profile: str
) -> PartMatch:
    """Compare surnames, accepting one part of a hyphenated surname (Smith-Jones -> Smith)."""
    if not child_last or not profile_last:
        return PartMatch("different", 0.0)
    if child_last == profile_last or "".join(child_last) == "".join(profile_last):
        return PartMatch("exact", LAST_QUALITY["exact"])
    cs, ps = set(child_last), set(profile_last)
    if ps < cs or cs < ps:
        return PartMatch("part", LAST_QUALITY["part"], f"surname shortened to {shown_profile}")
    a, b = " ".join(child_last), " ".join(profile_last)
    if is_typo(a, b):
        return PartMatch("typo", LAST_QUALITY["typo"], f"surname typo {shown_profile}")
    return PartMatch(
        "different", DIFFERENT_WEIGHT * similarity(a, b), f"surname differs ({shown_profile})"
    )
