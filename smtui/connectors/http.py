"""The HTTP plumbing both clients share: auth, timeouts, retries, pagination and validation.

Both contracts (docs/api.md) behave alike, so one base class holds the rules: every call is
idempotent (reads, PATCH, idempotent archive/membership calls, and creates that carry an
Idempotency-Key), hence every call may be retried on 429, 5xx, timeouts and dropped connections.
Responses are validated strictly into the shared records, so a contract drift is reported by
field name instead of flowing into the sync engine as half-parsed data.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from types import TracebackType
from typing import Any, ClassVar, Generic, Self, TypeVar

import httpx
from pydantic import TypeAdapter, ValidationError
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_any,
)

from smtui.connectors.errors import (
    ApiError,
    AuthError,
    InvalidError,
    MalformedResponseError,
    NotFoundError,
    UnavailableError,
)

T = TypeVar("T")

log = logging.getLogger("smtui.connectors")

DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=30.0, write=30.0, pool=10.0)
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


@dataclass(frozen=True, slots=True)
class ListResult(Generic[T]):
    """A full list read. ``complete`` is False when a page could not be read; ``items`` then
    holds only what came before it, and ``problem`` says why in one line."""

    items: tuple[T, ...]
    complete: bool = True
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a cursor-paginated list, as the contract sends it."""

    items: tuple[T, ...]
    next_cursor: str | None


class _Retryable(Exception):
    """A retryable HTTP status, with what is needed to wait and to report it."""

    def __init__(self, status: int, code: str, message: str, retry_after: float | None) -> None:
        super().__init__(status, code, message)
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after


def _retry_after(response: httpx.Response) -> float | None:
    try:
        seconds = float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def _error_of(response: httpx.Response) -> tuple[str, str]:
    """The contract's (code, message), or something readable when the body is not that."""
    try:
        error = response.json()["error"]
        return str(error["code"]), str(error["message"])
    except (ValueError, KeyError, TypeError):
        return f"http_{response.status_code}", response.reason_phrase or "error"


def _network_reason(exc: Exception) -> str:
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
        what = "could not connect"
    elif isinstance(exc, httpx.TimeoutException):
        what = "timed out"
    else:
        what = "connection dropped"
    detail = str(exc)
    return f"{what} ({detail})" if detail else what


def _nothing_there(exc: ApiError) -> bool:
    """A first-page failure that says the whole system is out of reach at this URL: no such
    list (404), or no connection at all after every retry. A read timeout or a dropped
    connection is not: the server is there, and that list alone may be the trouble."""
    if isinstance(exc, NotFoundError):
        return True
    connect_failed = isinstance(exc.__cause__, httpx.ConnectError | httpx.ConnectTimeout)
    return isinstance(exc, UnavailableError) and exc.code == "unreachable" and connect_failed


def describe_validation(exc: ValidationError) -> str:
    """``items[3].birth_date: Input should be a valid date…`` for the first problem found.

    Input values are left out on purpose: they may be a child's name or birth date.
    """
    errors = exc.errors(include_input=False, include_url=False)
    first = errors[0]
    where = ""
    for part in first["loc"]:
        where += f"[{part}]" if isinstance(part, int) else f".{part}" if where else str(part)
    text = f"{where}: {first['msg']}" if where else first["msg"]
    return text + (f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else "")


class ApiClient:
    """Base for one system's client. Safe to share across threads (httpx.Client is)."""

    system: ClassVar[str]

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        page_size: int = 200,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not 1 <= page_size <= 500:
            raise ValueError(f"page_size must be 1..500, not {page_size}")
        self.base_url = base_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self.page_size = page_size
        self._count_lock = threading.Lock()
        self._requests_made = 0
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={
                "Authorization": f"Bearer {token}",
                "User-Agent": _user_agent(),
                "Accept": "application/json",
            },
            timeout=timeout,
            transport=transport,
        )

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
    ) -> httpx.Response:
        with self._count_lock:
            self._requests_made += 1
        response = self._http.request(method, path, params=params, json=body, headers=headers)
        if response.status_code in RETRY_STATUSES:
            code, message = _error_of(response)
            raise _Retryable(response.status_code, code, message, _retry_after(response))
        return response

    def _wait(self, state: RetryCallState) -> float:
        policy = self.retry
        exponential = policy.initial_wait * 2 ** (state.attempt_number - 1)
        backoff = min(exponential + random.uniform(0, policy.jitter), policy.max_wait)
        exc = state.outcome.exception() if state.outcome else None
        floor = exc.retry_after if isinstance(exc, _Retryable) and exc.retry_after else 0.0
        return min(max(backoff, floor), policy.max_wait)

    def _asked_to_wait_too_long(self, state: RetryCallState) -> bool:
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
            f"HTTP {exc.status} {exc.code}"
            if isinstance(exc, _Retryable)
            else _network_reason(exc)
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
    ) -> httpx.Response:
        """One logical call: retried as the policy says, then a 2xx response or an ApiError."""
        call = f"{method} {path}"
        stop = stop_any(stop_after_attempt(self.retry.max_attempts), self._asked_to_wait_too_long)
        retrying = Retrying(
            stop=stop,
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
                why = f"gave up after {attempts} attempts: {exc.message}"
            raise UnavailableError(self.system, exc.status, exc.code, why, call=call) from exc
        except NETWORK_ERRORS as exc:
            attempts = retrying.statistics.get("attempt_number", 1)
            tries = f"{attempts} attempt" + ("" if attempts == 1 else "s")
            why = f"{_network_reason(exc)} after {tries}"
            raise UnavailableError(self.system, None, "unreachable", why, call=call) from exc
        if response.is_success:
            return response
        code, message = _error_of(response)
        status = response.status_code
        if status == 401:
            raise AuthError(
                self.system,
                status,
                code,
                f"the {self.system} token was refused; check the token source configured for"
                " this service (environment variable or token file)",
                call=call,
            )
        error = {404: NotFoundError, 422: InvalidError}.get(status, ApiError)
        raise error(self.system, status, code, message, call=call)

    def _parse(self, response: httpx.Response, adapter: TypeAdapter[T], call: str) -> T:
        try:
            return adapter.validate_json(response.content, strict=True)
        except ValidationError as exc:
            raise MalformedResponseError(
                self.system, None, "malformed_response", describe_validation(exc), call=call
            ) from exc

    def _call(self, method: str, path: str, adapter: TypeAdapter[T], **kwargs: Any) -> T:
        return self._parse(self._request(method, path, **kwargs), adapter, f"{method} {path}")

    # --- lists ---------------------------------------------------------------------------

    def _read_all(self, path: str, adapter: TypeAdapter[Page[T]], what: str) -> ListResult[T]:
        """Follow next_cursor to the end. A page that cannot be read ends the read as
        incomplete, keeping what came before. Raises instead when nothing could be read and
        the next list would fail the same way: a refused token, a list that does not exist
        at all (wrong service URL), or a server that cannot be reached for page 1."""
        items: list[T] = []
        cursor: str | None = None
        page_no = 1
        while True:
            params: dict[str, Any] = {"limit": self.page_size}
            if cursor is not None:
                params["cursor"] = cursor
            try:
                page = self._call("GET", path, adapter, params=params)
                if page.next_cursor is not None and page.next_cursor == cursor:
                    raise MalformedResponseError(
                        self.system, None, "malformed_response", "next_cursor repeats the cursor"
                    )
            except ApiError as exc:
                if isinstance(exc, AuthError) or (page_no == 1 and _nothing_there(exc)):
                    raise
                if isinstance(exc, MalformedResponseError):
                    why = f"was malformed: {exc.message}"
                else:
                    status = f"HTTP {exc.status}, " if exc.status is not None else ""
                    why = f"could not be read: {exc.message} ({status}{exc.code})"
                problem = (
                    f"{self.system} {what}: read stopped after {len(items)} records:"
                    f" page {page_no} {why}"
                )
                return ListResult(tuple(items), complete=False, problem=problem)
            items.extend(page.items)
            if page.next_cursor is None:
                return ListResult(tuple(items))
            cursor = page.next_cursor
            page_no += 1

    # --- lifecycle -----------------------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_url!r})"
