"""Match CCMS children to portfolio profiles, one to one, erring towards asking a person.

A wrong link shows one family another child's portfolio; a review costs a person a click. So a
pair is only ever *linked* on a strong name and an exactly equal birth date (or an existing link),
and every guard below can only turn a link into a review, never the other way round.

Assignment is greedy by evidence over all candidate pairs, strongest first (tier, then score, then
active before archived, then ids in natural order for determinism). We chose greedy over an
optimal assignment (Hungarian) because its outcome is explainable in one sentence per child
("the closer match took it"), it never trades a confident pair away to raise a total, and the
candidate graph is so sparse that the two rarely differ.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence

from smtui.match.candidates import nominate
from smtui.match.evidence import (
    LINK,
    REVIEW,
    Evidence,
    Person,
    assess,
    child_person,
    natural_key,
    profile_person,
)
from smtui.match.results import Proposal
from smtui.records import Child, Profile


def _twin_index(people: Sequence[Person]) -> dict[str, list[Person]]:
    """For each person, the others sharing a birth date and a surname word (twins, triplets)."""
    groups: dict[tuple[object, str], list[Person]] = defaultdict(list)
    for person in people:
        if person.birth_date is not None:
            for word in set(person.last):
                groups[(person.birth_date, word)].append(person)
    twins: dict[str, list[Person]] = defaultdict(list)
    for members in groups.values():
        if len(members) > 1:
            for person in members:
                known = {t.id for t in twins[person.id]}
                twins[person.id].extend(
                    o for o in members if o.id != person.id and o.id not in known
                )
    return twins


def _guard_twins(ev: Evidence, child_twins: list[Person], profile_twins: list[Person]) -> Evidence:
    """Twins share surname and birth date, so only the given name tells them apart.

    Without a well-agreeing given name (exact, preferred or a known nickname) a pair involving a
    twin is at most a review, and the reason names the twin.
    """
    if ev.tier < REVIEW or ev.agree_well or not (child_twins or profile_twins):
        return ev
    if child_twins:
        note = f"twin of {min(child_twins, key=lambda p: natural_key(p.id)).shown}: names differ"
    else:
        note = "profile has a twin with the same surname and birth date: names differ"
    return ev._replace(tier=REVIEW, guard_note=note)


def _suggestion_key(profile: Profile) -> tuple[object, ...]:
    """Which of a child's duplicate profiles to suggest: the one the family most likely uses."""
    return (
        profile.archived,
        profile.birth_date is None,
        profile.invitation_status not in ("accepted", "pending"),
        natural_key(profile.id),
    )


def _looks_like(ev: Evidence) -> bool:
    """Strong name and nothing against it: a profile that could be this very child."""
    return ev.strong and ev.dob in ("same", "missing")


def _confirmed_duplicate(best: Evidence, other: Evidence) -> bool:
    """A second profile with the same strong name and the same birth date: one child, twice.

    Only these are held for the child during assignment; a look-alike without a birth date may
    just as well belong to a same-named child, so it is mentioned but left for others.
    """
    return best.strong and other.strong and best.dob == other.dob == "same"


def _pre_linked(
    children: Sequence[Child], profiles: Sequence[Profile], linked: Mapping[str, str]
) -> dict[str, str]:
    """child_id -> profile_id for pairs linked before; explicit mappings win over external_ref."""
    child_ids = {c.id for c in children}
    profile_ids = {p.id for p in profiles}
    fixed: dict[str, str] = {}
    taken: set[str] = set()
    for child_id, profile_id in sorted(linked.items(), key=lambda kv: natural_key(kv[0])):
        if child_id in child_ids and profile_id in profile_ids and profile_id not in taken:
            fixed[child_id] = profile_id
            taken.add(profile_id)
    referenced = sorted((p for p in profiles if p.external_ref), key=lambda p: natural_key(p.id))
    for profile in referenced:
        ref = profile.external_ref
        if ref in child_ids and ref not in fixed and profile.id not in taken:
            fixed[ref] = profile.id
            taken.add(profile.id)
    return fixed


def match_children(
    children: Sequence[Child],
    profiles: Sequence[Profile],
    *,
    linked: Mapping[str, str] | None = None,
) -> list[Proposal]:
    """One proposal per child, in the children's order; no profile is proposed for two children.

    ``linked`` (child_id -> profile_id from existing mappings) and profiles whose external_ref is a
    child's id are kept as links. Any profile linked elsewhere (listed in ``linked`` or carrying
    an external_ref) is never offered to another child.
    """
    linked = dict(linked or {})
    fixed = _pre_linked(children, profiles, linked)
    claimed = set(linked.values()) | {p.id for p in profiles if p.external_ref}
    all_children = [child_person(c) for c in children]
    open_children = [c for c in all_children if c.id not in fixed]
    free_profiles = sorted(
        (profile_person(p) for p in profiles if p.id not in claimed),
        key=lambda p: natural_key(p.id),
    )
    # Ties break on ids in natural order, never on input order.
    child_rank = {
        c.id: n for n, c in enumerate(sorted(open_children, key=lambda c: natural_key(c.id)))
    }
    profile_rank = {p.id: n for n, p in enumerate(free_profiles)}

    def rank(ev: Evidence) -> tuple[object, ...]:
        return (
            -ev.tier,
            -ev.score,
            ev.archived,
            child_rank[ev.child_id],
            profile_rank[ev.profile_id],
        )

    options, contradicted = _weigh(all_children, open_children, free_profiles, rank)
    chosen, taken, lost = _assign(options, rank)

    by_id = {p.id: p for p in profiles}
    proposals: list[Proposal] = []
    for child in children:
        if child.id in fixed:
            proposals.append(Proposal(child.id, "link", fixed[child.id], 100.0, "already linked"))
        elif child.id in chosen:
            ev, held = chosen[child.id]
            free = [o for o in options[child.id] if o.profile_id not in taken]
            loose = tuple(o.profile_id for o in free if _looks_like(ev) and _looks_like(o))
            extra = tuple(o.profile_id for o in free if o.profile_id not in loose)
            proposals.append(_proposal(ev, held, loose, extra, by_id))
        else:
            proposals.append(_create(child.id, contradicted.get(child.id), lost.get(child.id)))
    return proposals


def _weigh(
    all_children: Sequence[Person],
    open_children: Sequence[Person],
    free_profiles: Sequence[Person],
    rank: Callable[[Evidence], tuple[object, ...]],
) -> tuple[dict[str, list[Evidence]], dict[str, Evidence]]:
    """Per child: plausible pairs best first, and the strongest name ruled out by birth date."""
    child_twins = _twin_index(all_children)
    profile_twins = _twin_index(free_profiles)
    options: dict[str, list[Evidence]] = {}
    contradicted: dict[str, Evidence] = {}
    for child, found in zip(open_children, nominate(open_children, free_profiles), strict=True):
        mine: list[Evidence] = []
        for j in found:
            profile = free_profiles[j]
            ev = _guard_twins(
                assess(child, profile),
                child_twins.get(child.id, []),
                profile_twins.get(profile.id, []),
            )
            if ev.tier >= REVIEW:
                mine.append(ev)
            elif ev.dob == "far" and ev.strong:
                prior = contradicted.get(child.id)
                if prior is None or rank(ev) < rank(prior):
                    contradicted[child.id] = ev
        options[child.id] = sorted(mine, key=rank)
    return options, contradicted


def _assign(
    options: Mapping[str, list[Evidence]], rank: Callable[[Evidence], tuple[object, ...]]
) -> tuple[dict[str, tuple[Evidence, tuple[str, ...]]], dict[str, str], dict[str, tuple[str, str]]]:
    """Greedy one-to-one: strongest pair first; a child's confirmed duplicates are held for it.

    Returns chosen (child_id -> (pair, held duplicate ids)), taken (profile_id -> child_id) and
    lost (child_id -> (profile_id, winning child_id)) for children whose best profile went
    elsewhere.
    """
    chosen: dict[str, tuple[Evidence, tuple[str, ...]]] = {}
    taken: dict[str, str] = {}
    lost: dict[str, tuple[str, str]] = {}
    for ev in sorted((ev for mine in options.values() for ev in mine), key=rank):
        if ev.child_id in chosen:
            continue
        if ev.profile_id in taken:
            lost.setdefault(ev.child_id, (ev.profile_id, taken[ev.profile_id]))
            continue
        held = tuple(
            o.profile_id
            for o in options[ev.child_id]
            if o.profile_id != ev.profile_id
            and o.profile_id not in taken
            and _confirmed_duplicate(ev, o)
        )
        chosen[ev.child_id] = (ev, held)
        for profile_id in (ev.profile_id, *held):
            taken[profile_id] = ev.child_id
    return chosen, taken, lost


_COUNTS = {2: "two", 3: "three"}


def _proposal(
    ev: Evidence,
    held: tuple[str, ...],
    loose: tuple[str, ...],
    extra: tuple[str, ...],
    by_id: Mapping[str, Profile],
) -> Proposal:
    """Link, review, or a "pick one" review when several profiles look like this child."""
    if held or loose:
        group = sorted((ev.profile_id, *held), key=lambda pid: _suggestion_key(by_id[pid]))
        listed = ", ".join(sorted((*group, *loose), key=natural_key))
        count = len(group) + len(loose)
        reason = f"{_COUNTS.get(count, count)} profiles look like this child ({listed}): pick one"
        alternatives = (*group[1:], *loose, *extra)
        return Proposal(ev.child_id, "review", group[0], ev.score, reason, alternatives)
    action = "link" if ev.tier == LINK else "review"
    return Proposal(ev.child_id, action, ev.profile_id, ev.score, ev.reason(), extra)


def _create(child_id: str, contradicted: Evidence | None, lost: tuple[str, str] | None) -> Proposal:
    if contradicted is not None:
        exact = contradicted.first.kind == contradicted.last.kind == "exact"
        same = "same name" if exact and not contradicted.swapped else "similar name"
        reason = f"{same} as {contradicted.profile_id} but {contradicted.dob_note}"
    elif lost is not None:
        reason = f"closest profile {lost[0]} fits child {lost[1]} better; no other similar profile"
    else:
        reason = "no similar profile"
    return Proposal(child_id, "create", None, 0.0, reason)
