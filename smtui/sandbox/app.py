"""The sandbox app factory: both contracts, the admin API, faults and the error shape."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from smtui.sandbox import admin_api, api_ccms, api_portfolio
from smtui.sandbox.errors import ApiError
from smtui.sandbox.faults import FaultMiddleware, Faults
from smtui.sandbox.world import World

DEFAULT_TOKENS = {
    "ccms": "ccms-sandbox-token",
    "portfolio": "portfolio-sandbox-token",
    "admin": "sandbox-admin-token",
}


def _error(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    body = {"error": {"code": code, "message": message}}
    return JSONResponse(body, status_code=status, headers=headers)


def create_app(
    world: World | None = None,
    *,
    ccms_token: str = DEFAULT_TOKENS["ccms"],
    portfolio_token: str = DEFAULT_TOKENS["portfolio"],
    admin_token: str = DEFAULT_TOKENS["admin"],
) -> FastAPI:
    """A sandbox serving ``world`` (a default seeded world when None).

    ``app.state.world`` and ``app.state.faults`` are the live state the admin API changes.
    """
    app = FastAPI(
        title="smtui sandbox",
        description="CCMS and portfolio contracts of docs/api.md, plus the sandbox admin API.",
        version="1",
    )
    app.state.world = world if world is not None else World()
    app.state.faults = Faults()
    app.state.tokens = {"ccms": ccms_token, "portfolio": portfolio_token, "admin": admin_token}
    app.include_router(api_ccms.router)
    app.include_router(api_portfolio.router)
    app.include_router(admin_api.router)
    app.add_middleware(FaultMiddleware, faults=app.state.faults)

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return _error(exc.status, exc.code, exc.message, headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            f"{'.'.join(str(p) for p in err.get('loc', ()))}: {err.get('msg', 'invalid')}"
            for err in exc.errors()
        ]
        return _error(422, "invalid_request", "; ".join(problems) or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return _error(exc.status_code, code, str(exc.detail), exc.headers)

    return app
