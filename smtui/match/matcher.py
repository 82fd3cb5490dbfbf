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
from collections.abc import Mapping, Sequence
from dataclasses import replace

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
        for person in members:
            for other in members:
                if other.id != person.id and other not in twins[person.id]:
                    twins[person.id].append(other)
    return twins


def _guard_twins(
    ev: Evidence, child_twins: list[Person], profile_twins: list[Person]
) -> Evidence:
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
    return replace(ev, tier=REVIEW, guard_note=note)


def _suggestion_key(profile: Profile) -> tuple[object, ...]:
    """Which of a child's duplicate profiles to suggest: the one the family most likely uses."""
    return (
        profile.archived,
        profile.birth_date is None,
        profile.invitation_status not in ("accepted", "pending"),
        natural_key(profile.id),
    )


def _is_duplicate_of(best: Evidence, other: Evidence) -> bool:
    """Another profile that looks like this child as much as the best one does."""
    if not (other.strong and other.dob in ("same", "missing")):
        return False
    return best.strong and best.dob in ("same", "missing")


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
    for profile in sorted(profiles, key=lambda p: natural_key(p.id)):
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
    by_id = {p.id: p for p in profiles}

    open_children = [child_person(c) for c in children if c.id not in fixed]
    free_profiles = [profile_person(p) for p in profiles if p.id not in claimed]
    free_profiles.sort(key=lambda p: natural_key(p.id))
    nominated = nominate(open_children, free_profiles)

    child_twins = _twin_index([child_person(c) for c in children])
    profile_twins = _twin_index(free_profiles)
    options: dict[str, list[Evidence]] = {}
    contradicted: dict[str, Evidence] = {}
    pairs: list[Evidence] = []
    for child, found in zip(open_children, nominated, strict=True):
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
                if prior is None or ev.name_score > prior.name_score:
                    contradicted[child.id] = ev
        mine.sort(key=_rank)
        options[child.id] = mine
        pairs.extend(mine)
    pairs.sort(key=_rank)

    chosen: dict[str, tuple[Evidence, tuple[str, ...]]] = {}
    taken: dict[str, str] = {}  # profile_id -> child_id
    lost: dict[str, tuple[str, str]] = {}  # child_id -> (profile_id, winner child_id)
    for ev in pairs:
        if ev.child_id in chosen:
            continue
        if ev.profile_id in taken:
            lost.setdefault(ev.child_id, (ev.profile_id, taken[ev.profile_id]))
            continue
        dupes = tuple(
            o
            for o in options[ev.child_id]
            if o.profile_id != ev.profile_id
            and o.profile_id not in taken
            and _is_duplicate_of(ev, o)
        )
        chosen[ev.child_id] = (ev, tuple(o.profile_id for o in dupes))
        for o in (ev, *dupes):
            taken[o.profile_id] = ev.child_id

    proposals: list[Proposal] = []
    for child in children:
        if child.id in fixed:
            proposals.append(Proposal(child.id, "link", fixed[child.id], 100.0, "already linked"))
        elif child.id in chosen:
            ev, dupes = chosen[child.id]
            extra = tuple(
                o.profile_id
                for o in options[child.id]
                if o.profile_id not in taken and o.profile_id != ev.profile_id
            )
            proposals.append(_proposal(ev, dupes, extra, by_id))
        else:
            proposals.append(_create(child.id, contradicted.get(child.id), lost.get(child.id)))
    return proposals


def _rank(ev: Evidence) -> tuple[object, ...]:
    return (-ev.tier, -ev.score, ev.archived, natural_key(ev.child_id), natural_key(ev.profile_id))


def _proposal(
    ev: Evidence,
    dupes: tuple[str, ...],
    extra: tuple[str, ...],
    by_id: Mapping[str, Profile],
) -> Proposal:
    if dupes:
        group = sorted((ev.profile_id, *dupes), key=lambda pid: _suggestion_key(by_id[pid]))
        suggested, others = group[0], tuple(group[1:])
        listed = ", ".join(sorted(group, key=natural_key))
        reason = f"{len(group)} profiles look like this child ({listed}): pick one"
        return Proposal(ev.child_id, "review", suggested, ev.score, reason, others + extra)
    action = "link" if ev.tier == LINK else "review"
    return Proposal(ev.child_id, action, ev.profile_id, ev.score, ev.reason(), extra)


def _create(
    child_id: str, contradicted: Evidence | None, lost: tuple[str, str] | None
) -> Proposal:
    if contradicted is not None:
        reason = f"same name as {contradicted.profile_id} but {contradicted.dob_note}"
    elif lost is not None:
        reason = f"closest profile {lost[0]} fits child {lost[1]} better; no other similar profile"
    else:
        reason = "no similar profile"
    return Proposal(child_id, "create", None, 0.0, reason)
