"""Grids whose columns always fit the screen, so a value is never cut by its edge.

A plain DataTable scrolls sideways: at 80 columns the column at the right edge is cut mid-value
and a score of 100 reads "10". A ``FitTable`` instead decides, for its width, which columns to
show and how wide: numbers and dates at their full width, text cut with an ellipsis no narrower
than its floor, and the least important columns left out when even that does not fit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

Cells = Sequence[Text]


@dataclass(frozen=True, slots=True)
class Col:
    """A column: ``rank`` orders importance (0 first); ``floor`` is how narrow its text may be
    cut with an ellipsis, None for values that must be whole (numbers, dates, short labels)."""

    key: str
    label: str
    rank: int
    floor: int | None = None


def natural_widths(cols: Sequence[Col], rows: Iterable[Cells]) -> dict[str, int]:
    """The width each column needs to show every value and its label whole."""
    widths = [Text(c.label).cell_len for c in cols]
    for cells in rows:
        widths = [max(w, cell.cell_len) for w, cell in zip(widths, cells, strict=True)]
    return {c.key: w for c, w in zip(cols, widths, strict=True)}


def fit(
    cols: Sequence[Col], natural: Mapping[str, int], available: int, padding: int = 1
) -> dict[str, int]:
    """Width of each column to show, in display order; a column left out is hidden.

    Columns are taken most important first at their narrowest (a number whole, text at its floor)
    while they fit; the room left over widens them, most important first, up to what they need.
    """
    pad = 2 * padding

    def narrowest(c: Col) -> int:
        need = natural[c.key]
        return need if c.floor is None else min(c.floor, need)

    by_rank = sorted(cols, key=lambda c: c.rank)
    widths: dict[str, int] = {}
    used = 0
    for c in by_rank:
        if used + narrowest(c) + pad <= available:
            widths[c.key] = narrowest(c)
            used += narrowest(c) + pad
    spare = available - used
    for c in by_rank:
        if c.key in widths and spare > 0:
            grow = min(spare, natural[c.key] - widths[c.key])
            widths[c.key] += grow
            spare -= grow
    return {c.key: widths[c.key] for c in cols if c.key in widths}


def next_key(old: Sequence[str], current: str | None, new: Sequence[str]) -> str | None:
    """Where the cursor goes when its row may have left: the same row, else the next one still
    shown (a decided row leaves the Review filter; the person carries on with the next)."""
    if current is None or current in new:
        return current
    still = set(new)
    if current in old:
        i = old.index(current)
        for key in (*old[i + 1 :], *reversed(old[:i])):
            if key in still:
                return key
    return None


class FitTable(DataTable):
    """A DataTable that shows only the columns that fit whole, re-fitted on every resize.

    Rows are given with a cell for every column; the table keeps them so a resize can lay them
    out again, and hides the cells of the columns left out.
    """

    HELP_SECTION = "Grid"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("home,g", "first", "First row", show=False, id="grid.first"),
        Binding("end,G", "last", "Last row", show=False, id="grid.last"),
    ]

    def __init__(self, cols: Sequence[Col], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cols = tuple(cols)
        self.widths: dict[str, int] = {}
        self.order: list[str] = []
        self.cells: dict[str, list[Text]] = {}

    @property
    def shown_columns(self) -> list[str]:
        return list(self.widths)

    def fitted_widths(self) -> dict[str, int]:
        """The columns to show at the table's width now, and how wide (see ``fit``)."""
        natural = natural_widths(self.cols, (self.cells[k] for k in self.order))
        # the vertical scrollbar's room is always kept, so rows coming and going never re-fit
        available = self.size.width - self.styles.scrollbar_size_vertical
        if self.size.width <= 0:  # not laid out yet: on_resize fits it once it is
            return natural
        return fit(self.cols, natural, available, self.cell_padding)

    def set_rows(self, rows: Sequence[tuple[str, Cells]]) -> None:
        """Show these rows (key, one cell per column), in place when the same rows remain."""
        old, current = self.order, self.cursor_key()
        self.order = [key for key, _ in rows]
        self.cells = {key: list(cells) for key, cells in rows}
        widths = self.fitted_widths()
        if self.order == old and list(widths) == list(self.widths) and self.row_count:
            # same rows, same columns: a bulk edit changes cells (and maybe widths) in place
            # rather than rebuilding 2,000 rows
            if widths != self.widths:
                self.rewidth(widths)
            index = {c.key: i for i, c in enumerate(self.cols)}
            for key in self.order:
                for col in widths:
                    cell = self.cells[key][index[col]]
                    if self.get_cell(key, col) != cell:
                        self.update_cell(key, col, cell)
            return
        self.rebuild(widths, next_key(old, current, self.order))

    def rebuild(self, widths: dict[str, int], cursor: str | None) -> None:
        self.clear(columns=True)
        self.widths = widths
        for c in self.cols:
            if c.key in widths:
                self.add_column(c.label, width=widths[c.key], key=c.key)
        shown = [i for i, c in enumerate(self.cols) if c.key in widths]
        for key in self.order:
            cells = self.cells[key]
            self.add_row(*(cells[i] for i in shown), key=key)
        if cursor is not None and cursor in self.cells:
            self.move_cursor(row=self.order.index(cursor), animate=False)

    def set_cell(self, key: str, col: str, cell: Text) -> None:
        """Change one cell, shown or not, so a later re-fit keeps it."""
        index = next(i for i, c in enumerate(self.cols) if c.key == col)
        self.cells[key][index] = cell
        if col in self.widths:
            self.update_cell(key, col, cell)

    def cursor_key(self) -> str | None:
        if not self.row_count:
            return None
        return str(self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value)

    def action_first(self) -> None:
        if self.row_count:
            self.move_cursor(row=0, animate=False)

    def action_last(self) -> None:
        if self.row_count:
            self.move_cursor(row=self.row_count - 1, animate=False)

    def rewidth(self, widths: dict[str, int]) -> None:
        """New widths for the same columns, in place: rebuilding 2,000 rows on every resize
        step made the grid reflow seconds after the terminal did."""
        for key, width in widths.items():
            column = self.columns[ColumnKey(key)]
            column.width = width
            column.auto_width = False
        self.widths = widths
        self._require_update_dimensions = True
        self._clear_caches()
        self.refresh()

    def on_resize(self, event: events.Resize) -> None:
        widths = self.fitted_widths()
        if widths == self.widths:
            return
        if list(widths) == list(self.widths) and self.order:
            self.rewidth(widths)
        else:
            self.rebuild(widths, self.cursor_key())
