"""Name normalisation and name-to-name evidence.

Educators type portfolio names by hand, so two spellings of one child differ in accents, case,
punctuation, word order, nicknames and small typos. Everything here turns such differences into
an explicit *kind* of agreement, so the matcher can both score a pair and say why in words.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import NamedTuple

from nicknames import NickNamer
from rapidfuzz import fuzz
from rapidfuzz.distance import OSA, JaroWinkler

# Letters NFKD does not decompose into base letter + accent.
_FOLD = str.maketrans({"ø": "o", "ł": "l", "đ": "d", "æ": "ae", "œ": "oe", "þ": "th", "ı": "i"})
_NON_WORD = re.compile(r"[\W_]+")


# How much each kind of agreement is worth (0..1); "different" scales with raw similarity.
FIRST_QUALITY = {
    "exact": 1.0,
    "preferred": 0.97,
    "middle": 0.95,
    "nickname": 0.9,
    "slip": 0.85,
    "typo": 0.8,
}
LAST_QUALITY = {"exact": 1.0, "part": 0.9, "typo": 0.8}
DIFFERENT_WEIGHT = 0.6
NEAR_QUALITY = 0.7  # two slips: worth a look with a matching birth date, never a link alone
TYPO_RATIO = 85.0
NEAR_SIMILARITY = 0.85  # Jaro-Winkler: two edits that keep a name's shape (nguyen / ngudn)
# First-name kinds that count as "the names agree well" (twin guard): no typo allowed there.
AGREE_WELL = frozenset({"exact", "preferred", "middle", "nickname"})


@lru_cache(maxsize=65536)
def normalise(text: str | None) -> str:
    """Casefold, drop accents and punctuation, collapse spaces.

    'Zoë O'Brien-Ngā' -> 'zoe o brien nga'. Cached: the same names recur across both sides.
    """
    if not text:
        return ""
    if text.isascii():
        return _NON_WORD.sub(" ", text.casefold()).strip()
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NON_WORD.sub(" ", bare.casefold().translate(_FOLD)).strip()


def tokens(text: str | None) -> tuple[str, ...]:
    return tuple(normalise(text).split())


def sort_key(first: tuple[str, ...], last: tuple[str, ...]) -> str:
    """Order-insensitive key: swapped first/last names give the same string."""
    return " ".join(sorted(first + last))


def _families() -> tuple[dict[str, frozenset[str]], dict[str, frozenset[str]]]:
    """Read the nickname tables once: per-call lookups normalise and copy sets every time."""
    namer = NickNamer()
    nicknames, canonicals = namer.nickname_lookup, namer.canonical_lookup
    family = {
        name: frozenset({name, *nicknames.get(name, ()), *canonicals.get(name, ())})
        for name in nicknames.keys() | canonicals.keys()
    }
    return family, {name: frozenset(canon) for name, canon in canonicals.items()}


_FAMILY, _CANONICALS = _families()
_ANCHORS = {name: canon | {name} for name, canon in _CANONICALS.items()}
_NONE: frozenset[str] = frozenset()


def name_family(name: str) -> frozenset[str]:
    """The name plus every name the nickname table relates it to, in either direction."""
    return _FAMILY.get(name) or frozenset((name,))


def name_anchors(name: str) -> frozenset[str]:
    """The name plus the full names it shortens: a small index key set.

    Two names are nicknames of each other exactly when one's family meets the other's anchors
    (the package's two tables are inverses), so indexing one side by anchors is enough.
    """
    return _ANCHORS.get(name) or frozenset((name,))


@lru_cache(maxsize=262144)
def are_nicknames(a: str, b: str) -> bool:
    """True when one is a nickname of the other or both shorten the same name (Liz, Beth)."""
    if a == b:
        return False
    if b in name_family(a) or a in name_family(b):
        return True
    return not _CANONICALS.get(a, _NONE).isdisjoint(_CANONICALS.get(b, _NONE))


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


@lru_cache(maxsize=262144)
def is_slip(a: str, b: str) -> bool:
    """A keyboard slip that cannot plausibly be another name: safe enough to link on.

    Swapped neighbours (Olivai), a doubled or undoubled letter (Isabela, Lilly), or one letter
    changed or dropped inside a long name. Not an edit at the end: Daniel/Daniela, Mario/Maria
    and Mila/Milo are different names, and twins are often given exactly such pairs.
    """
    if a == b or min(len(a), len(b)) < 4 or OSA.distance(a, b, score_cutoff=1) > 1:
        return False
    if len(a) == len(b):
        diffs = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        if len(diffs) == 2 and diffs[1] == diffs[0] + 1:
            i = diffs[0]
            return a[i] == b[i + 1] and a[i + 1] == b[i]
        return len(diffs) == 1 and diffs[0] < len(a) - 1 and len(a) >= 6
    if abs(len(a) - len(b)) != 1:
        return False
    longer, shorter = (a, b) if len(a) > len(b) else (b, a)
    pairs = enumerate(zip(longer, shorter, strict=False))
    i = next((k for k, (x, y) in pairs if x != y), len(shorter))
    if longer[:i] + longer[i + 1 :] != shorter:
        return False
    doubled = (i > 0 and longer[i] == longer[i - 1]) or (
        i + 1 < len(longer) and longer[i] == longer[i + 1]
    )
    return doubled or (i < len(longer) - 1 and len(shorter) >= 6)


@lru_cache(maxsize=262144)
def is_near(a: str, b: str) -> bool:
    """Two slips in a name of 5+ letters that still reads alike (nguyen / ngudn)."""
    if min(len(a), len(b)) < 5 or OSA.distance(a, b, score_cutoff=2) != 2:
        return False
    return JaroWinkler.similarity(a, b) >= NEAR_SIMILARITY


def similarity(a: str, b: str) -> float:
    return fuzz.ratio(a, b) / 100.0


class PartMatch(NamedTuple):
    """How one name part (first or last) of a profile relates to the child's."""

    kind: str  # exact|preferred|middle|nickname|part|slip|typo|near|blank|different
    quality: float
    note: str = ""


EXACT_FIRST = PartMatch("exact", FIRST_QUALITY["exact"])
EXACT_LAST = PartMatch("exact", LAST_QUALITY["exact"])


def compare_first(
    child_first: tuple[str, ...],
    child_preferred: tuple[str, ...],
    profile_first: tuple[str, ...],
    shown_child: str,
    shown_profile: str,
) -> PartMatch:
    """Compare given names, trying the CCMS first name, then the preferred name, then nicknames."""
    if not profile_first:
        return PartMatch("blank", 0.0, "profile has no first name")
    if not (child_first or child_preferred):
        return PartMatch("blank", 0.0, "no first name in CCMS")
    if child_first == profile_first or "".join(child_first) == "".join(profile_first):
        return EXACT_FIRST
    if child_preferred and (
        child_preferred == profile_first or child_preferred[0] == profile_first[0]
    ):
        return PartMatch("preferred", FIRST_QUALITY["preferred"], f"preferred name {shown_profile}")
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
        if is_slip(joined, joined_p) or is_slip(given[0], p0):
            return PartMatch("slip", FIRST_QUALITY["slip"], f"first name typo {shown_profile}")
        if is_typo(joined, joined_p) or is_typo(given[0], p0):
            note = f"first name spelled differently ({shown_profile})"
            return PartMatch("typo", FIRST_QUALITY["typo"], note)
        if is_near(joined, joined_p):
            note = f"first name spelled differently ({shown_profile})"
            return PartMatch("near", NEAR_QUALITY, note)
        best = max(best, similarity(joined, joined_p))
    return PartMatch("different", DIFFERENT_WEIGHT * best, f"first name differs ({shown_profile})")


def compare_last(
    child_last: tuple[str, ...], profile_last: tuple[str, ...], shown_profile: str
) -> PartMatch:
    """Compare surnames, accepting one part of a hyphenated surname (Smith-Jones -> Smith)."""
    if not profile_last:
        return PartMatch("blank", 0.0, "profile has no surname")
    if not child_last:
        return PartMatch("blank", 0.0, "no surname in CCMS")
    if child_last == profile_last or "".join(child_last) == "".join(profile_last):
        return EXACT_LAST
    cs, ps = set(child_last), set(profile_last)
    if ps < cs or cs < ps:
        return PartMatch("part", LAST_QUALITY["part"], f"surname shortened to {shown_profile}")
    a, b = " ".join(child_last), " ".join(profile_last)
    if is_typo(a, b):
        return PartMatch("typo", LAST_QUALITY["typo"], f"surname typo {shown_profile}")
    if is_near(a, b):
        return PartMatch("near", NEAR_QUALITY, f"surname spelled differently ({shown_profile})")
    return PartMatch(
        "different", DIFFERENT_WEIGHT * similarity(a, b), f"surname differs ({shown_profile})"
    )


def room_key(name: str) -> str:
    """A room name as educators retype it: "Possums Room" and "possums" are the same room."""
    text = unicodedata.normalize("NFKD", name.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"[^a-z0-9]+", " ", text)
    words = [w for w in text.split() if w not in {"room", "the"}]
    return " ".join(words)
