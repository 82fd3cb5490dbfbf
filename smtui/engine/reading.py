"""Reading both vendor systems, and the cached read the store keeps of them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from smtui.connectors import ApiError, CcmsClient, NotFoundError, PortfolioClient
from smtui.engine.errors import EngineError
from smtui.records import CcmsSnapshot, PortfolioSnapshot
from smtui.store import ServiceConfig, Store
from smtui.tokens import TokenError, TokenSource, read_token

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


def read_both(
    ccms: CcmsClient,
    portfolio: PortfolioClient,
    progress: Progress | None,
    service: str,
) -> tuple[CcmsSnapshot, PortfolioSnapshot]:
    """Read all five lists. A list that cannot even start (token refused, no such list at
    the URL, server unreachable) ends the read with one EngineError line whose hint names
    ``service``."""
    say = progress or (lambda _line: None)
    try:
        say("Reading CCMS children…")
        children = ccms.children()
        say(f"CCMS children: {len(children.items)} read")
        rooms = ccms.rooms()
        say(f"CCMS rooms: {len(rooms.items)} read")
        bookings = ccms.bookings()
        say(f"CCMS bookings: {len(bookings.items)} read")
        profiles = portfolio.profiles()
        say(f"Portfolio profiles: {len(profiles.items)} read")
        prooms = portfolio.rooms()
        say(f"Portfolio rooms: {len(prooms.items)} read")
    except ApiError as exc:
        raise EngineError(_read_failure(exc, service)) from exc
    ccms_parts, portfolio_parts = (children, rooms, bookings), (profiles, prooms)
    return (
        CcmsSnapshot(
            children=children.items,
            rooms=rooms.items,
            bookings=bookings.items,
            complete=all(p.complete for p in ccms_parts),
            problems=tuple(p.problem for p in ccms_parts if p.problem),
        ),
        PortfolioSnapshot(
            profiles=profiles.items,
            rooms=prooms.items,
            complete=all(p.complete for p in portfolio_parts),
            problems=tuple(p.problem for p in portfolio_parts if p.problem),
        ),
    )


def cached_snapshots(store: Store, name: str) -> tuple[CcmsSnapshot, PortfolioSnapshot]:
    ccms = store.load_ccms_snapshot(name)
    portfolio = store.load_portfolio_snapshot(name)
    if ccms is None or portfolio is None:
        raise EngineError(f"{name} has not been read yet: run `smtui refresh {name}` first")
    return ccms, portfolio
