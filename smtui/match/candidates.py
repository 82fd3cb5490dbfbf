"""Find the few profiles worth weighing for each child, without weighing every pair.

Weighing a pair in Python costs microseconds; 5,000 x 5,000 pairs would cost minutes, and even
comparing every pair's name key in C grows with the square of the service. So only dictionary
channels nominate pairs, each linear in the two lists:

* names, one edit per word: each distinct name word is matched once to the words one edit
  from it (through shared one-letter deletions), and a pair meets when one part is within one
  edit and the other starts with the same three letters (``kylie stanley`` and ``kyqie
  stanleu``); profiles are indexed both ways round, so swapped first/last names meet;
* a blank given name (or surname) on either side: indexed by the other part alone;
* nicknames and surname parts: (surname word, given-name family) catches Liz/Elizabeth,
  preferred names and Smith-Jones/Smith, which edit distance scores poorly;
* birth dates: (birth date, name word or nickname) for Beth Browne / Elizabeth Brown, and
  every pair with the same (or day/month swapped) birth date, whatever the names,
  has its name keys compared in C (``rapidfuzz.process.cpdist``); those not plainly different
  people are weighed.

The picker (one child) also runs a loose all-profiles name comparison: that is linear there.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence

import numpy as np
from rapidfuzz import fuzz, process

from smtui.match.evidence import Person
from smtui.match.names import name_anchors, name_family

NAME_CUTOFF = 85  # picker / baseline: cdist ratio (0..100) on sorted-token name keys
SAME_DATE_CUTOFF = 65  # name-key ratio under which a same-birth-date pair is plainly two people
_ROWS_PER_CHUNK = 2048  # bounds the picker's score matrix at ~2048 x len(profiles) bytes
_MIN_DELETE = 3  # words shorter than this are only indexed whole
_PREFIX = 3  # letters of the other name part a one-edit key also needs: keeps blocks small


def _swapped_date(d: dt.date) -> dt.date:
    return dt.date(d.year, d.day, d.month) if d.day <= 12 else d


def _given_families(person: Person) -> set[str]:
    names: set[str] = set()
    for given in (person.first[:1], person.preferred[:1]):
        if given:
            names |= name_family(given[0])
    return names


def _variants(word: str) -> list[str]:
    """The word and its one-letter deletions: two words one edit apart share one of these."""
    if len(word) < _MIN_DELETE:
        return [word]
    return [word, *(word[:i] + word[i + 1 :] for i in range(len(word)))]


def _near_words(wanted: Iterable[str], offered: Iterable[str]) -> dict[str, set[str]]:
    """For each wanted word, the offered words one edit from it (itself included).

    Computed once per distinct word, not per person: names recur, so this is most of the
    saving over indexing every person's deletion variants.
    """
    by_variant: dict[str, list[str]] = {}
    for word in offered:
        for v in _variants(word):
            by_variant.setdefault(v, []).append(word)
    near: dict[str, set[str]] = {}
    for word in wanted:
        found: set[str] = set()
        for v in _variants(word):
            hits = by_variant.get(v)
            if hits:
                found.update(hits)
        near[word] = found
    return near


def _givens(c: Person) -> set[str]:
    return {g[0] for g in (c.first[:1], c.preferred[:1]) if g}


def _profile_keys(p: Person) -> list[str]:
    first, last = p.first[:1], p.last
    keys: list[str] = []
    if not first or not last:
        keys.extend(f"b{w}" for w in (*first, *last))  # blank name on the profile
    keys.extend(f"c{w}" for w in (*first, *last))
    anchors = name_anchors(first[0]) if first else frozenset()
    keys.extend(f"n{w}|{a}" for a in anchors for w in last)
    if p.birth_date is not None:  # a nickname or one shared word with the same birth date
        keys.extend(f"d{p.birth_date}|{w}" for w in anchors.union(p.first, p.last))
    return keys


def _child_keys(c: Person, givens: set[str]) -> list[str]:
    keys: list[str] = []
    keys.extend(f"b{w}" for w in (*givens, *c.last))
    if not givens or not c.last:
        keys.extend(f"c{w}" for w in (*givens, *c.last))  # blank name on the child
    families = _given_families(c)
    keys.extend(f"n{w}|{g}" for g in families for w in c.last)
    if c.birth_date is not None:
        words = families.union(c.first, c.last)
        for d in {c.birth_date, _swapped_date(c.birth_date)}:
            keys.extend(f"d{d}|{w}" for w in words)
    return keys


def nominate(
    children: Sequence[Person],
    profiles: Sequence[Person],
    *,
    cutoff: int = NAME_CUTOFF,
    thorough: bool = False,
) -> list[set[int]]:
    """For each child (by position), the positions of profiles worth weighing.

    ``thorough`` (the picker) adds every profile whose name key is within ``cutoff`` of the
    child's: quadratic for a whole service, linear for the one child a person is looking at.
    """
    found = _by_blocks(children, profiles)
    _by_birth_date(children, profiles, found)
    if thorough and children and profiles:
        _by_name_keys(children, profiles, found, cutoff)
    return found


def _by_blocks(children: Sequence[Person], profiles: Sequence[Person]) -> list[set[int]]:
    """Dictionary channels: names one edit per word apart, blank names, nicknames."""
    found = _by_one_edit(children, profiles)
    blocks: dict[str, int | list[int]] = {}
    for j, p in enumerate(profiles):
        for key in _profile_keys(p):
            _index(blocks, key, j)
    get = blocks.get
    for c, bucket in zip(children, found, strict=True):
        for key in _child_keys(c, _givens(c)):
            hits = get(key)
            if hits is None:
                continue
            if isinstance(hits, int):
                bucket.add(hits)
            else:
                bucket.update(hits)
    return found


def _by_one_edit(children: Sequence[Person], profiles: Sequence[Person]) -> list[set[int]]:
    """Given name and surname each at most one edit apart, either way round on the profile.

    A pair meets when one part is within one edit and the other starts with the same three
    letters (``kylie stanley`` / ``kyqie stanleu``: kylie~kyqie and sta, or kyl and
    stanley~stanleu); one part alone would put every Smith in one block.
    """
    blocks: dict[str, int | list[int]] = {}
    given_words: set[str] = set()
    surname_words: set[str] = set()
    for j, p in enumerate(profiles):
        for first in p.first[:1]:
            f3 = first[:_PREFIX]
            for word in p.last:  # as typed, and swapped: the surname word as the given name
                w3 = word[:_PREFIX]
                for key in (f"g{first}|{w3}", f"s{f3}|{word}", f"g{word}|{f3}", f"s{w3}|{first}"):
                    _index(blocks, key, j)
                given_words.update((first, word))
                surname_words.update((first, word))
    givens = [_givens(c) for c in children]
    near_given = _near_words(set().union(*givens), given_words)
    near_surname = _near_words({w for c in children for w in c.last}, surname_words)
    get = blocks.get
    found: list[set[int]] = []
    for c, mine in zip(children, givens, strict=True):
        bucket: set[int] = set()
        for given in mine:
            g3 = given[:_PREFIX]
            for surname in c.last:
                s3 = surname[:_PREFIX]
                keys = [f"g{g}|{s3}" for g in near_given[given]]
                keys += [f"s{g3}|{w}" for w in near_surname[surname]]
                for key in keys:
                    hits = get(key)
                    if hits is None:
                        continue
                    if isinstance(hits, int):
                        bucket.add(hits)
                    else:
                        bucket.update(hits)
        found.append(bucket)
    return found


def _index(blocks: dict[str, int | list[int]], key: str, j: int) -> None:
    """Most keys name a single profile, so a block is a bare position until a second profile
    joins it: tens of thousands fewer lists for the garbage collector to walk."""
    held = blocks.get(key)
    if held is None:
        blocks[key] = j
    elif isinstance(held, int):
        if held != j:
            blocks[key] = [held, j]
    elif held[-1] != j:
        held.append(j)


def _by_birth_date(
    children: Sequence[Person], profiles: Sequence[Person], found: list[set[int]]
) -> None:
    """Every pair born the same day (or day/month swapped), unless the names share nothing."""
    by_date: defaultdict[dt.date, list[int]] = defaultdict(list)
    for j, p in enumerate(profiles):
        if p.birth_date is not None:
            by_date[p.birth_date].append(j)
    rows: list[int] = []
    cols: list[int] = []
    for i, c in enumerate(children):
        if c.birth_date is None:
            continue
        dates = {c.birth_date, _swapped_date(c.birth_date)}
        for d in dates:
            hits = by_date.get(d)
            if hits:
                rows.extend([i] * len(hits))
                cols.extend(hits)
    if not rows:
        return
    # Names as typed and swapped, not sorted keys: a typo in a first letter reorders those.
    typed = [" ".join(c.first + c.last) for c in children]
    wanted = [typed[i] for i in rows]
    near = np.zeros(len(rows), dtype=bool)
    for swap in (False, True):
        shown = [_as_typed(p, swap) for p in profiles]
        near |= _alike(wanted, [shown[j] for j in cols])
    # Where a part is blank on either side, the parts there are compared one by one.
    whole_c = np.array([bool(c.first and c.last) for c in children], dtype=bool)
    whole_p = np.array([bool(p.first and p.last) for p in profiles], dtype=bool)
    one_blank = np.flatnonzero(~(whole_c[rows] & whole_p[cols]))
    if len(one_blank):
        kids = [children[rows[k]] for k in one_blank.tolist()]
        offered = [profiles[cols[k]] for k in one_blank.tolist()]
        parts = [(c.first, c.last) for c in kids], [(p.first, p.last) for p in offered]
        for mine, theirs in ((0, 0), (1, 1), (0, 1), (1, 0)):
            a = [" ".join(part[mine]) for part in parts[0]]
            b = [" ".join(part[theirs]) for part in parts[1]]
            typed_both = np.array([bool(x and y) for x, y in zip(a, b, strict=True)], dtype=bool)
            near[one_blank] |= _alike(a, b) & typed_both
    for k in np.flatnonzero(near).tolist():
        found[rows[k]].add(cols[k])


def _alike(a: list[str], b: list[str]) -> np.ndarray:
    """Which pairs (a[k], b[k]) are not plainly two people's names."""
    scores = process.cpdist(
        a, b, scorer=fuzz.ratio, score_cutoff=SAME_DATE_CUTOFF, dtype=np.uint8, workers=-1
    )
    alike: np.ndarray = np.asarray(scores > 0)
    return alike


def _as_typed(p: Person, swap: bool) -> str:
    return " ".join(p.last + p.first if swap else p.first + p.last)


def _by_name_keys(
    children: Sequence[Person], profiles: Sequence[Person], found: list[set[int]], cutoff: int
) -> None:
    profile_keys = [p.key for p in profiles]
    for start in range(0, len(children), _ROWS_PER_CHUNK):
        chunk = range(start, min(start + _ROWS_PER_CHUNK, len(children)))
        scores = process.cdist(
            [children[i].key for i in chunk],
            profile_keys,
            scorer=fuzz.ratio,
            score_cutoff=cutoff,
            dtype=np.uint8,
            workers=-1,
        )
        hit_rows, hit_cols = np.nonzero(scores)
        for row, col in zip(hit_rows.tolist(), hit_cols.tolist(), strict=True):
            found[chunk[row]].add(col)
