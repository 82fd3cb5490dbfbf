"""Run the sandbox: in a background thread for tests and demos, or in the foreground for
``smtui sandbox``. Binds 127.0.0.1 by default: children's data never leaves the machine."""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time

import uvicorn
from fastapi import FastAPI

from smtui.sandbox.app import DEFAULT_TOKENS, create_app
from smtui.sandbox.faults import quiet_dropped_connections
from smtui.sandbox.seed import ServiceSet
from smtui.sandbox.world import World


def _bind(host: str, port: int) -> socket.socket:
    """Bind before uvicorn starts, so port 0 yields the real port to print and return."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY (no 40 ms Nagle stalls) when
    # the socket says it is TCP.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


def _root_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _server(app: FastAPI, log_level: str) -> uvicorn.Server:
    quiet_dropped_connections()
    config = uvicorn.Config(app, log_level=log_level, access_log=False, lifespan="off")
    return uvicorn.Server(config)


class RunningSandbox:
    """A sandbox serving on a background thread; ``stop()`` (or leaving the ``with``) ends it."""

    def __init__(
        self, app: FastAPI, server: uvicorn.Server, thread: threading.Thread, url: str
    ) -> None:
        self.app = app
        self.url = url
        self._server = server
        self._thread = thread
        tokens = app.state.tokens
        self.ccms_token: str = tokens["ccms"]
        self.portfolio_token: str = tokens["portfolio"]
        self.admin_token: str = tokens["admin"]

    @property
    def world(self) -> World:
        """The live world, for in-process inspection; change it through the admin API."""
        return self.app.state.world

    @property
    def service_ids(self) -> tuple[str, ...]:
        with self.world.lock:
            return tuple(self.world.services)

    @property
    def admin_url(self) -> str:
        return f"{self.url}/admin"

    def ccms_url(self, service_id: str) -> str:
        return f"{self.url}/ccms/v1/services/{service_id}"

    def portfolio_url(self, service_id: str) -> str:
        return f"{self.url}/portfolio/v1/services/{service_id}"

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> RunningSandbox:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def start_sandbox(
    *,
    seed: int = 7,
    today: dt.date | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    services: ServiceSet = "all",
    ccms_token: str = DEFAULT_TOKENS["ccms"],
    portfolio_token: str = DEFAULT_TOKENS["portfolio"],
    admin_token: str = DEFAULT_TOKENS["admin"],
    log_level: str = "warning",
) -> RunningSandbox:
    """Start a sandbox on a background thread and return once it accepts connections."""
    app = create_app(
        World(seed, today, services),
        ccms_token=ccms_token,
        portfolio_token=portfolio_token,
        admin_token=admin_token,
    )
    sock = _bind(host, port)
    server = _server(app, log_level)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="smtui-sandbox", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise RuntimeError(f"the sandbox did not start on {host}:{port}")
        time.sleep(0.01)
    return RunningSandbox(app, server, thread, _root_url(sock))


def serve(
    host: str,
    port: int,
    seed: int,
    today: dt.date | None,
    *,
    services: ServiceSet = "all",
    ccms_token: str = DEFAULT_TOKENS["ccms"],
    portfolio_token: str = DEFAULT_TOKENS["portfolio"],
    admin_token: str = DEFAULT_TOKENS["admin"],
    log_level: str = "info",
) -> None:
    """Serve in the foreground until interrupted, after printing how to point smtui at it."""
    world = World(seed, today, services)
    app = create_app(
        world, ccms_token=ccms_token, portfolio_token=portfolio_token, admin_token=admin_token
    )
    sock = _bind(host, port)
    url = _root_url(sock)
    print(f"smtui sandbox on {url} (seed {world.seed}, today {world.today.isoformat()})")
    print("These are sandbox-only tokens. In your shell:")
    print(f"  export SMTUI_CCMS_TOKEN={ccms_token}")
    print(f"  export SMTUI_PORTFOLIO_TOKEN={portfolio_token}")
    print("Then add the services:")
    for svc in world.services.values():
        print(
            f"  smtui service add {svc.id} --ccms-url {url}/ccms/v1/services/{svc.id}"
            f" --ccms-token-env SMTUI_CCMS_TOKEN"
            f" --portfolio-url {url}/portfolio/v1/services/{svc.id}"
            f" --portfolio-token-env SMTUI_PORTFOLIO_TOKEN --timezone {svc.timezone}"
        )
    print(f"Admin API: {url}/admin (bearer token {admin_token}); OpenAPI: {url}/openapi.json")
    print("Press Ctrl+C to stop.", flush=True)
    _server(app, log_level).run(sockets=[sock])
