"""The one error type the sandbox raises; the app turns it into the contract's error shape."""

from __future__ import annotations


class ApiError(Exception):
    """An error the contract names: HTTP status plus a stable machine code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def not_found(what: str, ident: str) -> ApiError:
    return ApiError(404, f"{what}_not_found", f"no {what.replace('_', ' ')} {ident!r}")


def invalid(code: str, message: str) -> ApiError:
    return ApiError(422, code, message)
