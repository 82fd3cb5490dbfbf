"""The reviews grouped by reason, from the keyboard: r lists the groups with their counts, enter
shows one in the grid, A accepts the whole group (a review whose profile is taken stays in
review, and the confirmation says so), and one u puts the group back."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Any

from textual.widgets import OptionList
from tui_helpers import WHO, open_service, settle

from smtui import engine
from smtui.match import REASON_LABELS
from smtui.tui.app import SmtuiApp
from smtui.tui.children import ChildrenPane
from smtui.tui.dialogs import Dialog
from smtui.tui.groups import GroupsScreen
from smtui.tui.service import ServiceScreen

#: not set up; its seeded reviews: 7 profiles with no birth date, then one each of two
#: look-alike profiles, a twin, a birth date a little off
SERVICE = "little-wattle"
NO_BIRTH_DATE = REASON_LABELS["profile_no_birth_date"]


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
        assert prompts(groups) == [
            "10  every child in review",
            f" 7  {NO_BIRTH_DATE}",
            # ties in the matcher's order of reasons
            f" 1  {REASON_LABELS['several_profiles']}",
            f" 1  {REASON_LABELS['twin']}",
            f" 1  {REASON_LABELS['birth_date_differs']}",
        ], "largest group first, each with its count"
        await pilot.press("escape")
        await pilot.pause()

        pane = await open_group(pilot, NO_BIRTH_DATE)
        shown = list(pane.shown_keys)
        assert len(shown) == 7
        for cid in shown:  # each row: the child, the suggested profile, the one-line reason
            row = pane.by_id[cid]
            assert row.action == "review" and row.profile_name
            assert "no birth date" in str(pane.grid.get_cell(cid, "reason"))
        foot = str(pane.query_one("#child-foot").render())
        assert foot.startswith(f"{NO_BIRTH_DATE}: 7 · A accepts them all")

        await pilot.press("A")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, Dialog)
        assert dialog.title_text == f"Accept 7 suggestions: {NO_BIRTH_DATE}?"
        await pilot.press("y")
        await settle(pilot)
        assert {pane.by_id[cid].action for cid in shown} == {"link"}
        assert pane.counts["review"] == 3, "10 in review, 7 accepted"
        after = screen.session.preview()
        assert after.needs_review == before.needs_review - 7
        assert sum(after.counts.values()) > sum(before.counts.values()), "7 more links to make"
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
    engine.refresh(store, SERVICE)
    rows = engine.child_rows(store, SERVICE, as_of=sandbox_today)
    review = next(
        r for r in rows if r.action == "review" and r.reason_kind == "profile_no_birth_date"
    )
    other = next(r for r in rows if r.action == "create")
    engine.set_children(
        store, SERVICE, [other.child_id], "link", profile_id=review.profile_id, who=WHO
    )
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_service(pilot, SERVICE)
        pane = await open_group(pilot, NO_BIRTH_DATE)
        group = list(pane.shown_keys)
        await pilot.press("A")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, Dialog)
        assert dialog.title_text == f"Accept 6 suggestions: {NO_BIRTH_DATE}?"
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
    engine.refresh(store, SERVICE)
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
        assert prompts(groups) == [
            "10  every child in review",
            "10  other (proposed before reasons were kept)",
        ]
        await pilot.press("enter")  # the first line: every review, the grid's own filter
        await pilot.pause()
        pane = app.screen.query_one(ChildrenPane)
        assert (pane.filter_key, pane.group, len(pane.shown_keys)) == ("review", None, 10)
