"""Find the few profiles worth weighing for each child, without weighing every pair.

Weighing a pair in Python costs microseconds; 5,000 x 5,000 pairs would cost minutes. So three
cheap channels nominate pairs and only those are weighed:

* names: ``rapidfuzz.process.cdist`` compares order-insensitive name keys for all pairs in C
  (both cores), which catches typos, dropped accents and swapped first/last names;
* nicknames and surname parts: a dictionary keyed by (surname word, given-name family) catches
  Liz/Elizabeth, preferred names and Smith-Jones/Smith, which edit distance scores poorly;
* birth dates: profiles with the same (or day/month swapped) birth date catch surname changes.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence

import numpy as np
from rapidfuzz import fuzz, process

from smtui.match.evidence import Person
from smtui.match.names import name_family

NAME_CUTOFF = 75  # cdist ratio (0..100) on sorted-token name keys
_ROWS_PER_CHUNK = 2048  # bounds the score matrix at ~2048 x len(profiles) bytes


def _swapped_date(d: dt.date) -> dt.date | None:
    if d.day > 12 or d.day == d.month:
        return None
    return dt.date(d.year, d.day, d.month)


def _given_families(person: Person) -> set[str]:
    names: set[str] = set()
    for given in (person.first[:1], person.preferred[:1]):
        if given:
            names |= name_family(given[0])
    return names


def nominate(
    children: Sequence[Person], profiles: Sequence[Person], *, cutoff: int = NAME_CUTOFF
) -> list[set[int]]:
    """For each child (by position), the positions of profiles worth weighing."""
    found: list[set[int]] = [set() for _ in children]
    if not children or not profiles:
        return found
    profile_keys = [p.key for p in profiles]
    for start in range(0, len(children), _ROWS_PER_CHUNK):
        chunk = [c.key for c in children[start : start + _ROWS_PER_CHUNK]]
        scores = process.cdist(
            chunk,
            profile_keys,
            scorer=fuzz.ratio,
            score_cutoff=cutoff,
            dtype=np.uint8,
            workers=-1,
        )
        rows, cols = np.nonzero(scores)
        for row, col in zip(rows.tolist(), cols.tolist(), strict=True):
            found[start + row].add(col)

    by_surname_given: dict[tuple[str, str], list[int]] = defaultdict(list)
    by_birth_date: dict[dt.date, list[int]] = defaultdict(list)
    for j, p in enumerate(profiles):
        for given in _given_families(p):
            for word in p.last:
                by_surname_given[(word, given)].append(j)
        if p.birth_date is not None:
            by_birth_date[p.birth_date].append(j)

    for i, c in enumerate(children):
        bucket = found[i]
        for given in _given_families(c):
            for word in c.last:
                bucket.update(by_surname_given.get((word, given), ()))
        if c.birth_date is not None:
            bucket.update(by_birth_date.get(c.birth_date, ()))
            swapped = _swapped_date(c.birth_date)
            if swapped is not None:
                bucket.update(by_birth_date.get(swapped, ()))
    return found
