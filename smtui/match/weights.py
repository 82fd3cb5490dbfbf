"""Fellegi-Sunter weights learned per service, without labels, from the candidate pairs.

How much "same surname" says depends on the service: in a service of Nguyens it says little, and a
rare surname says more than "Smith". So each field's levels (given name, surname, birth date) get
an m probability (how often a true pair shows that level) learned by expectation maximisation over
the service's own candidate pairs, and a u probability (how often two different children do)
measured on a fixed sample of random pairs; exact names are adjusted by how common the name is.

The probability only *promotes* a reviewable pair to a link when it is overwhelming and nothing
vetoes it; the guards in the matcher still decide twins, siblings and namesakes.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from smtui.match.evidence import Evidence, Person, assess

FIRST_LEVELS = ("exact", "close", "slip", "typo", "blank", "different")
LAST_LEVELS = ("exact", "part", "typo", "blank", "different")
DOB_LEVELS = ("same", "swapped", "digit", "close", "far", "missing")
_FIRST = {"preferred": 1, "middle": 1, "nickname": 1} | {k: i for i, k in enumerate(FIRST_LEVELS)}
_LAST = {k: i for i, k in enumerate(LAST_LEVELS)}
_DOB = {k: i for i, k in enumerate(DOB_LEVELS)}
# What a true pair usually shows, before the service's own pairs say otherwise.
_M_START = (
    np.array([0.75, 0.08, 0.05, 0.05, 0.02, 0.05]),
    np.array([0.8, 0.05, 0.07, 0.03, 0.05]),
    np.array([0.8, 0.02, 0.04, 0.02, 0.01, 0.11]),
)
PRIOR_PAIRS = 20.0  # the start m counts as this many true pairs: a small service keeps it
RANDOM_PAIRS = 1000
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
        f, s, d = levels(ev)
        odds = self.prior + self.log_ratio[0][f] + self.log_ratio[1][s] + self.log_ratio[2][d]
        if f == 0 and child.first:
            share = self.first_share.get(child.first[0], self.first_exact_u)
            odds += math.log(self.first_exact_u / share)
        if s == 0 and child.last:
            share = self.last_share.get(" ".join(child.last), self.last_exact_u)
            odds += math.log(self.last_exact_u / share)
        return 1.0 / (1.0 + math.exp(-max(-700.0, min(700.0, odds))))


def _shares(words: Sequence[str]) -> dict[str, float]:
    counts = Counter(w for w in words if w)
    total = sum(counts.values()) or 1
    return {w: n / total for w, n in counts.items()}


def _u(random_levels: np.ndarray, field: int, size: int) -> np.ndarray:
    counts = np.bincount(random_levels[:, field], minlength=size).astype(float) + 0.5
    return counts / counts.sum()


def learn(
    children: Sequence[Person], profiles: Sequence[Person], candidates: Sequence[Evidence]
) -> Weights | None:
    """Weights for this service, or None when the lists are too small to learn anything from."""
    if len(children) < MIN_PEOPLE or len(profiles) < MIN_PEOPLE or not candidates:
        return None
    rng = random.Random(len(children) * 7919 + len(profiles))  # local: no process-wide state
    sample = [
        levels(assess(rng.choice(children), rng.choice(profiles))) for _ in range(RANDOM_PAIRS)
    ]
    random_levels = np.array(sample, dtype=np.int64)
    sizes = (len(FIRST_LEVELS), len(LAST_LEVELS), len(DOB_LEVELS))
    u = [_u(random_levels, k, sizes[k]) for k in range(3)]
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
    return Weights(
        prior=math.log(prior_p / (1 - prior_p)),
        log_ratio=(np.log(m[0] / u[0]), np.log(m[1] / u[1]), np.log(m[2] / u[2])),
        first_share={k: max(v, first_p.get(k, 0.0)) for k, v in first_c.items()},
        last_share={k: max(v, last_p.get(k, 0.0)) for k, v in last_c.items()},
        first_exact_u=first_exact_u,
        last_exact_u=last_exact_u,
    )
