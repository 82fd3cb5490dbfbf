"""Reading both vendor systems, and the cached read the store keeps of them."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from smtui.connectors import ApiError, CcmsClient, ListResult, NotFoundError, PortfolioClient
from smtui.engine.errors import EngineError
from smtui.records import CcmsSnapshot, PortfolioSnapshot
from smtui.store import ServiceConfig, Store
from smtui.store.snapshots import ReadMarks
from smtui.tokens import TokenError, TokenSource, read_token

R = TypeVar("R")

#: Called with one line for each step of a long read, for a front end to show.
Progress = Callable[[str], None]


def tokens_for(cfg: ServiceConfig) -> tuple[str, str]:
    try:
        ccms = read_token(TokenSource(cfg.ccms_token_env, cfg.ccms_token_file), "CCMS")
        portfolio = read_token(
            TokenSource(cfg.portfolio_token_env, cfg.portfolio_token_file), "portfolio"
        )
    except TokenError as exc:
        raise EngineError(f"{cfg.name}: {exc}") from exc
    return ccms, portfolio


def require_on(cfg: ServiceConfig) -> None:
    """A turned-off service is never read or written: refresh, sync and Update all refuse."""
    if not cfg.enabled:
        raise EngineError(
            f"{cfg.name} is turned off: `smtui service set {cfg.name} --on` turns it on"
        )


@contextmanager
def clients_for(cfg: ServiceConfig) -> Iterator[tuple[CcmsClient, PortfolioClient]]:
    """Both clients of an enabled service (every read and write of a vendor goes through
    here, so no path can reach a turned-off service)."""
    require_on(cfg)
    ccms_token, portfolio_token = tokens_for(cfg)
    with (
        CcmsClient(cfg.ccms_url, ccms_token, page_size=500) as ccms,
        PortfolioClient(cfg.portfolio_url, portfolio_token, page_size=500) as portfolio,
    ):
        yield ccms, portfolio


def _read_failure(exc: ApiError, name: str) -> str:
    """One line for a read that could not start, with where to look when it is the URL."""
    where = f"{exc.system} {exc.call}" if exc.call else exc.system
    url = f"the service's {exc.system} URL"
    if isinstance(exc, NotFoundError):  # only page 1 raises: the list is not at this URL
        option = "--ccms-url" if exc.system == "CCMS" else "--portfolio-url"
        return (
            f"{exc}: is {url} right? (smtui service show {name};"
            f" smtui service set {name} {option} URL changes it)"
        )
    if exc.code == "unreachable":  # page 1 never answered: nothing at this address
        return (
            f"{where}: {exc.message}: is the server running and {url} right?"
            f" (smtui service show {name})"
        )
    return str(exc)


#: Hours after which a side is read in full again even when its changes look right.
FULL_READ_HOURS = 24.0
ENV_FULL_READ_HOURS = "SMTUI_FULL_READ_HOURS"


def full_read_hours() -> float:
    """SMTUI_FULL_READ_HOURS (0: every read is a full one), else FULL_READ_HOURS."""
    raw = os.environ.get(ENV_FULL_READ_HOURS, "").strip()
    if not raw:
        return FULL_READ_HOURS
    try:
        hours = float(raw)
    except ValueError:
        hours = -1.0
    if not hours >= 0:  # also refuses NaN
        raise EngineError(
            f"{ENV_FULL_READ_HOURS} must be a number of hours (0 or more), not {raw[:40]!r}"
        )
    return hours


@dataclass(frozen=True, slots=True)
class ListRead(Generic[R]):
    """One list after this read: its records, and how they were got ("full" or "changes")."""

    result: ListResult[R]
    how: str
    changed: int = 0  # records the delta carried (how == "changes")
    why_full: str | None = None  # why a delta was not kept, when it fell back


@dataclass(frozen=True, slots=True)
class Reading:
    """Both sides as read now, with the marks the next read starts from."""

    ccms: CcmsSnapshot
    portfolio: PortfolioSnapshot
    ccms_marks: ReadMarks
    portfolio_marks: ReadMarks
    lists: dict[str, ListRead[Any]]

    @property
    def mode(self) -> str:
        """ "in full", "changes only", or "changes only, N list(s) in full" for a mixed read."""
        full = sum(1 for r in self.lists.values() if r.how == "full")
        if full == len(self.lists):
            return "in full"
        return "changes only" if not full else f"changes only, {full} of {len(self.lists)} in full"

    def save(self, store: Store, name: str) -> tuple[str, ...]:
        """Cache both sides; the sides whose earlier complete read was kept instead."""
        saved = (
            ("CCMS", store.save_ccms_snapshot(name, self.ccms, marks=self.ccms_marks)),
            (
                "portfolio",
                store.save_portfolio_snapshot(name, self.portfolio, marks=self.portfolio_marks),
            ),
        )
        return tuple(side for side, ok in saved if not ok)


def merge_changes(
    cached: Sequence[R], delta: ListResult[R]
) -> tuple[ListResult[R] | None, str | None]:
    """The cached list with a delta merged in by id, in id order as a full read is; or None and
    why the list must be read in full instead: the server refused the mark, said nothing of
    its size, or holds another number of records than the merge (how a deletion shows: a
    delta never carries what is gone). A delta that stopped part way is merged but stays
    incomplete, as a full read that stopped would be: nothing is archived from it."""
    if delta.since_refused:
        return None, delta.problem or "the server refused the mark"
    merged: dict[str, R] = {r.id: r for r in cached}  # type: ignore[attr-defined]
    merged.update((r.id, r) for r in delta.items)  # type: ignore[attr-defined]
    if not delta.complete:
        return ListResult(tuple(merged.values()), complete=False, problem=delta.problem), None
    if delta.total is None or delta.as_of is None:
        return None, "the server did not say how many records it holds"
    if len(merged) != delta.total:
        return (
            None,
            f"{len(merged):,} records after merging the changes, the server holds {delta.total:,}",
        )
    ordered = tuple(merged[k] for k in sorted(merged))
    return ListResult(ordered, total=delta.total, as_of=delta.as_of), None


def _read_list(
    fetch: Callable[[str | None], ListResult[R]], cached: Sequence[R] | None, cursor: str | None
) -> ListRead[R]:
    """A delta from ``cursor`` merged into ``cached`` when it checks out, else a full read."""
    if cursor is None or cached is None:
        return ListRead(fetch(None), "full")
    delta = fetch(cursor)
    merged, why = merge_changes(cached, delta)
    if merged is None:
        return ListRead(fetch(None), "full", why_full=why)
    return ListRead(merged, "changes", len(delta.items))


def _side_is_fresh(marks: ReadMarks | None, complete: bool, now: dt.datetime) -> bool:
    """Whether a side may be read as changes: its cached read is complete and its last full
    read is younger than the full-read interval."""
    if marks is None or not complete or marks.full_read_at is None:
        return False
    return now - marks.full_read_at < dt.timedelta(hours=full_read_hours())


def read_both(
    ccms: CcmsClient,
    portfolio: PortfolioClient,
    progress: Progress | None,
    service: str,
    store: Store | None = None,
    *,
    sides: tuple[str, ...] = ("ccms", "portfolio"),
) -> Reading:
    """Read the five lists at once (each list's pages in order), as changes since the cached
    read of ``store`` where that is safe, else in full (docs/api.md, incremental reads). A list
    that cannot even start (token refused, no such list at the URL, server unreachable) ends
    the read with one EngineError line whose hint names ``service``. ``sides`` ("portfolio"
    alone re-reads the portfolio to verify a run); a side left out keeps its cached read."""
    say = progress or (lambda _line: None)
    now = dt.datetime.now(dt.UTC)
    cached_c = store.load_ccms_snapshot(service) if store else None
    cached_p = store.load_portfolio_snapshot(service) if store else None
    marks_c = store.read_marks(service, "ccms") if store else None
    marks_p = store.read_marks(service, "portfolio") if store else None
    fresh_c = _side_is_fresh(marks_c, cached_c is not None and cached_c.complete, now)
    fresh_p = _side_is_fresh(marks_p, cached_p is not None and cached_p.complete, now)
    cur_c = marks_c.cursors if marks_c and fresh_c else {}
    cur_p = marks_p.cursors if marks_p and fresh_p else {}
    specs: list[tuple[str, str, Callable[[str | None], ListResult[Any]], Any, str | None]] = []
    if "ccms" in sides:
        specs += [
            (
                "CCMS children",
                "children",
                ccms.children,
                cached_c and cached_c.children,
                cur_c.get("children"),
            ),
            ("CCMS rooms", "rooms", ccms.rooms, cached_c and cached_c.rooms, cur_c.get("rooms")),
            (
                "CCMS bookings",
                "bookings",
                ccms.bookings,
                cached_c and cached_c.bookings,
                cur_c.get("bookings"),
            ),
        ]
    if "portfolio" in sides:
        specs += [
            (
                "Portfolio profiles",
                "profiles",
                portfolio.profiles,
                cached_p and cached_p.profiles,
                cur_p.get("profiles"),
            ),
            (
                "Portfolio rooms",
                "rooms",
                portfolio.rooms,
                cached_p and cached_p.rooms,
                cur_p.get("rooms"),
            ),
        ]
    say(f"Reading {len(specs)} lists at once…")
    done: dict[str, ListRead[Any]] = {}
    failures: dict[str, ApiError] = {}
    with ThreadPoolExecutor(max_workers=len(specs), thread_name_prefix="smtui-read") as pool:
        futures = {
            pool.submit(_read_list, fetch, cached, cursor): label
            for label, _key, fetch, cached, cursor in specs
        }
        for future in as_completed(futures):
            label = futures[future]
            try:
                got = future.result()
            except ApiError as exc:
                failures[label] = exc
                continue
            done[label] = got
            n = len(got.result.items)
            if got.how == "changes":
                say(f"{label}: {got.changed} changed, {n} in all")
            else:
                again = f" (changes not used: {got.why_full})" if got.why_full else ""
                say(f"{label}: {n} read in full{again}")
    for label, *_ in specs:  # the first list's failure, in reading order, is the one reported
        if label in failures:
            raise EngineError(_read_failure(failures[label], service)) from failures[label]

    def part(label: str) -> ListResult[Any]:
        return done[label].result

    def marks(pairs: list[tuple[str, str]], fresh: bool, old: ReadMarks | None) -> ReadMarks:
        cursors = {key: part(label).as_of for label, key in pairs if part(label).as_of}
        all_full = all(done[label].how == "full" for label, _ in pairs)
        complete = all(part(label).complete for label, _ in pairs)
        if all_full and complete:
            full_at: dt.datetime | None = now
        else:
            full_at = old.full_read_at if old and fresh else None
        return ReadMarks(full_at, {k: v for k, v in cursors.items() if v})

    if "ccms" in sides:
        c_pairs = [
            ("CCMS children", "children"),
            ("CCMS rooms", "rooms"),
            ("CCMS bookings", "bookings"),
        ]
        parts = [part(label) for label, _ in c_pairs]
        ccms_snap = CcmsSnapshot(
            children=parts[0].items,
            rooms=parts[1].items,
            bookings=parts[2].items,
            complete=all(p.complete for p in parts),
            problems=tuple(p.problem for p in parts if p.problem),
        )
        ccms_marks = marks(c_pairs, fresh_c, marks_c)
    else:
        ccms_snap, ccms_marks = _cached(cached_c, service), marks_c or ReadMarks()
    if "portfolio" in sides:
        p_pairs = [("Portfolio profiles", "profiles"), ("Portfolio rooms", "rooms")]
        pparts = [part(label) for label, _ in p_pairs]
        portfolio_snap = PortfolioSnapshot(
            profiles=pparts[0].items,
            rooms=pparts[1].items,
            complete=all(p.complete for p in pparts),
            problems=tuple(p.problem for p in pparts if p.problem),
        )
        portfolio_marks = marks(p_pairs, fresh_p, marks_p)
    else:
        portfolio_snap, portfolio_marks = _cached(cached_p, service), marks_p or ReadMarks()
    return Reading(ccms_snap, portfolio_snap, ccms_marks, portfolio_marks, done)


def _cached(snap: R | None, service: str) -> R:
    if snap is None:
        raise EngineError(f"{service} has not been read yet: run `smtui refresh {service}` first")
    return snap


def cached_snapshots(store: Store, name: str) -> tuple[CcmsSnapshot, PortfolioSnapshot]:
    ccms = store.load_ccms_snapshot(name)
    portfolio = store.load_portfolio_snapshot(name)
    if ccms is None or portfolio is None:
        raise EngineError(f"{name} has not been read yet: run `smtui refresh {name}` first")
    return ccms, portfolio
