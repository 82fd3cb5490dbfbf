"""Accuracy on realistic messy data (the benchmark's generator, smaller): the numbers we tuned on.

The generator knows which profiles really are each child, so we can count what matters: wrong
links (must be none), children whose profile is found (linked or offered for review), and
children without a profile who are proposed for creation.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from smtui.match import match_children

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_match.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_match", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while defining
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_no_wrong_links_and_profiles_are_found(bench, seed):
    pop = bench.population(800, 800, seed=seed)
    proposals = match_children(pop.children, pop.profiles)
    wrong = [
        p for p in proposals if p.action == "link" and p.profile_id not in pop.truth[p.child_id]
    ]
    assert wrong == []

    with_profile = [p for p in proposals if pop.truth[p.child_id]]
    found = [
        p
        for p in with_profile
        if p.profile_id in pop.truth[p.child_id] or set(p.alternatives) & pop.truth[p.child_id]
    ]
    assert len(found) / len(with_profile) >= 0.97
    linked = [p for p in with_profile if p.action == "link"]
    assert len(linked) / len(with_profile) >= 0.75  # most need no person at all

    without = [p for p in proposals if not pop.truth[p.child_id]]
    assert sum(p.action == "create" for p in without) / len(without) >= 0.95
