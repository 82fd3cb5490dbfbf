"""What can go wrong talking to either system, as exceptions the engine can sort by kind.

Messages name the system, the call and the server's reason, and never the token: they end up
in the journal, on a support person's screen and in cron mail.
"""

from __future__ import annotations


class ApiError(Exception):
    """A call to ``system`` ("CCMS" or "portfolio") failed.

    ``status`` is the HTTP status, or None when no usable answer came back (connection lost,
    response unreadable): the caller then cannot know whether a write took effect. ``call``
    names the request (``"PATCH /profiles/p-1"``), ``message`` says what went wrong.
    """

    def __init__(
        self, system: str, status: int | None, code: str, message: str, *, call: str = ""
    ) -> None:
        super().__init__(system, status, code, message, call)
        self.system = system
        self.status = status
        self.code = code
        self.message = message
        self.call = call

    def __str__(self) -> str:
        where = f"{self.system} {self.call}" if self.call else self.system
        status = f"HTTP {self.status}, " if self.status is not None else ""
        return f"{where}: {self.message} ({status}{self.code})"


class AuthError(ApiError):
    """401: the token is missing, wrong or revoked; retrying cannot help."""


class NotFoundError(ApiError):
    """404: no such service, record or cursor."""


class InvalidError(ApiError):
    """422: the request was refused as invalid: a bug or a data problem to report."""


class UnavailableError(ApiError):
    """The system kept failing (5xx, 429, timeouts, dropped connections) until retries ran out."""


class MalformedResponseError(ApiError):
    """The response did not match the contract; the message names the offending field."""
