"""Find the few profiles worth weighing for each child, without weighing every pair.

Weighing a pair in Python costs microseconds; 5,000 x 5,000 pairs would cost minutes. So three
cheap channels nominate pairs and only those are weighed:

* names: ``rapidfuzz.process.cdist`` compares order-insensitive name keys for all pairs in C
  (both cores), which catches typos, dropped accents and swapped first/last names;
* nicknames and surname parts: a dictionary keyed by (surname word, given-name family) catches
  Liz/Elizabeth, preferred names and Smith-Jones/Smith, which edit distance scores poorly;
* birth dates: the same dictionary keyed by (birth date, name word or nickname) catches a typo
  that reorders the name key, a changed surname, and twins; swapped day/month too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
from rapidfuzz import fuzz, process

from smtui.match.evidence import Person
from smtui.match.names import name_anchors, name_family

NAME_CUTOFF = 85  # cdist ratio (0..100) on sorted-token name keys
_ROWS_PER_CHUNK = 2048  # bounds the score matrix at ~2048 x len(profiles) bytes


def _swapped_date(d: dt.date) -> dt.date:
    return dt.date(d.year, d.day, d.month) if d.day <= 12 else d


def _given_families(person: Person) -> set[str]:
    names: set[str] = set()
    for given in (person.first[:1], person.preferred[:1]):
        if given:
            names |= name_family(given[0])
    return names


def nominate(
    children: Sequence[Person],
    profiles: Sequence[Person],
    *,
    cutoff: int = NAME_CUTOFF,
    thorough: bool = False,
) -> list[set[int]]:
    """For each child (by position), the positions of profiles worth weighing.

    Unless ``thorough``, a child whose blocks already hold a profile with the same name and birth
    date skips the fuzzy pass: that pair is the best possible, and the fuzzy pass could only add
    misspelt look-alikes without a birth date. The matcher accepts that (at worst a "pick one"
    review becomes a link to that exact profile, halving the fuzzy work); the picker, which lists
    everything, does not.
    """
    found = _by_blocks(children, profiles)
    rows = [
        i
        for i, c in enumerate(children)
        if thorough
        or not any(
            profiles[j].key == c.key and profiles[j].birth_date == c.birth_date for j in found[i]
        )
    ]
    if not rows or not profiles:
        return found
    profile_keys = [p.key for p in profiles]
    for start in range(0, len(rows), _ROWS_PER_CHUNK):
        chunk = rows[start : start + _ROWS_PER_CHUNK]
        scores = process.cdist(
            [children[i].key for i in chunk],
            profile_keys,
            scorer=fuzz.ratio,
            score_cutoff=cutoff,
            dtype=np.uint8,
            workers=-1,
        )
        hit_rows, hit_cols = _nonzero(scores)
        for row, col in zip(hit_rows.tolist(), hit_cols.tolist(), strict=True):
            found[chunk[row]].add(col)
    return found


def _by_blocks(children: Sequence[Person], profiles: Sequence[Person]) -> list[set[int]]:
    """Dictionary channels: (surname word, given name) and (birth date, name word or nickname).

    Profiles are indexed by their given name's anchors (itself and what it shortens), children
    look up their whole family: that pairs exactly the names the nickname table relates.
    """
    blocks: dict[tuple[object, str], list[int]] = {}
    for j, p in enumerate(profiles):
        anchors = name_anchors(p.first[0]) if p.first else frozenset()
        keys = [(w, a) for a in anchors for w in p.last]
        if p.birth_date is not None:
            keys += [(p.birth_date, w) for w in anchors.union(p.first, p.last)]
        for key in keys:
            blocks.setdefault(key, []).append(j)
    get = blocks.get
    found: list[set[int]] = []
    for c in children:
        givens = _given_families(c)
        keys = [(w, g) for g in givens for w in c.last]
        if c.birth_date is not None:
            words = givens.union(c.first, c.last)
            keys += [(c.birth_date, w) for w in words]
            keys += [(_swapped_date(c.birth_date), w) for w in words]
        bucket: set[int] = set()
        for key in keys:
            hits = get(key)
            if hits:
                bucket.update(hits)
        found.append(bucket)
    return found


def _nonzero(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """np.nonzero for a mostly-zero uint8 matrix, about ten times faster.

    Plain np.nonzero over millions of bytes costs more than cdist itself; reading the matrix
    eight bytes at a time skips the empty majority and only the few non-zero words are expanded.
    """
    flat = scores.reshape(-1)
    size = flat.size
    if size % 8:
        flat = np.concatenate([flat, np.zeros(8 - size % 8, dtype=np.uint8)])
    words = np.flatnonzero(flat.view(np.uint64))
    spots = (words[:, None] * 8 + np.arange(8)).reshape(-1)
    spots = spots[spots < size]
    hits = spots[flat[spots] != 0]
    return np.divmod(hits, scores.shape[1])
