"""Helpers for the person choosing a profile by hand: ranked candidates and type-to-search."""

from __future__ import annotations

from collections.abc import Sequence

from rapidfuzz import fuzz, process

from smtui.match.candidates import nominate
from smtui.match.evidence import assess, child_person, natural_key, profile_person
from smtui.match.names import normalise
from smtui.match.results import Candidate
from smtui.records import Child, Profile

PICKER_NAME_CUTOFF = 50  # looser than matching: a person reads the reasons
SEARCH_CUTOFF = 50.0


def candidates_for(
    child: Child, profiles: Sequence[Profile], *, limit: int = 10
) -> list[Candidate]:
    """Best-first profiles that might be this child, each with a reason a person can read.

    Unlike ``match_children`` this also lists contradicted pairs (birth date years apart) with a
    low score, because the picker is where a person overrules the matcher. Profiles linked to a
    different child (external_ref set to another id) are left out.
    """
    pool = [
        profile_person(p) for p in profiles if p.external_ref is None or p.external_ref == child.id
    ]
    pool.sort(key=lambda p: natural_key(p.id))
    person = child_person(child)
    (found,) = nominate([person], pool, cutoff=PICKER_NAME_CUTOFF, thorough=True)
    ranked = sorted(
        (assess(person, pool[j]) for j in found),
        key=lambda ev: (-ev.score, ev.archived, natural_key(ev.profile_id)),
    )
    return [Candidate(ev.profile_id, ev.score, ev.reason()) for ev in ranked[:limit]]


def _display(profile: Profile) -> str:
    return normalise(f"{profile.first_name} {profile.last_name}")


def _prefixes(words: list[str], name: list[str]) -> bool:
    """Every typed word starts a different word of the name ("ava ng" -> "ava ngata")."""
    left = list(name)
    for word in words:
        hit = next((n for n in left if n.startswith(word)), None)
        if hit is None:
            return False
        left.remove(hit)
    return True


def search_profiles(
    query: str, profiles: Sequence[Profile], *, limit: int = 50
) -> list[tuple[str, float]]:
    """(profile_id, score 0..100) best first for text typed in the picker.

    Accents, case and punctuation are ignored; typed word starts score 100 ("ava ng" finds Ava
    Ngata), anything else scores by fuzzy similarity so typos still find the child. An empty
    query lists every profile by name, so the picker is never blank.
    """
    ordered = sorted(profiles, key=lambda p: (_display(p), natural_key(p.id)))
    wanted = normalise(query)
    if not wanted:
        return [(p.id, 100.0) for p in ordered[:limit]]
    names = [_display(p) for p in ordered]
    fuzzy = process.cdist([wanted], names, scorer=fuzz.WRatio, processor=None, workers=-1)[0]
    words = wanted.split()
    scored = [
        (100.0 if _prefixes(words, name.split()) else round(float(score), 1), n)
        for n, (name, score) in enumerate(zip(names, fuzzy, strict=True))
    ]
    hits = sorted((-score, n) for score, n in scored if score >= SEARCH_CUTOFF)
    return [(ordered[n].id, -negated) for negated, n in hits[:limit]]
