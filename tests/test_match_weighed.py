"""Evidence weighed per service: what the learned weights may decide, and what they never may.

A service of a few hundred children is big enough for the matcher to learn its own weights
(``smtui.match.weights``); these tests build such services around the case under test.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math

import pytest

from smtui.match import Proposal, match_children
from smtui.match.evidence import assess, child_person, profile_person
from smtui.match.weights import DOB_LEVELS, learn
from smtui.records import Child, Profile

D = dt.date
START = D(2019, 1, 1)
UPDATED = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def child(cid: str, first: str, last: str, born: dt.date | None) -> Child:
    return Child(cid, first, last, born, "active", UPDATED)


def profile(pid: str, first: str, last: str, born: dt.date | None) -> Profile:
    return Profile(pid, first, last, born, archived=False)


def _word(i: int, salt: str) -> str:
    """A made-up name, random-looking: names for different i are never one typo apart."""
    digest = hashlib.sha256(f"{salt}{i}".encode()).digest()
    return "".join(chr(97 + b % 26) for b in digest[:7]).capitalize()


def _people(n: int, start: dt.date = START, step: int = 10) -> list[tuple[str, str, dt.date]]:
    """Made-up children born every ``step`` days: by default spread over years, as in a service."""
    return [
        (_word(i, "given"), _word(i, "family"), start + dt.timedelta(i * step)) for i in range(n)
    ]


def _service(
    kids: list[Child], profs: list[Profile], n: int = 220, replaced: str = ""
) -> dict[str, Proposal]:
    """n ordinary children, each with a matching profile, plus the case under test.

    ``replaced`` ("first" or "last") retypes that part of every fifth ordinary profile as
    another name with the same first four letters: a service whose names are often replaced
    outright, as FEBRL's are.
    """
    people = _people(n)
    ordinary = [child(f"k{i}", *person) for i, person in enumerate(people)]
    typed = []
    for i, (first, last, born) in enumerate(people):
        if replaced == "first" and i % 5 == 0:
            first = first[:4] + _word(i, "other")[:3].lower()
        elif replaced == "last" and i % 5 == 0:
            last = last[:4] + _word(i, "other")[:3].lower()
        typed.append(profile(f"q{i}", first, last, born))
    got = match_children([*kids, *ordinary], [*profs, *typed])
    return {p.child_id: p for p in got}


def test_a_shared_birth_date_weighs_what_the_lists_say_about_shared_birthdays():
    """Its weight comes from how many children share each birthday, counted, not sampled: a
    sample of random pairs rarely sees a shared birthday, and its floor said far too little.
    Where every birthday is shared by two children, a shared birthday says exactly half as much
    (log 2 less) as where none is."""

    def same_date_weight(days: int) -> float:
        people = [
            (g, f, START + dt.timedelta(i % days)) for i, (g, f, _) in enumerate(_people(600))
        ]
        kids = [child_person(child(f"c{i}", *p)) for i, p in enumerate(people)]
        profs = [profile_person(profile(f"p{i}", *p)) for i, p in enumerate(people)]
        weights = learn(kids, profs, [assess(c, p) for c, p in zip(kids, profs, strict=True)])
        assert weights is not None
        return float(weights.log_ratio[2][DOB_LEVELS.index("same")])

    assert same_date_weight(days=600) - same_date_weight(days=300) == pytest.approx(
        math.log(2), abs=0.01
    )


def test_a_profile_without_a_given_name_links_on_surname_and_birth_date():
    p = _service(
        [child("c1", "Kylie", "Stanley", D(2020, 4, 17))],
        [profile("p1", "", "Stanley", D(2020, 4, 17))],
    )["c1"]
    assert (p.action, p.profile_id, p.kind) == ("link", "p1", "weighed_evidence")
    assert p.reason == "profile has no first name, same birth date"


def test_a_profile_without_a_surname_links_on_given_name_and_birth_date():
    p = _service(
        [child("c1", "Kylie", "Stanley", D(2020, 4, 17))],
        [profile("p1", "Kylie", "", D(2020, 4, 17))],
    )["c1"]
    assert (p.action, p.profile_id, p.kind) == ("link", "p1", "weighed_evidence")
    assert p.reason == "profile has no surname, same birth date"


def test_a_profile_without_a_given_name_is_only_a_review_when_the_child_has_a_twin():
    got = _service(
        [
            child("c1", "Kylie", "Stanley", D(2020, 4, 17)),
            child("c2", "Mason", "Stanley", D(2020, 4, 17)),
        ],
        [profile("p1", "", "Stanley", D(2020, 4, 17))],
    )
    assert {got[c].action for c in ("c1", "c2")} <= {"review", "create"}
    assert "twin" in {got["c1"].kind, got["c2"].kind}


def test_two_slips_in_a_surname_link_but_not_in_a_given_name():
    """Nguyen typed Ngudn is one family; two letters of a given name may make another name."""
    got = _service(
        [
            child("c1", "Kylie", "Nguyen", D(2020, 4, 17)),
            child("c2", "Sebastian", "Stanley", D(2021, 2, 3)),
        ],
        [
            profile("p1", "Kylie", "Ngudn", D(2020, 4, 17)),
            profile("p2", "Sebaitan", "Stanley", D(2021, 2, 3)),
        ],
    )
    assert (got["c1"].action, got["c1"].kind) == ("link", "weighed_evidence")
    assert got["c1"].reason == "surname spelled differently (Ngudn), same birth date"
    assert (got["c2"].action, got["c2"].profile_id) == ("review", "p2")


def test_a_unique_name_typed_the_other_way_round_links_without_a_birth_date():
    p = _service([child("c1", "Noah", "Lee", D(2021, 5, 5))], [profile("p1", "Lee", "Noah", None)])[
        "c1"
    ]
    assert (p.action, p.kind) == ("link", "unique_name_no_birth_date")
    assert p.reason == (
        "first and last name swapped, unique in both lists, profile has no birth date"
    )


def test_a_unique_name_with_a_slip_links_without_a_birth_date_unless_the_slip_is_a_name():
    kids = [child("c1", "Isabella", "Fitzgerald", D(2020, 6, 1))]
    slip = _service(kids, [profile("p1", "Isabela", "Fitzgerald", None)])["c1"]
    assert (slip.action, slip.kind) == ("link", "unique_name_no_birth_date")
    # The same spelling as another child's name: maybe that child's profile after all.
    other = _service(
        [*kids, child("c2", "Isabela", "Fitzgerald", D(2017, 1, 9))],
        [profile("p1", "Isabela", "Fitzgerald", None)],
    )["c1"]
    assert other.action != "link"


def _common_name_service(replaced: str) -> Proposal:
    """Noah and Lee are each common here; Noah Lee is unique in both lists, with no birth date."""
    kids = [
        child(f"n{i}", "Noah", _word(i, "n"), D(2018, 1, 1) + dt.timedelta(i)) for i in range(30)
    ]
    kids += [
        child(f"l{i}", _word(i, "l"), "Lee", D(2018, 6, 1) + dt.timedelta(i)) for i in range(30)
    ]
    profs = [profile(f"p{c.id}", c.first_name, c.last_name, c.birth_date) for c in kids]
    kids.append(child("c1", "Noah", "Lee", D(2021, 5, 5)))
    profs.append(profile("p1", "Noah", "Lee", None))
    return _service(kids, profs, replaced=replaced)["c1"]


def test_names_alone_are_weighed_where_names_are_often_replaced():
    """Where a fifth of the profiles carry another surname, a unique name made of two common
    ones may as well be a renamed stranger's profile; where names are reliable it links."""
    assert _common_name_service(replaced="").action == "link"
    often = _common_name_service(replaced="last")
    assert (often.action, often.profile_id, often.kind) == ("review", "p1", "profile_no_birth_date")
    rare = _service(
        [child("c1", "Xanthe", "Hipkiss", D(2021, 5, 5))],
        [profile("p1", "Xanthe", "Hipkiss", None)],
        replaced="last",
    )["c1"]
    assert (rare.action, rare.kind) == ("link", "unique_name_no_birth_date")


def test_another_given_name_with_the_same_surname_and_birth_date_is_asked_where_that_is_common():
    """A given name typed over is a habit in some services and a twin in others: where the
    service's own pairs show it often, a person is asked; elsewhere a new profile is proposed."""
    kids = [child("c1", "Jasmine", "Silvestro", D(2020, 4, 17))]
    profs = [profile("p1", "Angus", "Silvestro", D(2020, 4, 17))]
    assert _service(kids, profs)["c1"].action == "create"
    p = _service(kids, profs, replaced="first")["c1"]
    assert (p.action, p.profile_id, p.kind) == ("review", "p1", "name_differs")


@pytest.mark.parametrize(
    ("name", "typed", "linked"),
    [
        ("Emma", "Emm", True),  # a final vowel dropped: no name
        ("Toby", "Tobt", True),  # a final letter changed to a consonant: no name
        ("Daniela", "Daniel", False),  # dropped, but a name (the nickname table knows it)
        ("Ellie", "Ellis", False),  # changed, but a name: another child has it
        ("Holly", "Holla", False),  # one final vowel for another: another name, always
        ("Daniel", "Daniela", False),  # a vowel added: another name, always
    ],
)
def test_a_slip_at_the_end_of_a_given_name_links_unless_it_makes_another_name(name, typed, linked):
    kids = [child("c1", name, "Stanley", D(2020, 4, 17))]
    if typed == "Ellis":
        kids.append(child("c2", "Ellis", "Moreau", D(2018, 3, 2)))
    p = _service(kids, [profile("p1", typed, "Stanley", D(2020, 4, 17))])["c1"]
    assert p.profile_id == "p1"
    assert p.action == ("link" if linked else "review")


def test_a_given_name_two_profiles_share_is_a_name_not_a_slip():
    kids = [child("c1", "Toby", "Stanley", D(2020, 4, 17))]
    profs = [
        profile("p1", "Tobt", "Stanley", D(2020, 4, 17)),
        profile("p2", "Tobt", "Moreau", D(2018, 3, 2)),
        profile("p3", "Tobt", "Kerrigan", None),
    ]
    assert _service(kids, profs)["c1"].action == "review"
