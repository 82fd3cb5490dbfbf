"""HTTP clients for the two systems smtui keeps in step (contracts in docs/api.md)."""

from smtui.connectors.ccms import CcmsClient
from smtui.connectors.errors import (
    ApiError,
    AuthError,
    InvalidError,
    MalformedResponseError,
    NotFoundError,
    UnavailableError,
)
from smtui.connectors.http import (
    DEFAULT_TIMEOUT,
    ListResult,
    ReaderLimits,
    RetryPolicy,
    scrub_credentials,
)
from smtui.connectors.portfolio import PortfolioClient

__all__ = [
    "DEFAULT_TIMEOUT",
    "ApiError",
    "AuthError",
    "CcmsClient",
    "InvalidError",
    "ListResult",
    "MalformedResponseError",
    "NotFoundError",
    "PortfolioClient",
    "ReaderLimits",
    "RetryPolicy",
    "UnavailableError",
    "scrub_credentials",
]
