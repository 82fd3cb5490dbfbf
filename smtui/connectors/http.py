"""The HTTP plumbing both clients share: auth, timeouts, retries, pagination and validation.

Both contracts (docs/api.md) behave alike, so one base class holds the rules: every call is
idempotent (reads, PATCH, idempotent archive/membership calls, and creates that carry an
Idempotency-Key), hence every call may be retried on 429, 5xx, timeouts and dropped connections.
Responses are validated strictly into the shared records, so a contract drift is reported by
field name instead of flowing into the sync engine as half-parsed data.

A vendor (or whatever sits in front of it) may also answer badly on purpose or by accident, so
every read is bounded (docs/api.md, "Reader limits"): bodies are streamed and abandoned past a
byte cap, a response has a total deadline, a list has a page cap and must not cycle, repeat ids
or send more than it was asked for, and fields have length caps. Whatever trips a limit ends
that list as an incomplete read with a one-line reason, which the engine already treats as
"archive and remove nothing". Error text is scrubbed of the token before it becomes a message.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import os
import random
import re
import threading
import time
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any, ClassVar, Generic, Literal, Self, TypeVar

import httpx
from pydantic import TypeAdapter, ValidationError
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
)

from smtui.connectors import errors
from smtui.records import token_problem

T = TypeVar("T")

log = logging.getLogger("smtui.connectors")

DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=30.0, write=30.0, pool=10.0)

# --- reader limits (docs/api.md, "Reader limits"); the env vars override them per process ---
MAX_PAGES = 10_000  # 5 million records at 500 a page: more is a server that never ends
MAX_BODY_BYTES = 32 * 1024 * 1024  # one page of 500 records is well under 1 MiB
MAX_RESPONSE_SECONDS = 120.0  # one response, headers and body: a trickle is not an answer
MAX_NAME_CHARS = 200  # first, last, preferred and room names
MAX_ID_CHARS = 200  # ids, external refs and the ids a record points to
MAX_CURSOR_CHARS = 2_048  # it goes back into a URL
MAX_EMAIL_CHARS = 254  # one guardian email address (RFC 5321's path limit)
MAX_EMAILS = 20  # guardian emails on one record: a family, not a mailing list
MAX_MESSAGE_CHARS = 300  # a server's own error message, as quoted in ours
ENV_MAX_PAGES = "SMTUI_MAX_PAGES"
ENV_MAX_BODY_BYTES = "SMTUI_MAX_BODY_BYTES"
ENV_HTTP_TIMEOUT = "SMTUI_HTTP_TIMEOUT"
# Record fields that are names: kept as the vendor has them (minus NUL characters). Every other
# text field is an identifier, where a NUL would change what it names, so it is refused.
NAME_FIELDS = frozenset({"first_name", "last_name", "preferred_name", "name"})
# Email lists: stripped and lower-cased (so two systems' spellings compare), capped per address
# and in number, a NUL refused as in an identifier.
EMAIL_FIELDS = frozenset({"guardian_emails"})
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Failures after which the server may or may not have acted; every call here is idempotent.
NETWORK_ERRORS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


def _user_agent() -> str:
    try:
        return f"smtui/{version('smtui')}"
    except PackageNotFoundError:
        return "smtui/unknown"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try: capped exponential backoff with jitter, Retry-After as a floor.

    A Retry-After longer than ``max_wait`` ends the call at once: waiting less would be refused
    again, and waiting longer would stall a cron run. ``sleep`` is injectable so tests run
    instantly and can see every wait.
    """

    max_attempts: int = 6
    initial_wait: float = 0.5
    max_wait: float = 30.0
    jitter: float = 0.5
    sleep: Callable[[float], None] = time.sleep


def _env_number(name: str, kind: type[int] | type[float], low: float) -> int | float | None:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return None
    try:
        value = kind(raw.strip())
    except ValueError:
        value = None
    if value is None or value < low or value != value:  # NaN is not a limit
        noun = "a whole number" if kind is int else "a number"
        raise ValueError(f"{name} must be {noun} of at least {low:g}, not {raw.strip()[:40]!r}")
    return value


@dataclass(frozen=True, slots=True)
class ReaderLimits:
    """How much a read accepts before it stops (docs/api.md, "Reader limits").

    The defaults are the module constants; ``from_env`` lets a person (or a test driving the
    real CLI) lower or raise the page cap, the body cap and the response deadline for one
    process without a code change.
    """

    max_pages: int = MAX_PAGES
    max_body_bytes: int = MAX_BODY_BYTES
    max_response_seconds: float = MAX_RESPONSE_SECONDS
    max_name_chars: int = MAX_NAME_CHARS
    max_id_chars: int = MAX_ID_CHARS
    max_cursor_chars: int = MAX_CURSOR_CHARS

    @classmethod
    def from_env(cls) -> ReaderLimits:
        """The defaults, with SMTUI_MAX_PAGES, SMTUI_MAX_BODY_BYTES, SMTUI_HTTP_TIMEOUT applied;
        a value that is not a positive number raises ValueError naming the variable."""
        pages = _env_number(ENV_MAX_PAGES, int, 1)
        body = _env_number(ENV_MAX_BODY_BYTES, int, 1024)
        seconds = _env_number(ENV_HTTP_TIMEOUT, float, 0.01)
        return cls(
            max_pages=int(pages) if pages is not None else MAX_PAGES,
            max_body_bytes=int(body) if body is not None else MAX_BODY_BYTES,
            max_response_seconds=float(seconds) if seconds is not None else MAX_RESPONSE_SECONDS,
        )

    def timeout(self) -> httpx.Timeout:
        """The default httpx timeouts, none longer than the whole response may take."""
        t = self.max_response_seconds
        return httpx.Timeout(connect=min(5.0, t), read=min(30.0, t), write=min(30.0, t), pool=10.0)


def _size(n: int) -> str:
    if n >= 1024 * 1024 and n % (1024 * 1024) == 0:
        return f"{n // (1024 * 1024)} MiB"
    if n >= 1024 and n % 1024 == 0:
        return f"{n // 1024} KiB"
    return f"{n:,} bytes"


@dataclass(frozen=True, slots=True)
class Answer:
    """A response read in full (within the body cap) and closed: what the callers look at."""

    status_code: int
    headers: httpx.Headers
    content: bytes
    reason_phrase: str

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300

    def json(self) -> Any:
        return json.loads(self.content)


@dataclass(frozen=True, slots=True)
class ListResult(Generic[T]):
    """A full list read. ``complete`` is False when a page could not be read; ``items`` then
    holds only what came before it, and ``problem`` says why in one line."""

    items: tuple[T, ...]
    complete: bool = True
    problem: str | None = None
    total: int | None = None  # how many records the whole list held, as the server said
    as_of: str | None = None  # the server's mark to ask the next delta from (updated_since)
    since_refused: bool = False  # page 1 of a delta was refused (4xx): read it in full instead


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a cursor-paginated list, as the contract sends it."""

    items: tuple[T, ...]
    next_cursor: str | None
    total: int | None = None
    as_of: str | None = None


class _Retryable(Exception):
    """A retryable HTTP status, with what is needed to wait and to report it."""

    def __init__(self, status: int, code: str, message: str, retry_after: float | None) -> None:
        super().__init__(status, code, message)
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after


class _TooLarge(Exception):
    """The body went past the byte cap; ``declared`` when Content-Length said so up front."""

    def __init__(self, declared: int | None) -> None:
        super().__init__(declared)
        self.declared = declared


def _retry_after(response: Answer) -> float | None:
    try:
        seconds = float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def _error_of(response: Answer) -> tuple[str, str]:
    """The contract's (code, message), or something readable when the body is not that. Both
    come from the server: they are raw here and go through ApiClient._scrub before any message
    holds them (scrubbed first, then cut short, so no piece of a token survives the cut)."""
    try:
        error = response.json()["error"]
        return str(error["code"]), str(error["message"])
    except (ValueError, KeyError, TypeError):
        return f"http_{response.status_code}", response.reason_phrase or "error"


def one_line(text: str, limit: int) -> str:
    """``text`` as one printable line of at most ``limit`` characters (control characters
    escaped), so a hostile message cannot forge extra lines in a log or cron mail."""
    shown = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


HIDDEN = "[token hidden]"
# Belts and braces for a credential that is not this client's own token (which is replaced
# exactly): a bearer value, and an Authorization value with or without its scheme.
_BEARER = re.compile(r"(?i)\b(bearer)\s+(?!\[token hidden\])[^\s'\",;)]+")
_AUTH_HEADER = re.compile(
    r"(?i)\b(authorization['\"]?\s*[:=]\s*(?:b?['\"])?)(?!\s)(?!bearer\b)(?!\[token hidden\])"
    r"((?:[a-z]+\s+)?)(?!\[token hidden\])[^\s'\",;)]+"
)


def scrub_credentials(text: str, limit: int = 300) -> str:
    """Any text (an unexpected exception's, say) without a bearer value or an Authorization
    header's value, as one short line: safe for the journal, a run summary or stderr."""
    text = _BEARER.sub(rf"\1 {HIDDEN}", text)
    return one_line(_AUTH_HEADER.sub(rf"\1\2{HIDDEN}", text), limit)


def _secret_forms(token: str) -> tuple[str, ...]:
    """The token as it may appear in an exception's text: raw, as a str repr and as a bytes
    repr (how h11 quotes an illegal header), longest first so no fragment is left."""
    forms = {token, repr(token)[1:-1], repr(token.encode("utf-8", "backslashreplace"))[2:-1]}
    return tuple(sorted((f for f in forms if f), key=len, reverse=True))


def _location_of(response: Answer) -> str:
    """Where a redirect points, as scheme://host[:port] only: the path or query may carry
    anything, and the host is what a person needs to see."""
    try:
        url = httpx.URL(response.headers.get("Location", ""))
    except (httpx.InvalidURL, ValueError, TypeError):
        return "an unreadable address"
    if not url.host:
        return "another path on the same server"
    port = f":{url.port}" if url.port else ""
    return one_line(f"{url.scheme}://{url.host}{port}", 120)


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def _network_reason(exc: Exception, scrub: Callable[[str], str]) -> str:
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
        what = "could not connect"
    elif isinstance(exc, httpx.TimeoutException):
        what = "timed out"
    else:
        what = "connection dropped"
    detail = scrub(str(exc))
    return f"{what} ({detail})" if detail else what


def _nothing_there(exc: errors.ApiError) -> bool:
    """A first-page failure that says the whole system is out of reach at this URL: no such
    list (404), or no connection at all after every retry. A read timeout or a dropped
    connection is not: the server is there, and that list alone may be the trouble."""
    if isinstance(exc, errors.NotFoundError) or exc.code == "redirected":
        return True
    connect_failed = isinstance(exc.__cause__, httpx.ConnectError | httpx.ConnectTimeout)
    return isinstance(exc, errors.UnavailableError) and exc.code == "unreachable" and connect_failed


def describe_validation(exc: ValidationError) -> str:
    """``items[3].birth_date: Input should be a valid date…`` for the first problem found.

    Input values are left out on purpose: they may be a child's name or birth date.
    """
    problems = exc.errors(include_input=False, include_url=False)
    first = problems[0]
    where = ""
    for part in first["loc"]:
        where += f"[{part}]" if isinstance(part, int) else f".{part}" if where else str(part)
    text = f"{where}: {first['msg']}" if where else first["msg"]
    text = one_line(text, MAX_MESSAGE_CHARS)
    return text + (f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else "")


class _FieldProblem(Exception):
    """A record field past its length cap, or an identifier holding a NUL character."""


def _clean_text(field: str, value: str, limits: ReaderLimits) -> str:
    if field in NAME_FIELDS:
        value = value.replace("\x00", "")
        cap = limits.max_name_chars
    else:
        if "\x00" in value:
            raise _FieldProblem(f"{field}: holds a NUL character")
        cap = limits.max_id_chars
    if len(value) > cap:
        raise _FieldProblem(f"{field}: {len(value):,} characters, over the {cap}-character limit")
    return value


@functools.cache
def _text_fields(cls: type) -> tuple[tuple[str, bool], ...]:
    """(field, is_a_tuple) for each text field of a record class: the ones clean_record checks
    (the rest are dates, flags and enums, which validation has already bounded)."""
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        args = typing.get_args(hint)
        if typing.get_origin(hint) is tuple:
            if args[:1] == (str,):
                out.append((f.name, True))
        elif hint is str or (typing.get_origin(hint) is not Literal and str in args):
            out.append((f.name, False))
    return tuple(out)


def _clean_emails(field: str, values: tuple[str, ...]) -> tuple[str, ...]:
    """Addresses stripped, lower-cased, blanks and repeats dropped; a NUL, an over-long address
    or too many of them make the record malformed (never the value in the message)."""
    if len(values) > MAX_EMAILS:
        raise _FieldProblem(f"{field}: {len(values):,} addresses, over the {MAX_EMAILS} limit")
    out: dict[str, None] = {}
    for i, value in enumerate(values):
        if "\x00" in value:
            raise _FieldProblem(f"{field}[{i}]: holds a NUL character")
        if len(value) > MAX_EMAIL_CHARS:
            raise _FieldProblem(
                f"{field}[{i}]: {len(value):,} characters, over the"
                f" {MAX_EMAIL_CHARS}-character limit"
            )
        address = value.strip().lower()
        if address:
            out[address] = None
    return tuple(out)


def clean_record(record: T, limits: ReaderLimits) -> T:
    """``record`` with NUL characters taken out of its names; raises _FieldProblem for a field
    past its cap or an identifier with a NUL. Dates, flags and enums are already checked."""
    changes: dict[str, Any] = {}
    record_type: type = type(record)
    for name, many in _text_fields(record_type):
        value = getattr(record, name)
        if value is None:
            continue
        if name in EMAIL_FIELDS:
            cleaned: Any = _clean_emails(name, value)
        elif many:
            cleaned = tuple(_clean_text(f"{name}[{i}]", v, limits) for i, v in enumerate(value))
        else:
            cap = limits.max_name_chars if name in NAME_FIELDS else limits.max_id_chars
            if len(value) <= cap and "\x00" not in value:
                continue  # the common case, kept cheap: reads run to 300k records
            cleaned = _clean_text(name, value, limits)
        if cleaned != value:
            changes[name] = cleaned
    return dataclasses.replace(record, **changes) if changes else record  # type: ignore[type-var]


def _shown_id(value: object) -> str:
    return one_line(str(value), 60)


class ApiClient:
    """Base for one system's client. Safe to share across threads (httpx.Client is)."""

    system: ClassVar[str]

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: httpx.Timeout | float | None = None,
        retry: RetryPolicy | None = None,
        page_size: int = 200,
        transport: httpx.BaseTransport | None = None,
        limits: ReaderLimits | None = None,
    ) -> None:
        """``timeout`` None: the defaults, none longer than ``limits.max_response_seconds``.
        ``limits`` None: ReaderLimits.from_env(). A token that cannot go into a header (more
        than one line, not printable ASCII) raises AuthError before anything is sent."""
        if not 1 <= page_size <= 500:
            raise ValueError(f"page_size must be 1..500, not {page_size}")
        problem = token_problem(token)
        if problem or not token:
            raise errors.AuthError(
                self.system,
                None,
                "invalid_token",
                f"the {self.system} token {problem or 'is empty'}; check the token source"
                " configured for this service (environment variable or token file)",
            )
        self.base_url = base_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self.page_size = page_size
        try:
            self.limits = limits or ReaderLimits.from_env()
        except ValueError as exc:
            raise errors.ApiError(self.system, None, "bad_setting", str(exc)) from None
        self._secrets = _secret_forms(token)
        self._count_lock = threading.Lock()
        self._requests_made = 0
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={
                "Authorization": f"Bearer {token}",
                "User-Agent": _user_agent(),
                "Accept": "application/json",
            },
            timeout=self.limits.timeout() if timeout is None else timeout,
            transport=transport,
            follow_redirects=False,  # the token must never go to whatever a server points at
        )

    def _scrub(self, text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
        """``text`` without the token, a bearer value or an Authorization header's value, as
        one short line: what may safely go into a message, a log line or the journal."""
        for secret in self._secrets:
            text = text.replace(secret, HIDDEN)
        return scrub_credentials(text, limit)

    @property
    def requests_made(self) -> int:
        """HTTP attempts so far, retries included: what a benchmark budgets."""
        with self._count_lock:
            return self._requests_made

    # --- one call, retried ---------------------------------------------------------------

    def _attempt(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        body: Any,
        headers: Mapping[str, str] | None,
    ) -> Answer:
        with self._count_lock:
            self._requests_made += 1
        request = self._http.build_request(method, path, params=params, json=body, headers=headers)
        started = time.monotonic()
        response = self._http.send(request, stream=True)
        try:
            content = self._read_body(response, started)
        finally:
            response.close()
        answer = Answer(response.status_code, response.headers, content, response.reason_phrase)
        if answer.status_code in RETRY_STATUSES:
            code, message = _error_of(answer)
            raise _Retryable(answer.status_code, code, message, _retry_after(answer))
        return answer

    def _read_body(self, response: httpx.Response, started: float) -> bytes:
        """The body, streamed: refused as soon as it passes the byte cap (or says up front that
        it will), and timed out once the whole response has taken longer than the deadline,
        however steadily a server trickles it. Counted after any Content-Encoding is undone."""
        cap, deadline = self.limits.max_body_bytes, self.limits.max_response_seconds
        declared = response.headers.get("Content-Length", "").strip()
        if declared.isdigit() and int(declared) > cap:
            raise _TooLarge(int(declared))
        chunks: list[bytes] = []
        total = 0
        for chunk in response.iter_bytes():
            total += len(chunk)
            if total > cap:
                raise _TooLarge(None)
            chunks.append(chunk)
            if time.monotonic() - started > deadline:
                raise httpx.ReadTimeout(f"the response took longer than {deadline:g} s in all")
        return b"".join(chunks)

    def _wait(self, state: RetryCallState) -> float:
        policy = self.retry
        exponential = policy.initial_wait * 2 ** (state.attempt_number - 1)
        backoff = min(exponential + random.uniform(0, policy.jitter), policy.max_wait)
        exc = state.outcome.exception() if state.outcome else None
        floor = exc.retry_after if isinstance(exc, _Retryable) and exc.retry_after else 0.0
        return min(max(backoff, floor), policy.max_wait)

    def _stop(self, state: RetryCallState) -> bool:
        """After the policy's attempts, or at once when the server asks for a longer wait than
        the policy allows."""
        if state.attempt_number >= self.retry.max_attempts:
            return True
        exc = state.outcome.exception() if state.outcome else None
        return (
            isinstance(exc, _Retryable)
            and exc.retry_after is not None
            and exc.retry_after > self.retry.max_wait
        )

    def _log_retry(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        method, path = state.args[0], state.args[1]
        reason = (
            f"HTTP {exc.status} {self._scrub(exc.code, 60)}"
            if isinstance(exc, _Retryable)
            else _network_reason(exc, self._scrub)
            if isinstance(exc, Exception)
            else "failed"
        )
        log.info(
            "%s %s %s: %s; attempt %d of %d in %.1f s",
            self.system,
            method,
            path,
            reason,
            state.attempt_number + 1,
            self.retry.max_attempts,
            state.upcoming_sleep,
        )

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Answer:
        """One logical call: retried as the policy says, then a 2xx answer or an ApiError.

        Every message built here is scrubbed (``_scrub``): httpx and h11 quote a header they
        refuse in full, and a server's error text is the server's to choose.
        """
        call = f"{method} {path}"
        retrying = Retrying(
            stop=self._stop,
            wait=self._wait,
            retry=retry_if_exception_type((_Retryable, *NETWORK_ERRORS)),
            sleep=self.retry.sleep,
            before_sleep=self._log_retry,
            reraise=True,
        )
        try:
            response = retrying(self._attempt, method, path, params, body, headers)
        except _Retryable as exc:
            attempts = retrying.statistics.get("attempt_number", 1)
            if exc.retry_after is not None and exc.retry_after > self.retry.max_wait:
                why = (
                    f"rate limited: asked to wait {exc.retry_after:g} s, longer than the"
                    f" {self.retry.max_wait:g} s limit"
                )
            else:
                why = f"gave up after {attempts} attempts: {self._scrub(exc.message)}"
            code = self._scrub(exc.code, 60)
            raise errors.UnavailableError(self.system, exc.status, code, why, call=call) from None
        except _TooLarge as exc:
            size = f" ({exc.declared:,} bytes announced)" if exc.declared is not None else ""
            why = (
                f"the response is larger than the {_size(self.limits.max_body_bytes)} limit"
                f"{size}; not read further ({ENV_MAX_BODY_BYTES} raises the limit)"
            )
            raise errors.MalformedResponseError(
                self.system, None, "response_too_large", why, call=call
            ) from None
        except NETWORK_ERRORS as exc:
            attempts = retrying.statistics.get("attempt_number", 1)
            tries = f"{attempts} attempt" + ("" if attempts == 1 else "s")
            why = f"{_network_reason(exc, self._scrub)} after {tries}"
            error = errors.UnavailableError(self.system, None, "unreachable", why, call=call)
            # Keep only the kind of failure (_nothing_there needs it), never its text.
            raise error from type(exc)("")
        except httpx.DecodingError:
            raise errors.MalformedResponseError(
                self.system,
                None,
                "undecodable_response",
                "the response body could not be decoded (its Content-Encoding is broken)",
                call=call,
            ) from None
        except (httpx.HTTPError, ValueError) as exc:
            # LocalProtocolError ("Illegal header value b'Bearer …'"), InvalidURL and the like:
            # the request never left, and the text may quote a header. Say what kind it was.
            why = f"the request could not be sent ({type(exc).__name__}: {self._scrub(str(exc))})"
            raise errors.ApiError(self.system, None, "request_failed", why, call=call) from None
        if response.is_success:
            return response
        code, message = _error_of(response)
        code, message = self._scrub(code, 60), self._scrub(message)
        status = response.status_code
        if status == 401:
            raise errors.AuthError(
                self.system,
                status,
                code,
                f"the {self.system} token was refused; check the token source configured for"
                " this service (environment variable or token file)",
                call=call,
            )
        if 300 <= status < 400:
            raise errors.ApiError(
                self.system,
                status,
                "redirected",
                f"redirected to {_location_of(response)}, not followed (the token goes to"
                f" this address only): check the service's {self.system} URL",
                call=call,
            )
        by_status: dict[int, type[errors.ApiError]] = {
            404: errors.NotFoundError,
            422: errors.InvalidError,
        }
        raise by_status.get(status, errors.ApiError)(self.system, status, code, message, call=call)

    def _parse(self, response: Answer, adapter: TypeAdapter[T], call: str) -> T:
        """Validate a 2xx answer into records, then apply the field rules (clean_record)."""
        content_type = response.headers.get("Content-Type", "")
        if not _is_json(content_type):
            what = one_line(content_type.split(";", 1)[0].strip(), 60) or "no Content-Type"
            raise errors.MalformedResponseError(
                self.system,
                None,
                "not_json",
                f"the response is {what}, not application/json",
                call=call,
            )
        try:
            value = adapter.validate_json(response.content, strict=True)
        except ValidationError as exc:
            raise errors.MalformedResponseError(
                self.system, None, "malformed_response", describe_validation(exc), call=call
            ) from None
        try:
            if isinstance(value, Page):
                value = self._clean_page(value)  # type: ignore[assignment]
            elif dataclasses.is_dataclass(value):
                value = clean_record(value, self.limits)
        except _FieldProblem as exc:
            raise errors.MalformedResponseError(
                self.system, None, "malformed_response", str(exc), call=call
            ) from None
        return value

    def _clean_page(self, page: Page[Any]) -> Page[Any]:
        items = []
        for index, item in enumerate(page.items):
            try:
                items.append(clean_record(item, self.limits))
            except _FieldProblem as exc:
                ident = getattr(item, "id", None)
                readable = (
                    isinstance(ident, str)
                    and "\x00" not in ident
                    and len(ident) <= self.limits.max_id_chars
                )
                named = f" (id {_shown_id(ident)})" if readable else ""
                raise _FieldProblem(f"items[{index}]{named}.{exc}") from None
        for field, mark in (("next_cursor", page.next_cursor), ("as_of", page.as_of)):
            if mark is not None and len(mark) > self.limits.max_cursor_chars:
                raise _FieldProblem(
                    f"{field}: {len(mark):,} characters, over the"
                    f" {self.limits.max_cursor_chars:,}-character limit"
                )
        if page.total is not None and page.total < 0:
            raise _FieldProblem(f"total: {page.total} is negative")
        return Page(tuple(items), page.next_cursor, page.total, page.as_of)

    def _call(self, method: str, path: str, adapter: TypeAdapter[T], **kwargs: Any) -> T:
        return self._parse(self._request(method, path, **kwargs), adapter, f"{method} {path}")

    # --- lists ---------------------------------------------------------------------------

    def _read_all(
        self,
        path: str,
        adapter: TypeAdapter[Page[T]],
        what: str,
        updated_since: str | None = None,
    ) -> ListResult[T]:
        """Follow next_cursor to the end. A page that cannot be read, or breaks a reader limit
        (_page_problem, the page cap), ends the read as incomplete, keeping what came before.
        Raises instead when nothing could be read and the next list would fail the same way:
        a refused token, a list that does not exist at all (wrong service URL, a redirect), or
        a server that cannot be reached for page 1. ``updated_since`` (an earlier read's
        ``as_of``) asks only for what changed since; ``total`` and ``as_of`` come from page 1,
        taken before anything else was read."""
        items: list[T] = []
        first: Page[T] | None = None
        seen_ids: dict[str, int] = {}  # id -> the page it came on
        asked: dict[str | None, int] = {}  # cursor -> the page it fetched
        cursor: str | None = None
        page_no = 1

        def stopped(why: str, refused: bool = False) -> ListResult[T]:
            problem = f"{self.system} {what}: read stopped after {len(items)} records: {why}"
            return ListResult(tuple(items), complete=False, problem=problem, since_refused=refused)

        while True:
            params: dict[str, Any] = {"limit": self.page_size}
            if updated_since is not None:
                params["updated_since"] = updated_since
            if cursor is not None:
                params["cursor"] = cursor
            asked[cursor] = page_no
            try:
                page = self._call("GET", path, adapter, params=params)
            except errors.ApiError as exc:
                mark_refused = (
                    updated_since is not None
                    and page_no == 1
                    and exc.status is not None
                    and 400 <= exc.status < 500
                    and exc.status not in (401, 429)
                )  # a full read of the list follows, and says so if the URL itself is wrong
                if isinstance(exc, errors.AuthError) or (
                    page_no == 1 and _nothing_there(exc) and not mark_refused
                ):
                    raise
                if exc.code == "response_too_large":
                    why = f"was refused: {exc.message}"
                elif isinstance(exc, errors.MalformedResponseError):
                    why = f"was malformed: {exc.message}"
                else:
                    status = f"HTTP {exc.status}, " if exc.status is not None else ""
                    why = f"could not be read: {exc.message} ({status}{exc.code})"
                return stopped(f"page {page_no} {why}", mark_refused)
            refused = self._page_problem(page, page_no, seen_ids, asked)
            if refused:
                return stopped(f"page {page_no} was refused: {refused}")
            first = first or page
            items.extend(page.items)
            for item in page.items:
                seen_ids[item.id] = page_no  # type: ignore[attr-defined]
            if page.next_cursor is None:
                return ListResult(tuple(items), total=first.total, as_of=first.as_of)
            if page_no >= self.limits.max_pages:
                return stopped(
                    f"the list goes on past the {self.limits.max_pages:,}-page limit"
                    f" ({ENV_MAX_PAGES} raises it)"
                )
            cursor = page.next_cursor
            page_no += 1

    def _page_problem(
        self,
        page: Page[Any],
        page_no: int,
        seen_ids: Mapping[str, int],
        asked: Mapping[str | None, int],
    ) -> str | None:
        """Why a well-formed page still cannot be trusted, or None. Each of these would make
        the read silently wrong (a record counted twice, the last copy winning, a read that
        never ends), so none of them is picked around: the read stops."""
        if len(page.items) > self.page_size:
            return f"it has {len(page.items):,} items, more than the {self.page_size} asked for"
        here: set[str] = set()
        repeats: list[str] = []
        for item in page.items:
            ident = item.id
            if ident in here or ident in seen_ids:
                if not repeats:
                    first = seen_ids.get(ident)
                    where = f"page {first}" if first is not None else "this page"
                    repeats.append(f"it repeats id {_shown_id(ident)} (already on {where})")
                else:
                    repeats.append(ident)
            here.add(ident)
        if repeats:
            more = f" and {len(repeats) - 1} more repeated ids" if len(repeats) > 1 else ""
            return repeats[0] + more
        cursor = page.next_cursor
        if cursor is not None and cursor in asked:
            back = asked[cursor]
            if back == page_no:
                return "its next_cursor repeats the cursor that fetched it (the read would loop)"
            return f"its next_cursor leads back to page {back} (the cursors go round in a circle)"
        return None

    # --- lifecycle -----------------------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_url!r})"
