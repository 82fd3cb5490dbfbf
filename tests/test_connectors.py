"""The CCMS and portfolio clients: retry timing (MockTransport, instant), then everything else
against the real sandbox over HTTP: full reads, faults, incomplete reads, auth, token hygiene,
idempotent creates and write round-trips."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import math
import re
import socket
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from smtui.connectors import (
    ApiError,
    AuthError,
    CcmsClient,
    InvalidError,
    ListResult,
    NotFoundError,
    PortfolioClient,
    RetryPolicy,
    UnavailableError,
)
from smtui.connectors.http import MAX_EMAIL_CHARS, MAX_EMAILS, ReaderLimits, clean_record
from smtui.engine import EngineError
from smtui.engine.reading import read_both
from smtui.records import Child, Profile
from smtui.sandbox.admin import AdminClient
from smtui.sandbox.server import RunningSandbox

BIG = "harbour-city"
SMALL = "gumnut-grove"
MOCK_URL = "http://ccms.test/ccms/v1/services/s"
MOCK_TOKEN = "mock-secret-token-81f3"

CHILD_JSON = {
    "id": "ch-1",
    "first_name": "Ada",
    "last_name": "Lee",
    "birth_date": "2022-03-04",
    "status": "active",
    "updated_at": "2026-11-20T09:00:00+11:00",
}
PROFILE_JSON = {
    "id": "prf-1",
    "first_name": "Ada",
    "last_name": "Lee",
    "birth_date": None,
    "archived": False,
}


Handler = Callable[[httpx.Request], httpx.Response]


class Waits(list[float]):
    """An injectable sleep that records each wait instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def policy(waits: Waits, **overrides: Any) -> RetryPolicy:
    settings: dict[str, Any] = {"initial_wait": 0.01, "max_wait": 5.0, "jitter": 0.0}
    return RetryPolicy(sleep=waits, **(settings | overrides))


def scripted(*responses: httpx.Response) -> Handler:
    """A handler answering with the given responses in turn, repeating the last one."""
    queue = list(responses)

    def handle(request: httpx.Request) -> httpx.Response:
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return handle


def mock_ccms(handler: Handler, waits: Waits, **kw: Any) -> CcmsClient:
    return CcmsClient(
        MOCK_URL, MOCK_TOKEN, retry=policy(waits, **kw), transport=httpx.MockTransport(handler)
    )


def mock_portfolio(handler: Handler, waits: Waits, **kw: Any) -> PortfolioClient:
    return PortfolioClient(
        MOCK_URL, MOCK_TOKEN, retry=policy(waits, **kw), transport=httpx.MockTransport(handler)
    )


PAGE = httpx.Response(200, json={"items": [CHILD_JSON], "next_cursor": None})


def rate_limited(seconds: str) -> httpx.Response:
    body = {"error": {"code": "rate_limited", "message": "slow down"}}
    return httpx.Response(429, json=body, headers={"Retry-After": seconds})


def unavailable() -> httpx.Response:
    return httpx.Response(503, json={"error": {"code": "unavailable", "message": "busy"}})


# --- retry timing (MockTransport: the only place it is used) ---------------------------------


def test_retry_after_is_honoured_as_a_minimum_wait() -> None:
    waits = Waits()
    handler = scripted(rate_limited("3"), rate_limited("3"), PAGE)
    with mock_ccms(handler, waits) as client:
        result = client.children()
    assert result.complete
    assert [c.id for c in result.items] == ["ch-1"]
    assert waits == [3.0, 3.0]  # backoff alone would have waited 0.01 and 0.02
    assert client.requests_made == 3


def test_backoff_doubles_up_to_the_cap_then_gives_up() -> None:
    waits = Waits()
    client = mock_portfolio(scripted(unavailable()), waits, initial_wait=1.0, max_wait=4.0)
    with client, pytest.raises(UnavailableError) as caught:
        client.get_profile("prf-1")
    assert waits == [1.0, 2.0, 4.0, 4.0, 4.0]
    assert client.requests_made == 6
    assert caught.value.status == 503
    assert "gave up after 6 attempts" in str(caught.value)


def test_jitter_adds_at_most_its_amount_and_never_passes_the_cap() -> None:
    waits = Waits()
    client = mock_portfolio(
        scripted(unavailable()), waits, initial_wait=1.0, max_wait=4.0, jitter=0.5
    )
    with client, pytest.raises(UnavailableError):
        client.get_profile("prf-1")
    floors = [1.0, 2.0, 4.0, 4.0, 4.0]
    assert len(waits) == len(floors)
    assert all(f <= w <= min(f + 0.5, 4.0) for f, w in zip(floors, waits, strict=True))
    assert waits[:2] != [1.0, 2.0]  # the jitter is really there


def test_max_attempts_is_configurable() -> None:
    waits = Waits()
    with mock_ccms(scripted(unavailable()), waits, max_attempts=2) as client:
        result = client.children()
    assert client.requests_made == 2
    assert len(waits) == 1
    assert not result.complete
    assert result.problem is not None
    assert "gave up after 2 attempts" in result.problem


def test_retry_after_beyond_the_cap_gives_up_at_once() -> None:
    waits = Waits()
    client = mock_portfolio(scripted(rate_limited("120"), PAGE), waits, max_wait=30.0)
    with client, pytest.raises(UnavailableError) as caught:
        client.get_profile("prf-1")
    assert client.requests_made == 1
    assert waits == []
    assert "120 s" in str(caught.value)
    assert caught.value.status == 429


class Trickle(httpx.SyncByteStream):
    """A body that comes a few bytes every 20 ms: each read is quick, the whole is not."""

    def __iter__(self) -> Iterator[bytes]:
        yield b'{"items": [], '
        for _ in range(100):
            time.sleep(0.02)
            yield b" "
        yield b'"next_cursor": null}'


def test_a_response_that_takes_too_long_in_all_times_out() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Type": "application/json"}, stream=Trickle())

    limits = ReaderLimits(max_response_seconds=0.3)
    client = CcmsClient(
        MOCK_URL,
        MOCK_TOKEN,
        retry=policy(Waits(), max_attempts=2),
        transport=httpx.MockTransport(handle),
        limits=limits,
    )
    started = time.monotonic()
    with client:
        result = client.rooms()
    assert time.monotonic() - started < 1.5  # two attempts of ~0.3 s, not two of 2 s
    assert not result.complete
    assert result.problem == (
        "CCMS rooms: read stopped after 0 records: page 1 could not be read: timed out (the"
        " response took longer than 0.3 s in all) after 2 attempts (unreachable)"
    )


# --- real sandbox: reads ---------------------------------------------------------------------


@pytest.fixture
def counts(sandbox_world: RunningSandbox, sandbox_admin: AdminClient) -> dict[str, dict]:
    return {svc["id"]: svc["counts"] for svc in sandbox_admin.services()}


def ccms_client(sb: RunningSandbox, service: str = BIG, **kw: Any) -> CcmsClient:
    return CcmsClient(sb.ccms_url(service), sb.ccms_token, **kw)


def portfolio_client(sb: RunningSandbox, service: str = BIG, **kw: Any) -> PortfolioClient:
    return PortfolioClient(sb.portfolio_url(service), sb.portfolio_token, **kw)


def pages(n: int, size: int) -> int:
    return max(1, math.ceil(n / size))


def ids(result: ListResult[Any]) -> list[str]:
    return [r.id for r in result.items]


def test_full_read_of_a_large_service_returns_every_record(
    sandbox_world: RunningSandbox, counts: dict[str, dict]
) -> None:
    want = counts[BIG]
    with ccms_client(sandbox_world) as ccms, portfolio_client(sandbox_world) as portfolio:
        c, p = ccms.snapshot(), portfolio.snapshot()
    assert (c.complete, c.problems, p.complete, p.problems) == (True, (), True, ())
    got = {
        "children": c.children,
        "rooms": c.rooms,
        "bookings": c.bookings,
        "profiles": p.profiles,
        "portfolio_rooms": p.rooms,
    }
    for name, records in got.items():
        assert len(records) == want[name], name
        assert len({r.id for r in records}) == want[name], f"{name}: duplicates"
    assert ccms.requests_made == sum(pages(want[k], 200) for k in ("children", "rooms", "bookings"))
    assert portfolio.requests_made == pages(want["profiles"], 200) + pages(
        want["portfolio_rooms"], 200
    )


def test_reading_a_small_service_takes_one_request_per_list(
    sandbox_world: RunningSandbox,
) -> None:
    """The no-op sync budget (<= 15 requests) depends on this."""
    with (
        ccms_client(sandbox_world, SMALL, page_size=500) as ccms,
        portfolio_client(sandbox_world, SMALL, page_size=500) as portfolio,
    ):
        assert ccms.snapshot().complete and portfolio.snapshot().complete
    assert (ccms.requests_made, portfolio.requests_made) == (3, 2)


@pytest.mark.parametrize("kind", ["429", "500", "drop", "latency"])
def test_reads_everything_through_transient_faults(
    sandbox_world: RunningSandbox, sandbox_admin: AdminClient, kind: str
) -> None:
    with ccms_client(sandbox_world) as clean:
        expected = ids(clean.children())
    sandbox_admin.set_faults(
        rate=1,
        kinds=[kind],
        count=4,
        retry_after=2,
        latency_ms=2000,
        system="ccms",
        service_id=BIG,
        scope="list",
    )
    waits = Waits()
    timeout = httpx.Timeout(5.0, read=1.0)  # a slow (2 s) answer times out
    with ccms_client(sandbox_world, retry=policy(waits), timeout=timeout) as client:
        result = client.children()
    assert sandbox_admin.faults()["injected"] == 4
    assert result.complete, result.problem
    assert ids(result) == expected
    assert client.requests_made == pages(len(expected), 200) + 4
    assert len(waits) == 4
    if kind == "429":
        assert min(waits) >= 2.0


def test_a_truncated_list_is_incomplete_and_says_where_it_stopped(
    sandbox_world: RunningSandbox, sandbox_admin: AdminClient
) -> None:
    sandbox_admin.set_faults(
        rate=1, kinds=["truncate"], count=1, system="ccms", service_id=BIG, scope="list"
    )
    with ccms_client(sandbox_world) as client:
        snap = client.snapshot()
    assert not snap.complete
    assert len(snap.children) == 200
    assert len(snap.problems) == 1
    assert snap.problems[0].startswith("CCMS children: read stopped after 200 records: page 2")
    assert "cursor" in snap.problems[0]
    assert len(snap.rooms) > 0 and len(snap.bookings) > 0  # the other lists were still read


def test_a_malformed_page_is_incomplete_and_names_the_field(
    sandbox_world: RunningSandbox, sandbox_admin: AdminClient
) -> None:
    sandbox_admin.set_faults(
        rate=1, kinds=["malformed"], count=1, seed=1, system="portfolio", scope="list"
    )
    with portfolio_client(sandbox_world) as client:
        result = client.profiles()
    assert not result.complete
    assert result.items == ()
    assert result.problem is not None
    assert re.fullmatch(
        r"portfolio profiles: read stopped after 0 records: page 1 was malformed:"
        r" items\[\d+\]\.(id|birth_date): .+",
        result.problem,
    ), result.problem
    assert "31/02/2020" not in result.problem  # values (maybe personal data) are not echoed


def test_a_page_that_keeps_failing_ends_the_read_as_incomplete(
    sandbox_world: RunningSandbox, sandbox_admin: AdminClient
) -> None:
    with ccms_client(sandbox_world) as clean:
        clean.children()
        first_pages = clean.requests_made
    waits = Waits()
    with ccms_client(sandbox_world, retry=policy(waits, max_attempts=3)) as client:
        sandbox_admin.set_faults(rate=1, kinds=["500"], system="ccms", scope="list")
        result = client.bookings()
    assert first_pages > 1
    assert not result.complete
    assert result.problem == (
        "CCMS bookings: read stopped after 0 records: page 1 could not be read:"
        " gave up after 3 attempts: injected fault (HTTP 500, internal)"
    )
    assert client.requests_made == 3


# --- real sandbox: errors --------------------------------------------------------------------


def test_a_wrong_token_raises_auth_error_without_showing_the_token(
    sandbox_world: RunningSandbox,
) -> None:
    secret = "wrong-Zq7-secret-4410"
    with PortfolioClient(sandbox_world.portfolio_url(BIG), secret) as client:
        with pytest.raises(AuthError) as caught:
            client.profiles()
        shown = " ".join((str(caught.value), repr(caught.value), repr(client)))
    assert secret not in shown
    assert "check the token source" in str(caught.value)
    assert caught.value.status == 401
    assert client.requests_made == 1  # a refused token is not retried


def test_a_missing_record_or_invalid_body_is_not_retried(sandbox_world: RunningSandbox) -> None:
    with portfolio_client(sandbox_world) as client:
        with pytest.raises(NotFoundError, match="prf_missing"):
            client.get_profile("prf_missing")
        assert client.requests_made == 1
        some = client.profiles().items[0]
        before = client.requests_made
        with pytest.raises(InvalidError) as caught:
            client.update_profile(some.id, first_name="")
        assert client.requests_made == before + 1
    assert caught.value.status == 422


def test_a_wrong_service_url_raises_instead_of_reading_nothing(
    sandbox_world: RunningSandbox,
) -> None:
    client = ccms_client(sandbox_world, "no-such-service")
    with client, pytest.raises(NotFoundError, match="no-such-service"):
        client.children()


def test_an_unreachable_server_gives_up_after_the_configured_attempts() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    waits = Waits()
    url = f"http://127.0.0.1:{port}/portfolio/v1/services/x"
    client = PortfolioClient(url, "t", retry=policy(waits, max_attempts=3))
    with client, pytest.raises(UnavailableError) as caught:
        client.get_profile("p")
    assert caught.value.status is None  # the caller cannot assume a write did not happen
    assert "could not connect" in str(caught.value)
    assert client.requests_made == 3 and len(waits) == 2


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class GoesAwayAfter(httpx.HTTPTransport):
    """Real HTTP that, after ``answered`` requests, is sent to a port nothing listens on:
    a server that stops answering in the middle of a read."""

    def __init__(self, answered: int, port: int) -> None:
        super().__init__()
        self.left = answered
        self.port = port

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.left == 0:
            request.url = request.url.copy_with(port=self.port)
        else:
            self.left -= 1
        return super().handle_request(request)


def test_an_unreachable_server_ends_the_whole_read_with_one_line(
    sandbox_world: RunningSandbox,
) -> None:
    """Not five lists x six attempts one after another and five near-identical problems: one
    line, after one list's retries (the lists are read at the same time)."""
    waits = Waits()
    url = f"http://127.0.0.1:{closed_port()}/ccms/v1/services/{BIG}"
    lines: list[str] = []
    with (
        CcmsClient(url, "t", retry=policy(waits, max_attempts=3)) as ccms,
        portfolio_client(sandbox_world) as portfolio,
        pytest.raises(EngineError) as caught,
    ):
        read_both(ccms, portfolio, lines.append, "harbour")
    assert re.fullmatch(
        r"CCMS GET /children: could not connect \(.+\) after 3 attempts: is the server running"
        r" and the service's CCMS URL right\? \(smtui service show harbour\)",
        str(caught.value),
    ), str(caught.value)
    assert "\n" not in str(caught.value)
    assert lines[0] == "Reading 5 lists at once…"
    assert not any(line.startswith("CCMS") for line in lines)  # no CCMS list claims a read
    assert (ccms.requests_made, len(waits)) == (9, 6)  # each CCMS list's retries, side by side


def test_an_unreachable_first_page_raises_from_the_client() -> None:
    waits = Waits()
    url = f"http://127.0.0.1:{closed_port()}/portfolio/v1/services/x"
    client = PortfolioClient(url, "t", retry=policy(waits, max_attempts=2))
    with client, pytest.raises(UnavailableError) as caught:
        client.profiles()
    assert (caught.value.code, caught.value.status) == ("unreachable", None)
    assert caught.value.message.startswith("could not connect (")
    assert caught.value.message.endswith(") after 2 attempts")
    assert client.requests_made == 2


def test_a_server_that_goes_away_after_page_one_gives_an_incomplete_read(
    sandbox_world: RunningSandbox,
) -> None:
    waits = Waits()
    transport = GoesAwayAfter(answered=1, port=closed_port())
    with ccms_client(sandbox_world, retry=policy(waits, max_attempts=2), transport=transport) as c:
        result = c.children()
    assert not result.complete
    assert len(result.items) == 200
    assert result.problem is not None
    assert re.fullmatch(
        r"CCMS children: read stopped after 200 records: page 2 could not be read:"
        r" could not connect \(.+\) after 2 attempts \(unreachable\)",
        result.problem,
    ), result.problem
    assert c.requests_made == 3


def test_a_dropped_first_page_is_still_only_an_incomplete_list(
    sandbox_world: RunningSandbox, sandbox_admin: AdminClient
) -> None:
    """The server is there: only a failed connect means nothing is at that address."""
    sandbox_admin.set_faults(rate=1, kinds=["drop"], system="ccms", scope="list")
    with ccms_client(sandbox_world, retry=policy(Waits(), max_attempts=2)) as client:
        result = client.rooms()
    assert not result.complete
    assert result.problem is not None
    assert "page 1 could not be read: connection dropped" in result.problem
    assert client.requests_made == 2


@pytest.mark.parametrize("system", ["CCMS", "portfolio"])
def test_a_wrong_service_url_in_a_read_says_which_url_to_check(
    sandbox_world: RunningSandbox, system: str
) -> None:
    wrong = "no-such-service"
    ccms_service, portfolio_service = (wrong, BIG) if system == "CCMS" else (BIG, wrong)
    with (
        ccms_client(sandbox_world, ccms_service) as ccms,
        portfolio_client(sandbox_world, portfolio_service) as portfolio,
        pytest.raises(EngineError) as caught,
    ):
        read_both(ccms, portfolio, None, "harbour")
    message = str(caught.value)
    first_call = "GET /children" if system == "CCMS" else "GET /profiles"
    assert message.startswith(f"{system} {first_call}: "), message
    assert "HTTP 404" in message
    assert f"is the service's {system} URL right? (smtui service show harbour;" in message
    option = "--ccms-url" if system == "CCMS" else "--portfolio-url"
    assert f"smtui service set harbour {option} URL changes it)" in message
    assert "\n" not in message
    # 404s are not retried: one request per list of the wrong system (they are read at once)
    if system == "CCMS":
        assert ccms.requests_made == 3
    else:
        assert portfolio.requests_made == 2


def test_the_token_never_reaches_logs_or_errors(
    sandbox_world: RunningSandbox,
    sandbox_admin: AdminClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    for name in (None, "httpx", "httpcore", "smtui.connectors"):
        caplog.set_level(logging.DEBUG, logger=name)
    tokens = (sandbox_world.ccms_token, sandbox_world.portfolio_token)
    errors: list[Exception] = []
    sandbox_admin.set_faults(rate=1, kinds=["429", "500", "drop"], count=4, retry_after=0)
    with ccms_client(sandbox_world, SMALL, retry=policy(Waits())) as ccms:
        assert ccms.snapshot().complete
    with portfolio_client(sandbox_world, SMALL, retry=policy(Waits())) as portfolio:
        portfolio.create_profile(first_name="Log", last_name="Check", idempotency_key="log-check-1")
        try:
            portfolio.get_profile("prf_missing")
        except NotFoundError as exc:
            errors.append(exc)
    with PortfolioClient(sandbox_world.portfolio_url(SMALL), tokens[0]) as wrong:
        try:
            wrong.profiles()  # the CCMS token sent to the portfolio: refused
        except AuthError as exc:
            errors.append(exc)
    loggers = {r.name for r in caplog.records}
    assert {"httpx", "smtui.connectors"} <= loggers  # the logs really were captured
    assert any(r.name.startswith("httpcore") for r in caplog.records)
    captured = caplog.text + "\n".join(str(r.args) for r in caplog.records)
    shown = captured + " ".join(f"{e} {e!r}" for e in errors) + repr(ccms) + repr(portfolio)
    assert len(errors) == 2
    for token in tokens:
        assert token not in shown


@pytest.mark.parametrize(
    ("token", "problem"),
    [
        (MOCK_TOKEN + "\nline-two", "holds more than one line"),
        (MOCK_TOKEN + "\r", "holds more than one line"),
        (MOCK_TOKEN + "é", "holds a non-ASCII character"),
        ("", "is empty"),
    ],
)
def test_a_token_that_cannot_go_into_a_header_is_refused_before_any_request(
    token: str, problem: str
) -> None:
    """httpx would raise LocalProtocolError("Illegal header value b'Bearer …'") with the token
    in it, or UnicodeEncodeError; the client refuses first, without quoting it."""
    url = f"http://127.0.0.1:{closed_port()}/ccms/v1/services/x"
    with pytest.raises(AuthError) as caught:
        CcmsClient(url, token)
    message = str(caught.value)
    assert problem in message and "check the token source" in message
    assert MOCK_TOKEN not in message and "line-two" not in message
    assert caught.value.status is None


def test_a_header_httpx_refuses_is_one_line_error_without_a_chained_cause(
    sandbox_world: RunningSandbox,
) -> None:
    """Any httpx error that is not a network failure (here h11 refusing a header) becomes an
    ApiError whose text is scrubbed, with no chained exception holding the original text."""
    with portfolio_client(sandbox_world, SMALL) as client, pytest.raises(ApiError) as caught:
        client.create_room(name="Quolls", idempotency_key="key\nwith-a-break")
    error = caught.value
    assert str(error).startswith(
        "portfolio POST /rooms: the request could not be sent (LocalProtocolError: "
    )
    assert "\n" not in str(error) and error.code == "request_failed"
    assert error.__cause__ is None and error.__suppress_context__
    assert sandbox_world.portfolio_token not in str(error)


def test_reader_limits_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert ReaderLimits.from_env() == ReaderLimits()
    assert (ReaderLimits().max_pages, ReaderLimits().max_body_bytes) == (10_000, 32 * 1024 * 1024)
    monkeypatch.setenv("SMTUI_MAX_PAGES", "7")
    monkeypatch.setenv("SMTUI_MAX_BODY_BYTES", "65536")
    monkeypatch.setenv("SMTUI_HTTP_TIMEOUT", "2.5")
    limits = ReaderLimits.from_env()
    assert (limits.max_pages, limits.max_body_bytes, limits.max_response_seconds) == (7, 65536, 2.5)
    assert limits.timeout().read == 2.5 and limits.timeout().connect == 2.5
    monkeypatch.setenv("SMTUI_MAX_PAGES", "many")
    with pytest.raises(ApiError, match="SMTUI_MAX_PAGES must be a whole number of at least 1"):
        CcmsClient(MOCK_URL, MOCK_TOKEN)


def test_the_page_cap_ends_a_long_read_as_incomplete(sandbox_world: RunningSandbox) -> None:
    with ccms_client(sandbox_world, limits=ReaderLimits(max_pages=3)) as client:
        result = client.children()
    assert not result.complete
    assert len(result.items) == 600
    assert result.problem == (
        "CCMS children: read stopped after 600 records: the list goes on past the 3-page"
        " limit (SMTUI_MAX_PAGES raises it)"
    )
    assert client.requests_made == 3


def test_the_body_cap_refuses_an_announced_big_page_before_reading_it(
    sandbox_world: RunningSandbox,
) -> None:
    with portfolio_client(sandbox_world, limits=ReaderLimits(max_body_bytes=2048)) as client:
        result = client.profiles()
    assert not result.complete
    assert result.problem is not None
    assert re.fullmatch(
        r"portfolio profiles: read stopped after 0 records: page 1 was refused: the response is"
        r" larger than the 2 KiB limit \([\d,]+ bytes announced\); not read further"
        r" \(SMTUI_MAX_BODY_BYTES raises the limit\)",
        result.problem,
    ), result.problem
    assert client.requests_made == 1  # not retried: the same page would be as big again


# --- real sandbox: writes --------------------------------------------------------------------


def test_create_profile_with_the_same_key_returns_the_same_profile(
    sandbox_world: RunningSandbox, counts: dict[str, dict]
) -> None:
    with portfolio_client(sandbox_world, SMALL) as client:
        fields: dict[str, Any] = {
            "first_name": "Mia",
            "last_name": "Okafor",
            "birth_date": dt.date(2023, 5, 6),
            "external_ref": "ch-new-1",
            "room_ids": [],
        }
        first = client.create_profile(**fields, idempotency_key="create-mia")
        again = client.create_profile(**fields, idempotency_key="create-mia")
        with pytest.raises(InvalidError):
            client.create_profile(**(fields | {"first_name": "Mya"}), idempotency_key="create-mia")
        profiles = client.profiles().items
    assert again == first
    assert len(profiles) == counts[SMALL]["profiles"] + 1
    assert [p for p in profiles if p.external_ref == "ch-new-1"] == [first]
    assert first.birth_date == dt.date(2023, 5, 6)


def test_a_create_that_hits_server_errors_is_retried_and_made_once(
    sandbox_world: RunningSandbox, sandbox_admin: AdminClient, counts: dict[str, dict]
) -> None:
    sandbox_admin.set_faults(rate=1, kinds=["500", "drop"], count=2, scope="write", seed=2)
    with portfolio_client(sandbox_world, SMALL, retry=policy(Waits())) as client:
        room = client.create_room(name="Wombats", external_ref="rm-9", idempotency_key="room-w")
        assert client.requests_made == 3
        rooms = client.rooms().items
    assert sandbox_admin.faults()["injected"] == 2
    assert len(rooms) == counts[SMALL]["portfolio_rooms"] + 1
    assert [r for r in rooms if r.name == "Wombats"] == [room]


@pytest.fixture
def fresh(sandbox_world: RunningSandbox) -> Callable[[], dict[str, Any]]:
    """A fresh read through a new client: what another run would see."""

    def read() -> dict[str, Any]:
        with portfolio_client(sandbox_world, SMALL) as client:
            snap = client.snapshot()
        assert snap.complete
        return {r.id: r for r in (*snap.profiles, *snap.rooms)}

    return read


def test_profile_changes_round_trip(
    sandbox_world: RunningSandbox, fresh: Callable[[], dict[str, Any]]
) -> None:
    with portfolio_client(sandbox_world, SMALL) as client:
        snap = client.snapshot()
        profile = next(p for p in snap.profiles if not p.archived and p.birth_date)
        room = next(r for r in snap.rooms if not r.archived and r.id not in profile.room_ids)

        updated = client.update_profile(profile.id, first_name="Renamed", birth_date="2021-02-03")
        assert (updated.first_name, updated.last_name) == ("Renamed", profile.last_name)
        assert fresh()[profile.id] == updated
        assert updated.birth_date == dt.date(2021, 2, 3)

        cleared = client.update_profile(profile.id, birth_date=None, external_ref="ch-77")
        assert (cleared.birth_date, cleared.external_ref, cleared.first_name) == (
            None,
            "ch-77",
            "Renamed",
        )

        assert client.archive_profile(profile.id).archived
        assert client.archive_profile(profile.id).archived  # idempotent
        assert fresh()[profile.id].archived
        assert not client.unarchive_profile(profile.id).archived
        assert not fresh()[profile.id].archived

        client.add_member(room.id, profile.id)
        client.add_member(room.id, profile.id)  # idempotent
        assert room.id in fresh()[profile.id].room_ids
        assert client.get_profile(profile.id) == fresh()[profile.id]
        client.remove_member(room.id, profile.id)
        assert room.id not in fresh()[profile.id].room_ids


def test_room_changes_round_trip(
    sandbox_world: RunningSandbox, fresh: Callable[[], dict[str, Any]]
) -> None:
    with portfolio_client(sandbox_world, SMALL) as client:
        room = client.create_room(name="Echidnas", idempotency_key="room-e")
        assert client.create_room(name="Echidnas", idempotency_key="room-e") == room
        assert room.external_ref is None

        linked = client.update_room(room.id, external_ref="rm-42")
        assert (linked.name, linked.external_ref) == ("Echidnas", "rm-42")
        renamed = client.update_room(room.id, name="Echidna Room")
        assert (renamed.name, renamed.external_ref) == ("Echidna Room", "rm-42")
        assert fresh()[room.id] == renamed

        assert client.archive_room(room.id).archived
        assert fresh()[room.id].archived


def test_one_client_can_be_shared_by_threads(sandbox_world: RunningSandbox) -> None:
    with portfolio_client(sandbox_world) as client:
        profiles = client.profiles().items[:40]
        before = client.requests_made
        with ThreadPoolExecutor(max_workers=8) as pool:
            got = list(pool.map(client.get_profile, [p.id for p in profiles]))
        assert got == list(profiles)
        assert client.requests_made == before + 40


def test_guardian_emails_are_read_stripped_and_lower_cased_on_both_sides(
    sandbox_world: RunningSandbox,
) -> None:
    """Two systems' spellings of one parent's address compare equal once read."""
    with ccms_client(sandbox_world) as ccms, portfolio_client(sandbox_world) as portfolio:
        children, profiles = ccms.children().items, portfolio.profiles().items
    emails = [e for r in (*children, *profiles) for e in r.guardian_emails]
    assert emails and all(e == e.strip().lower() and "@" in e for e in emails)
    shared = {e for c in children for e in c.guardian_emails}
    assert len(shared) < sum(len(c.guardian_emails) for c in children)  # siblings share
    child = Child("ch-1", "Ava", "Lee", None, "active", dt.datetime.now(dt.UTC))
    messy = dataclasses.replace(
        child, guardian_emails=(" Sam.Lee@Example.COM ", "sam.lee@example.com", " ")
    )
    assert clean_record(messy, ReaderLimits()).guardian_emails == ("sam.lee@example.com",)


@pytest.mark.parametrize(
    ("emails", "problem"),
    [
        (("a@b.c\x00",), "guardian_emails[0]: holds a NUL character"),
        (("x" * (MAX_EMAIL_CHARS + 1),), f"over the {MAX_EMAIL_CHARS}-character limit"),
        (tuple(f"p{i}@b.c" for i in range(MAX_EMAILS + 1)), f"over the {MAX_EMAILS} limit"),
    ],
)
def test_hostile_guardian_emails_make_the_record_malformed(
    emails: tuple[str, ...], problem: str
) -> None:
    """Never cut or skipped (a cut address would name someone else); the message names the
    field, never the address."""
    profile = Profile("p-1", "Ava", "Lee", None, False, guardian_emails=emails)
    with pytest.raises(Exception, match=re.escape(problem)) as caught:
        clean_record(profile, ReaderLimits())
    assert "@" not in str(caught.value)
