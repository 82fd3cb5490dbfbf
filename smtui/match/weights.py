"""Fellegi-Sunter weights learned per service, without labels, from the candidate pairs.

How much "same surname" says depends on the service: in a service of Nguyens it says little, and a
rare surname says more than "Smith". So each field's levels (given name, surname, birth date) get
an m probability (how often a true pair shows that level) learned by expectation maximisation over
the service's own candidate pairs, and a u probability (how often two different children do)
measured on the service's own lists; exact names are adjusted by how common the name is.

The matcher uses the probability in three places, each able only to move a pair one step: a
reviewable pair becomes a link when it is overwhelming and nothing vetoes it, a pair the tiers
call implausible is shown to a person when it is likely, and a name unique in both lists links
without a birth date only when its names are trusted. The guards in the matcher still decide
twins, siblings and namesakes.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.random import Generator
from rapidfuzz import fuzz, process

from smtui.match.evidence import FAR_DAYS, Evidence, Person
from smtui.match.names import compare_first, compare_last, name_family

FIRST_LEVELS = ("exact", "close", "slip", "typo", "near", "blank", "different")
LAST_LEVELS = ("exact", "part", "typo", "near", "blank", "different")
DOB_LEVELS = ("same", "swapped", "digit", "close", "far", "missing")
_FIRST = {"preferred": 1, "middle": 1, "nickname": 1} | {k: i for i, k in enumerate(FIRST_LEVELS)}
_LAST = {k: i for i, k in enumerate(LAST_LEVELS)}
_DOB = {k: i for i, k in enumerate(DOB_LEVELS)}
# A part left blank says nothing either way (splink's null level): weight 0, whatever EM finds.
_BLANK = (_FIRST["blank"], _LAST["blank"], _DOB["missing"])
# What a true pair usually shows, before the service's own pairs say otherwise.
_M_START = (
    np.array([0.75, 0.08, 0.05, 0.05, 0.02, 0.02, 0.03]),
    np.array([0.8, 0.05, 0.07, 0.02, 0.03, 0.03]),
    np.array([0.8, 0.02, 0.04, 0.02, 0.01, 0.11]),
)
PRIOR_PAIRS = 20.0  # the start m counts as this many true pairs: a small service keeps it
U_SAMPLE = 20_000  # random pairs per field for the u of the levels not counted exactly
_SIMILAR = 60  # name ratio (0..100) under which two names are no level but different
EM_ROUNDS = 25
MIN_PEOPLE = 200  # fewer children or profiles: too few pairs to learn from, and a person
# deciding a handful of reviews is cheap; so a small service keeps the tiers alone


def levels(ev: Evidence) -> tuple[int, int, int]:
    return _FIRST[ev.first.kind], _LAST[ev.last.kind], _DOB[ev.dob]


@dataclass(frozen=True, slots=True)
class Weights:
    """Learned log-odds per level, the prior log-odds of a random pair, and name frequencies."""

    prior: float
    log_ratio: tuple[np.ndarray, np.ndarray, np.ndarray]
    first_share: dict[str, float]
    last_share: dict[str, float]
    first_exact_u: float
    last_exact_u: float

    def probability(self, ev: Evidence, child: Person, profile: Person) -> float:
        """Match probability of one pair: prior + per-field weights + name-frequency adjustment."""
        return probability(self.log_odds(ev, child, profile))

    def log_odds(self, ev: Evidence, child: Person, profile: Person) -> float:
        """The same as log-odds, which add up: the matcher moves its bars on this scale."""
        f, s, d = levels(ev)
        ratio = self.log_ratio
        odds = self.prior + float(ratio[0][f] + ratio[1][s] + ratio[2][d])
        if f == 0 and child.first:
            share = self.first_share.get(child.first[0], self.first_exact_u)
            odds += math.log(self.first_exact_u / share)
        if s == 0 and child.last:
            share = self.last_share.get(" ".join(child.last), self.last_exact_u)
            odds += math.log(self.last_exact_u / share)
        return odds


def probability(log_odds: float) -> float:
    """Log-odds to a probability, without overflowing for pairs that are certain either way."""
    return 1.0 / (1.0 + math.exp(-max(-700.0, min(700.0, log_odds))))


def _shares(words: Sequence[str]) -> dict[str, float]:
    counts = Counter(w for w in words if w)
    total = sum(counts.values()) or 1
    return {w: n / total for w, n in counts.items()}


def _swap(d: dt.date) -> dt.date | None:
    """What ``d`` reads as with day and month swapped (``compare_dates``' "swapped"), if other."""
    return dt.date(d.year, d.day, d.month) if d.day <= 12 and d.day != d.month else None


def _date_rows(dates: Sequence[dt.date]) -> np.ndarray:
    """Day number, then the eight digits of YYYY-MM-DD: a digit typo is one column apart."""
    ymd = np.array([(d.year, d.month, d.day) for d in dates], dtype=np.int64)
    ordinal = np.array([d.toordinal() for d in dates], dtype=np.int64)
    year, month, day = ymd.T
    digits = [year // 1000, year // 100 % 10, year // 10 % 10, year % 10]
    digits += [month // 10, month % 10, day // 10, day % 10]
    return np.column_stack([ordinal, *digits])


def _dob_u(children: Sequence[Person], profiles: Sequence[Person], rng: Generator) -> np.ndarray:
    """How often two different children show each birth-date level.

    "same", "swapped" and "missing" exactly, from the dates' frequencies: a sample of random
    pairs rarely sees a shared birthday, and a floor in its place understates by an order of
    magnitude what a shared birth date says where birth dates span decades. The rest by sampling.
    """
    u = np.zeros(len(DOB_LEVELS))
    born_c = [c.birth_date for c in children if c.birth_date is not None]
    born_p = [p.birth_date for p in profiles if p.birth_date is not None]
    pairs = len(children) * len(profiles)
    u[_DOB["missing"]] = 1.0 - len(born_c) * len(born_p) / pairs
    if not (born_c and born_p):
        return _floored(u)
    on_c, on_p = Counter(born_c), Counter(born_p)
    u[_DOB["same"]] = sum(n * on_p[d] for d, n in on_c.items()) / pairs
    swaps = ((_swap(d), n) for d, n in on_c.items())
    u[_DOB["swapped"]] = sum(n * on_p[s] for s, n in swaps if s is not None) / pairs
    a = _date_rows(born_c)[rng.integers(len(born_c), size=U_SAMPLE)]
    b = _date_rows(born_p)[rng.integers(len(born_p), size=U_SAMPLE)]
    # Columns 1-4 year, 5-6 month, 7-8 day: a swap moves the day's digits into the month's.
    swapped = (a[:, 1:5] == b[:, 1:5]).all(axis=1) & (a[:, 5:7] == b[:, 7:9]).all(axis=1)
    swapped &= (a[:, 7:9] == b[:, 5:7]).all(axis=1) & (a[:, 5:7] != a[:, 7:9]).any(axis=1)
    digits = (a[:, 1:] != b[:, 1:]).sum(axis=1)
    rest = (digits > 0) & ~swapped
    far = np.abs(a[:, 0] - b[:, 0]) > FAR_DAYS
    near = rest & ~far
    seen = np.array(
        [(near & (digits == 1)).sum(), (near & (digits > 1)).sum(), (rest & far).sum()], float
    )
    left = 1.0 - u[_DOB["missing"]] - u[_DOB["same"]] - u[_DOB["swapped"]]
    u[[_DOB["digit"], _DOB["close"], _DOB["far"]]] = left * (seen + 0.5) / (seen.sum() + 1.5)
    return _floored(u)


def _floored(u: np.ndarray) -> np.ndarray:
    """No level is impossible: a level a service never shows still gets a finite weight."""
    floored: np.ndarray = np.maximum(u, 1.0 / (U_SAMPLE * len(u)))
    shares: np.ndarray = floored / floored.sum()
    return shares


def _name_u(
    children: Sequence[Person],
    profiles: Sequence[Person],
    rng: Generator,
    part: Callable[[Person], tuple[str, ...]],
    level: Callable[[Person, Person], int],
    size: int,
) -> np.ndarray:
    """How often two different children show each level of one name part, from random pairs.

    The names of every pair are compared in C first; only the few that look alike are
    classified like a candidate pair, so a large sample stays cheap.
    """
    i = rng.integers(len(children), size=U_SAMPLE)
    j = rng.integers(len(profiles), size=U_SAMPLE)
    shown_c = [" ".join(part(c)) for c in children]
    shown_p = [" ".join(part(p)) for p in profiles]
    ratio = process.cpdist(
        [shown_c[k] for k in i.tolist()],
        [shown_p[k] for k in j.tolist()],
        scorer=fuzz.ratio,
        dtype=np.uint8,
    )
    blank = np.array([not s for s in shown_c])[i] | np.array([not s for s in shown_p])[j]
    found = np.full(U_SAMPLE, size - 1, dtype=np.int64)  # "different", the last level
    found[blank] = size - 2  # "blank"
    for k in np.flatnonzero((ratio >= _SIMILAR) & ~blank).tolist():
        found[k] = level(children[i[k]], profiles[j[k]])
    counts = np.bincount(found, minlength=size).astype(float) + 0.5
    shares: np.ndarray = counts / counts.sum()
    return shares


def _nickname_u(children: Sequence[Person], profiles: Sequence[Person]) -> float:
    """How often two different children's given names are nicknames of each other (Liz, Beth):
    counted from the names' frequencies, as such pairs are too unalike for the sample's filter."""
    on_c = Counter(c.first[0] for c in children if c.first)
    on_p = Counter(p.first[0] for p in profiles if p.first)
    pairs = sum(n * on_p[other] for name, n in on_c.items() for other in name_family(name) - {name})
    return pairs / (len(children) * len(profiles))


def _first_level(child: Person, profile: Person) -> int:
    return _FIRST[compare_first(child.first, child.preferred, profile.first, "", "").kind]


def _last_level(child: Person, profile: Person) -> int:
    return _LAST[compare_last(child.last, profile.last, "").kind]


def _given(person: Person) -> tuple[str, ...]:
    return person.first


def _surname(person: Person) -> tuple[str, ...]:
    return person.last


def learn(
    children: Sequence[Person], profiles: Sequence[Person], candidates: Sequence[Evidence]
) -> Weights | None:
    """Weights for this service, or None when the lists are too small to learn anything from."""
    if len(children) < MIN_PEOPLE or len(profiles) < MIN_PEOPLE or not candidates:
        return None
    rng = np.random.default_rng(len(children) * 7919 + len(profiles))  # local: no global state
    u = [
        _name_u(children, profiles, rng, _given, _first_level, len(FIRST_LEVELS)),
        _name_u(children, profiles, rng, _surname, _last_level, len(LAST_LEVELS)),
        _dob_u(children, profiles, rng),
    ]
    close = _FIRST["close"]
    u[0][close] = max(u[0][close], _nickname_u(children, profiles))
    sizes = (len(FIRST_LEVELS), len(LAST_LEVELS), len(DOB_LEVELS))
    first_c = _shares([c.first[0] if c.first else "" for c in children])
    first_p = _shares([p.first[0] if p.first else "" for p in profiles])
    last_c = _shares([" ".join(c.last) for c in children])
    last_p = _shares([" ".join(p.last) for p in profiles])
    first_exact_u = max(1e-6, sum(v * first_p.get(k, 0.0) for k, v in first_c.items()))
    last_exact_u = max(1e-6, sum(v * last_p.get(k, 0.0) for k, v in last_c.items()))
    u[0][0], u[1][0] = first_exact_u, last_exact_u

    patterns = Counter(levels(ev) for ev in candidates)
    pats = np.array(list(patterns), dtype=np.int64)
    counts = np.array(list(patterns.values()), dtype=float)
    m = [start.copy() for start in _M_START]
    share = min(0.9, max(0.01, min(len(children), len(profiles)) / len(candidates)))
    for _ in range(EM_ROUNDS):
        like_m = share * m[0][pats[:, 0]] * m[1][pats[:, 1]] * m[2][pats[:, 2]]
        like_u = (1 - share) * u[0][pats[:, 0]] * u[1][pats[:, 1]] * u[2][pats[:, 2]]
        weight = counts * like_m / (like_m + like_u)
        share = float(min(0.99, max(1e-4, weight.sum() / counts.sum())))
        for k in range(3):
            totals = np.bincount(pats[:, k], weights=weight, minlength=sizes[k])
            m[k] = (totals + PRIOR_PAIRS * _M_START[k]) / (totals.sum() + PRIOR_PAIRS)
    matches = share * counts.sum()
    prior_p = min(0.5, matches / (len(children) * len(profiles)))
    log_ratio = (np.log(m[0] / u[0]), np.log(m[1] / u[1]), np.log(m[2] / u[2]))
    for ratio, blank in zip(log_ratio, _BLANK, strict=True):
        ratio[blank] = 0.0
    return Weights(
        prior=math.log(prior_p / (1 - prior_p)),
        log_ratio=log_ratio,
        first_share={k: max(v, first_p.get(k, 0.0)) for k, v in first_c.items()},
        last_share={k: max(v, last_p.get(k, 0.0)) for k, v in last_c.items()},
        first_exact_u=first_exact_u,
        last_exact_u=last_exact_u,
    )
