"""Grid columns at narrow widths: never wider than the screen, numbers never cut."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from smtui.tui.fit import Col, fit, next_key


@st.composite
def layouts(draw: st.DrawFn) -> tuple[list[Col], dict[str, int], int]:
    n = draw(st.integers(1, 8))
    ranks = draw(st.permutations(range(n)))
    cols = [
        Col(f"c{i}", f"C{i}", rank=ranks[i], floor=draw(st.none() | st.integers(1, 20)))
        for i in range(n)
    ]
    natural = {c.key: draw(st.integers(1, 60)) for c in cols}
    return cols, natural, draw(st.integers(0, 200))


@given(layouts())
def test_shown_columns_fit_and_whole_values_stay_whole(
    layout: tuple[list[Col], dict[str, int], int],
) -> None:
    cols, natural, available = layout
    widths = fit(cols, natural, available, padding=1)
    assert sum(w + 2 for w in widths.values()) <= available
    assert list(widths) == [c.key for c in cols if c.key in widths], "display order kept"
    for c in cols:
        if c.key not in widths:
            continue
        assert widths[c.key] <= natural[c.key]
        if c.floor is None:
            assert widths[c.key] == natural[c.key], f"{c.key} cut"
        else:
            assert widths[c.key] >= min(c.floor, natural[c.key])
    if sum(natural.values()) + 2 * len(cols) <= available:
        assert widths == natural, "room for everything: nothing cut, nothing hidden"
    top = min(cols, key=lambda c: c.rank)
    top_narrowest = natural[top.key] if top.floor is None else min(top.floor, natural[top.key])
    if top_narrowest + 2 <= available:
        assert top.key in widths, "the most important column is the last to go"


def test_wide_screens_show_everything_and_80_columns_drop_the_least_important() -> None:
    cols = [
        Col("mark", " ", rank=0),
        Col("name", "CCMS name", rank=1, floor=18),
        Col("score", "Score", rank=2),
        Col("reason", "Reason", rank=3, floor=16),
    ]
    natural = {"mark": 1, "name": 40, "score": 5, "reason": 60}
    assert fit(cols, natural, 200) == natural
    narrow = fit(cols, natural, 40)
    assert narrow == {"mark": 1, "name": 28, "score": 5}


def test_the_cursor_moves_on_to_the_next_row_when_its_row_leaves() -> None:
    old = ["a", "b", "c", "d"]
    assert next_key(old, "b", ["a", "b", "d"]) == "b"
    assert next_key(old, "b", ["a", "c", "d"]) == "c"
    assert next_key(old, "d", ["a", "b"]) == "b", "past the end: the one before"
    assert next_key(old, "b", []) is None


def test_a_typed_prefix_ranks_first_and_the_current_link_leads_an_empty_search() -> None:
    from smtui.tui.picker import ranked

    items = [("p1", "Charlie Fernandez"), ("p2", "Matilda Chapman"), ("p3", "Ava Smith")]
    assert [items[i][0] for i in ranked("chap", items, None)] == ["p2", "p1", "p3"]
    assert [items[i][0] for i in ranked("", items, "p3")] == ["p3", "p1", "p2"]


def test_a_running_run_never_reads_nothing_to_do_and_a_failed_link_is_not_done() -> None:
    import datetime as dt

    from smtui.tui.cells import run_counts
    from smtui.views import RunSummary

    start = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    running = RunSummary(1, "s", "sync", start, None, "running", "me")
    assert run_counts(running) == "planning…"
    partial = RunSummary(
        2, "s", "sync", start, start, "partial", "me",
        counts={"link_profile": 3}, outcome={"done": 2, "failed": 1},
    )  # fmt: skip
    assert run_counts(partial) == "planned, of which 2 done, 1 failed (3 link profile)"
