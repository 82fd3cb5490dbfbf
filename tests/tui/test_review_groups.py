"""The reviews grouped by reason, from the keyboard: r lists the groups with their counts, enter
shows one in the grid, A accepts the whole group (a review whose profile is taken stays in
review, and the confirmation says so), and one u puts the group back."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Any

from textual.widgets import OptionList
from tui_helpers import WHO, as_reviews, open_service, settle

from smtui import engine
from smtui.engine.mapping import review_groups
from smtui.match import REASON_LABELS
from smtui.tui.app import SmtuiApp
from smtui.tui.children import ChildrenPane
from smtui.tui.dialogs import Dialog
from smtui.tui.groups import GroupsScreen
from smtui.tui.service import ServiceScreen

SERVICE = "little-wattle"  # not set up
#: the reviews the tests add to the seeded data's own (as_reviews)
KINDS = {"unique_name_no_birth_date": 5, "birth_date_differs": 3}
UNIQUE = REASON_LABELS["unique_name_no_birth_date"]


def expected_prompts(store: Any) -> list[str]:
    """The groups' lines as the engine groups the rows (the CLI's setup prints the same)."""
    groups = review_groups(engine.child_rows(store, SERVICE))
    total = sum(len(g.child_ids) for g in groups)
    w = len(str(total))
    return [f"{total:>{w}}  every child in review"] + [
        f"{len(g.child_ids):>{w}}  {g.label}" for g in groups
    ]


def prompts(screen: GroupsScreen) -> list[str]:
    options = screen.query_one(OptionList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


async def open_group(pilot: Any, label: str) -> ChildrenPane:
    """r, then the group with this label, as a person picks it with the arrows and enter."""
    await pilot.press("r")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, GroupsScreen)
    index = next(i for i, p in enumerate(prompts(screen)) if p.endswith(f"  {label}"))
    await pilot.press(*["down"] * index, "enter")
    await pilot.pause()
    return pilot.app.screen.query_one(ChildrenPane)


async def test_a_group_is_seen_accepted_in_one_step_and_undone_in_one(
    make_app: Callable[[], SmtuiApp], store: Any, sandbox_today: dt.date
) -> None:
    group = as_reviews(store, SERVICE, KINDS)[:5]
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_service(pilot, SERVICE)
        screen = app.screen
        assert isinstance(screen, ServiceScreen) and screen.session is not None
        before = screen.session.preview()
        await pilot.press("r")
        await pilot.pause()
        groups = app.screen
        assert isinstance(groups, GroupsScreen)
        lines = prompts(groups)
        assert lines == expected_prompts(store)
        assert lines[1].split(None, 1) == ["5", UNIQUE], "largest group first, with its count"
        assert lines[2].split(None, 1) == ["3", REASON_LABELS["birth_date_differs"]]
        await pilot.press("escape")
        await pilot.pause()

        pane = await open_group(pilot, UNIQUE)
        shown = list(pane.shown_keys)
        assert sorted(shown) == sorted(group)
        for cid in shown:  # each row: the child, the suggested profile, the one-line reason
            row = pane.by_id[cid]
            assert row.action == "review" and row.profile_name
            assert str(pane.grid.get_cell(cid, "profile")) == row.profile_name
            assert str(pane.grid.get_cell(cid, "reason")).startswith("profile has no")
        foot = str(pane.query_one("#child-foot").render())
        assert foot.startswith(f"{UNIQUE}: 5 · A accepts them all")

        await pilot.press("A")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, Dialog)
        assert dialog.title_text == f"Accept 5 suggestions: {UNIQUE}?"
        await pilot.press("y")
        await settle(pilot)
        assert {pane.by_id[cid].action for cid in shown} == {"link"}
        assert pane.counts["review"] == before.needs_review - 5
        after = screen.session.preview()
        assert after.needs_review == before.needs_review - 5
        assert sum(after.counts.values()) > sum(before.counts.values()), "5 more links to make"
        saved = {r.child_id: r for r in engine.child_rows(store, SERVICE, as_of=sandbox_today)}
        assert {saved[cid].action for cid in shown} == {"link"}, "written, as one by one"

        await pilot.press("u")
        await settle(pilot)
        assert {pane.by_id[cid].action for cid in shown} == {"review"}
        assert shown == list(pane.shown_keys), "the group is back in the grid"
        assert screen.session.preview().counts == before.counts
    saved = {r.child_id: r for r in engine.child_rows(store, SERVICE, as_of=sandbox_today)}
    assert {(saved[cid].action, saved[cid].origin) for cid in shown} == {("review", "auto")}


async def test_a_review_whose_profile_is_taken_stays_in_review_and_is_counted(
    make_app: Callable[[], SmtuiApp], store: Any, sandbox_today: dt.date
) -> None:
    group = as_reviews(store, SERVICE, KINDS)[:5]
    rows = {r.child_id: r for r in engine.child_rows(store, SERVICE, as_of=sandbox_today)}
    review = rows[group[2]]
    other = next(r for r in rows.values() if r.action == "create")
    engine.set_children(
        store, SERVICE, [other.child_id], "link", profile_id=review.profile_id, who=WHO
    )
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_service(pilot, SERVICE)
        pane = await open_group(pilot, UNIQUE)
        await pilot.press("A")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, Dialog)
        assert dialog.title_text == f"Accept 4 suggestions: {UNIQUE}?"
        assert "1 left in review: its profile is linked to another child" in dialog.body
        await pilot.press("y")
        await settle(pilot)
        assert pane.by_id[review.child_id].action == "review"
        assert {pane.by_id[c].action for c in group if c != review.child_id} == {"link"}
        assert pane.shown_keys == [review.child_id], "the one left is still in the group"
    check = engine.check_mapping(store, SERVICE)
    assert not check.problems, "no profile linked twice"


async def test_reviews_proposed_before_reasons_were_kept_are_one_group_other(
    make_app: Callable[[], SmtuiApp], store: Any
) -> None:
    """Nothing is guessed from the reason sentence of a mapping that has no kind."""
    as_reviews(store, SERVICE, KINDS)
    old = [
        dataclasses.replace(m, reason_kind=None)
        for m in store.child_mappings(SERVICE).values()
        if m.action == "review"
    ]
    store.set_child_mappings(SERVICE, old, who=WHO, reason="before 0006")
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_service(pilot, SERVICE)
        await pilot.press("r")
        await pilot.pause()
        groups = app.screen
        assert isinstance(groups, GroupsScreen)
        n = len(old)
        assert prompts(groups) == [
            f"{n}  every child in review",
            f"{n}  other (proposed before reasons were kept)",
        ]
        await pilot.press("enter")  # the first line: every review, the grid's own filter
        await pilot.pause()
        pane = app.screen.query_one(ChildrenPane)
        assert (pane.filter_key, pane.group, len(pane.shown_keys)) == ("review", None, n)
