"""Grids whose columns always fit the screen, so a value is never cut by its edge.

A plain DataTable scrolls sideways: at 80 columns the column at the right edge is cut mid-value
and a score of 100 reads "10". A ``FitTable`` instead decides, for its width, which columns to
show and how wide: numbers and dates at their full width, text cut with an ellipsis no narrower
than its floor, and the least important columns left out when even that does not fit.

It draws only the lines on the screen (Textual's line API, as Toolong shows millions of lines):
a DataTable measures every cell of every row it is given and keeps a row object for each, so
filling it with 2,000 rows took 0.4-0.7 s on every filter keystroke and every bulk edit. Here
new rows cost a list of keys; a frame costs the 30-odd lines in view, each drawn once and kept
until its row, the widths or the cursor change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

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


class FitTable(ScrollView, can_focus=True):
    """A grid of rows (a key and one cell per column) showing only the columns that fit
    whole, re-fitted on every resize; a row cursor, a header line that stays put, zebra
    stripes. It looks and answers like a DataTable with ``cursor_type="row"``: up, down, page
    keys, Home/End/g/G; a click moves the cursor, a second click (or a subclass's enter,
    ``select_cursor``) selects.
    """

    HELP_SECTION = "Grid"
    BINDINGS: ClassVar[list[BindingType]] = [
        # enter is each grid's own (accept, open, list them): bound where it means something
        Binding("up", "cursor_up", "Row up", show=False, id="grid.up"),
        Binding("down", "cursor_down", "Row down", show=False, id="grid.down"),
        Binding("pageup", "page_up", "Page up", show=False, id="grid.page_up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="grid.page_down"),
        Binding("home,g", "first", "First row", show=False, id="grid.first"),
        Binding("end,G", "last", "Last row", show=False, id="grid.last"),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "fittable--header",
        "fittable--cursor",
        "fittable--even-row",
    }
    #: DataTable's own look, so the grids read as they always did
    DEFAULT_CSS = """
    FitTable {
        background: $surface;
        color: $foreground;
        height: auto;
        max-height: 100%;
        overflow-x: hidden;
        &:focus {
            background-tint: $foreground 5%;
            & > .fittable--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .fittable--header {
                background-tint: $foreground 5%;
            }
        }
        &:dark > .fittable--even-row {
            background: $surface-darken-1 40%;
        }
        & > .fittable--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        &:ansi > .fittable--header {
            background: ansi_bright_blue;
            color: ansi_default;
        }
        & > .fittable--even-row {
            background: $surface-lighten-1 50%;
        }
        & > .fittable--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
    }
    """

    class RowHighlighted(Message):
        """The cursor is on another row (or the rows under it changed)."""

        def __init__(self, table: FitTable, key: str | None) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> FitTable:
            return self.table

    class RowSelected(Message):
        """Enter (or a second click) on the cursor row."""

        def __init__(self, table: FitTable, key: str) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> FitTable:
            return self.table

    def __init__(
        self,
        cols: Sequence[Col],
        *,
        zebra_stripes: bool = False,
        cursor_type: str = "row",
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """``cursor_type`` is accepted for a DataTable's callers: the cursor is always a row."""
        super().__init__(id=id, classes=classes)
        self.cols = tuple(cols)
        self.zebra_stripes = zebra_stripes
        self.cell_padding = 1
        self.widths: dict[str, int] = {}
        self.order: list[str] = []
        self.cells: dict[str, list[Text]] = {}
        self.cursor_row = 0
        self._index: dict[str, int] = {}
        self._column = {c.key: i for i, c in enumerate(self.cols)}
        #: what each column needs to show every value whole: kept, so a resize only re-fits
        self._natural = natural_widths(self.cols, ())
        self._fitted_at = -1  # the width the columns were last fitted to
        self._lines: dict[tuple[str, bool, bool], Strip] = {}

    # --- rows --------------------------------------------------------------------------------

    @property
    def shown_columns(self) -> list[str]:
        return list(self.widths)

    @property
    def row_count(self) -> int:
        return len(self.order)

    def fitted_widths(self) -> dict[str, int]:
        """The columns to show at the table's width now, and how wide (see ``fit``)."""
        natural = self._natural
        if self.size.width <= 0:  # not laid out yet: on_resize fits it once it is
            return natural
        # the vertical scrollbar's room is always kept, so rows coming and going never re-fit
        available = self.scrollable_content_region.width
        if not self.show_vertical_scrollbar:
            available -= self.styles.scrollbar_size_vertical
        return fit(self.cols, natural, available, self.cell_padding)

    def set_rows(self, rows: Sequence[tuple[str, Cells]]) -> None:
        """Show these rows (key, one cell per column); the cursor stays on its row, or moves
        on to the next one still shown."""
        old, current = self.order, self.cursor_key()
        self.order = [key for key, _ in rows]
        self.cells = {key: list(cells) for key, cells in rows}
        self._index = {key: i for i, key in enumerate(self.order)}
        self._natural = natural_widths(self.cols, (self.cells[k] for k in self.order))
        self._refit()
        self._lines.clear()
        self.virtual_size = Size(0, len(self.order) + 1)  # never wider: columns fit
        target = next_key(old, current, self.order)
        self.cursor_row = self._index.get(target, 0) if target is not None else 0
        self._scroll_to_cursor()
        self.refresh()
        if self.cursor_key() != current:
            self.post_message(self.RowHighlighted(self, self.cursor_key()))

    def set_cell(self, key: str, col: str, cell: Text) -> None:
        """Change one cell, shown or not, so a later re-fit keeps it."""
        self.cells[key][self._column[col]] = cell
        if cell.cell_len > self._natural.get(col, 0):
            self._natural[col] = cell.cell_len
            self._refit()
            self.refresh()
        for cursor in (False, True):
            for even in (False, True):
                self._lines.pop((key, cursor, even), None)
        index = self._index.get(key)
        if index is not None:
            self._refresh_row(index)

    def get_row(self, key: str) -> list[Text]:
        """The row's shown cells, left to right."""
        cells = self.cells[key]
        return [cells[self._column[col]] for col in self.widths]

    def get_cell(self, key: str, col: str) -> Text:
        return self.cells[key][self._column[col]]

    def cursor_key(self) -> str | None:
        if not self.order:
            return None
        return self.order[min(self.cursor_row, len(self.order) - 1)]

    # --- the cursor --------------------------------------------------------------------------

    def move_cursor(self, *, row: int, animate: bool = False) -> None:
        """Put the cursor on ``row`` (clamped) and scroll it into view."""
        new = max(0, min(row, len(self.order) - 1))
        old = self.cursor_row
        if new == old:
            return
        self.cursor_row = new
        if 0 <= old < len(self.order):
            self._refresh_row(old)
        self._refresh_row(new)
        self._scroll_to_cursor()
        self.post_message(self.RowHighlighted(self, self.cursor_key()))

    def _scroll_to_cursor(self) -> None:
        rows_in_view = max(1, self.scrollable_content_region.height - 1)
        top = round(self.scroll_y)
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, immediate=True)
        elif self.cursor_row >= top + rows_in_view:
            self.scroll_to(y=self.cursor_row - rows_in_view + 1, animate=False, immediate=True)

    def action_cursor_down(self) -> None:
        self.move_cursor(row=self.cursor_row + 1)

    def action_cursor_up(self) -> None:
        self.move_cursor(row=self.cursor_row - 1)

    def action_page_down(self) -> None:
        self.move_cursor(row=self.cursor_row + max(1, self.scrollable_content_region.height - 1))

    def action_page_up(self) -> None:
        self.move_cursor(row=self.cursor_row - max(1, self.scrollable_content_region.height - 1))

    def action_first(self) -> None:
        self.move_cursor(row=0)

    def action_last(self) -> None:
        self.move_cursor(row=len(self.order) - 1)

    def action_select_cursor(self) -> None:
        key = self.cursor_key()
        if key is not None:
            self.post_message(self.RowSelected(self, key))

    def on_click(self, event: events.Click) -> None:
        row = round(self.scroll_y) + event.y - 1
        if event.y < 1 or not 0 <= row < len(self.order):
            return  # the header, or below the last row
        if row == self.cursor_row:
            self.action_select_cursor()
        else:
            self.move_cursor(row=row)

    # --- drawing -----------------------------------------------------------------------------

    def _refresh_row(self, index: int) -> None:
        y = index + 1 - round(self.scroll_y)
        if 1 <= y < self.size.height:
            self.refresh(Region(0, y, self.size.width, 1))

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if width != self._fitted_at:
            self._refit()  # a resize: fitted in the frame that draws it, not one later
        if y == 0:
            labels = [Text(c.label) for c in self.cols if c.key in self.widths]
            style = self.get_component_rich_style("fittable--header")
            return self._strip(labels, width, style)
        index = round(self.scroll_y) + y - 1
        if not 0 <= index < len(self.order):
            return Strip.blank(width, self.rich_style)
        key = self.order[index]
        cursor, even = index == self.cursor_row, self.zebra_stripes and index % 2 == 1
        line = self._lines.get((key, cursor, even))
        if line is None or line.cell_length != width:
            style = self.rich_style
            if even:
                style += self.get_component_rich_style("fittable--even-row")
            if cursor:
                style += self.get_component_rich_style("fittable--cursor")
            line = self._strip(self.get_row(key), width, style)
            self._lines[(key, cursor, even)] = line
        return line

    def _strip(self, cells: Sequence[Text], width: int, style: Style) -> Strip:
        """One line: each cell cut to its column (an ellipsis) or padded, numbers to the
        right, on the row's style (the cells' own colours over it)."""
        pad = " " * self.cell_padding
        line = Text(no_wrap=True, end="")
        for cell, w in zip(cells, self.widths.values(), strict=True):
            piece = cell.copy()
            if piece.cell_len > w:
                piece.truncate(w, overflow="ellipsis")
            gap = w - piece.cell_len
            line.append(pad)
            if gap and cell.justify == "right":
                line.append(" " * gap)
                line.append_text(piece)
            else:
                line.append_text(piece)
                line.append(" " * gap)
            line.append(pad)
        segments = list(line.render(self.app.console))
        return Strip(segments).adjust_cell_length(width).apply_style(style)

    def _forget_lines(self) -> None:
        """Styles changed (focus, theme): every line is drawn again."""
        self._lines.clear()
        self.refresh()

    def on_focus(self) -> None:
        self._forget_lines()

    def on_blur(self) -> None:
        self._forget_lines()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._lines.clear()

    def _refit(self) -> None:
        self._fitted_at = self.size.width
        widths = self.fitted_widths()
        if widths != self.widths:
            self.widths = widths
            self._lines.clear()

    def on_resize(self, event: events.Resize) -> None:
        if self.size.width != self._fitted_at:
            self._refit()
            self.refresh()
        self._scroll_to_cursor()
