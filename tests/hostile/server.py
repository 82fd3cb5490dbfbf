"""A hostile vendor: both contracts served badly, on demand, on 127.0.0.1.

It sits in front of the real sandbox: every call is passed through (so setup and syncs work and
write for real) except the list reads a test has rigged, which it answers itself from the
sandbox's own records, badly, in the way the test asked for (``Trick``). It also swaps tokens:
clients must send the canary tokens the test chose, and the sandbox sees its own. Everything
it does is bounded: a trickle stops, a huge body is a fixed size, a run of pages has an end.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

LISTS = {
    "ccms": ("children", "rooms", "bookings"),
    "portfolio": ("profiles", "rooms"),
}
MAX_REQUESTS = 50_000  # a client that loops gets cut off here rather than by the machine
MAX_TRICKLE_SECONDS = 60.0
CHUNK = 1024 * 1024


@dataclass
class Trick:
    """How to answer one list badly. ``lists`` are "system/list" keys ("ccms/children").

    kinds: ``cycle`` (cursors A -> B -> A), ``endless`` (a new cursor every page, no items),
    ``duplicate`` (a copy of ``target`` with ``fields`` changed, added at the end), ``override``
    (``target``'s ``fields`` replaced in place), ``over_limit`` (one item more than asked),
    ``huge`` (a ``size``-byte valid page; ``declare`` sends Content-Length), ``trickle`` (a byte
    every 50 ms), ``html`` (a login page), ``redirect`` (307 to ``location``), ``echo`` (a 422
    quoting the request's headers back, Authorization included).
    ``page_size`` cuts pages smaller than the client asked, so a trick can span pages.
    """

    kind: str
    lists: frozenset[str]
    target: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    page_size: int | None = None
    size: int = 0
    declare: bool = True
    location: str = ""
    methods: frozenset[str] = frozenset({"GET"})


class HostileServer:
    """The server, its trick, and what it saw (requests, bytes it got out, headers it got)."""

    def __init__(self, upstream: str, tokens: dict[str, str], upstream_tokens: dict[str, str]):
        self.upstream = httpx.Client(base_url=upstream, timeout=30.0, follow_redirects=False)
        self.tokens = tokens  # system -> the token clients must send
        self.upstream_tokens = upstream_tokens
        self.trick: Trick | None = None
        self.lock = threading.Lock()
        self.requests = 0
        self.sent: list[int] = []  # bytes written per huge or trickled body before it ended
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def ccms_url(self, service: str) -> str:
        return f"{self.url}/ccms/v1/services/{service}"

    def portfolio_url(self, service: str) -> str:
        return f"{self.url}/portfolio/v1/services/{service}"

    def rig(self, kind: str, *lists: str, **options: Any) -> Trick:
        self.trick = Trick(kind, frozenset(lists), **options)
        return self.trick

    def honest(self) -> None:
        self.trick = None

    def start(self) -> HostileServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.upstream.close()
        self.thread.join(timeout=10)

    def full_list(self, path: str, system: str) -> list[dict[str, Any]]:
        """Every record of one list, read from the sandbox page by page."""
        items: list[dict[str, Any]] = []
        params: dict[str, Any] = {"limit": 500}
        headers = {"Authorization": f"Bearer {self.upstream_tokens[system]}"}
        while True:
            page = self.upstream.get(path, params=params, headers=headers).json()
            items.extend(page["items"])
            if page["next_cursor"] is None:
                return items
            params["cursor"] = page["next_cursor"]


class Recorder:
    """Another host: answers every request with a valid empty page and keeps the headers it
    got, so a test can show that a token was never sent here."""

    def __init__(self) -> None:
        self.seen: list[dict[str, str]] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                recorder.seen.append(dict(self.headers))
                body = json.dumps({"items": [], "next_cursor": None}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)


def _handler(server: HostileServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # one request per connection; a body may end at close

        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self.handle_any()

        def do_POST(self) -> None:
            self.handle_any()

        def do_PATCH(self) -> None:
            self.handle_any()

        def do_PUT(self) -> None:
            self.handle_any()

        def do_DELETE(self) -> None:
            self.handle_any()

        # --- plumbing ------------------------------------------------------------------

        def handle_any(self) -> None:
            with server.lock:
                server.requests += 1
                too_many = server.requests > MAX_REQUESTS
            if too_many:
                self.send_json(410, {"error": {"code": "gone", "message": "request limit"}})
                return
            split = urlsplit(self.path)
            parts = split.path.strip("/").split("/")
            system = parts[0] if parts else ""
            if system not in server.tokens:
                self.send_json(404, {"error": {"code": "not_found", "message": "no such path"}})
                return
            if self.headers.get("Authorization") != f"Bearer {server.tokens[system]}":
                self.send_json(401, {"error": {"code": "unauthorized", "message": "bad token"}})
                return
            trick = server.trick
            rest = parts[4:] if len(parts) > 4 else []
            key = f"{system}/{rest[0]}" if len(rest) == 1 else ""
            if trick is not None and self.command in trick.methods:
                if trick.kind == "echo" and (key in trick.lists or self.command != "GET"):
                    self.echo()
                    return
                if key in trick.lists and key.split("/")[1] in LISTS[system]:
                    self.tricked(trick, system, split.path, parse_qs(split.query))
                    return
            self.forward(system)

        def forward(self, system: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {
                k: v
                for k, v in self.headers.items()
                if k.lower() in ("content-type", "idempotency-key", "accept")
            }
            headers["Authorization"] = f"Bearer {server.upstream_tokens[system]}"
            answer = server.upstream.request(self.command, self.path, content=body, headers=headers)
            self.send_response(answer.status_code)
            for name in ("Content-Type", "Retry-After"):
                if name in answer.headers:
                    self.send_header(name, answer.headers[name])
            self.send_header("Content-Length", str(len(answer.content)))
            self.end_headers()
            self.wfile.write(answer.content)

        def send_json(
            self, status: int, value: Any, content_type: str = "application/json"
        ) -> None:
            body = json.dumps(value).encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def page(self, items: list[Any], next_cursor: str | None) -> None:
            self.send_json(200, {"items": items, "next_cursor": next_cursor})

        def echo(self) -> None:
            first = sorted(self.headers.items(), key=lambda kv: kv[0].lower() != "authorization")
            seen = "; ".join(f"{k}: {v}" for k, v in first)
            message = f"refused a request with these headers: {seen}"
            self.send_json(422, {"error": {"code": "invalid_request", "message": message}})

        # --- the tricks ----------------------------------------------------------------

        def tricked(
            self, trick: Trick, system: str, path: str, query: dict[str, list[str]]
        ) -> None:
            limit = int(query.get("limit", ["100"])[0])
            cursor = query.get("cursor", [None])[0]
            kind = trick.kind
            if kind == "html":
                body = b"<html><body>Please sign in to the Wi-Fi</body></html>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            if kind == "redirect":
                self.send_response(307)
                self.send_header("Location", trick.location + self.path)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if kind == "huge":
                self.huge(trick)
                return
            if kind == "trickle":
                self.trickle(server.full_list(path, system)[:limit])
                return
            if kind == "cycle":
                if cursor is None:
                    self.page(server.full_list(path, system)[:limit], "A")
                else:
                    self.page([], "B" if cursor == "A" else "A")
                return
            if kind == "endless":
                n = int(cursor[1:]) if cursor else 0
                self.page(server.full_list(path, system)[:limit] if n == 0 else [], f"e{n + 1}")
                return
            items = server.full_list(path, system)
            if kind == "over_limit":
                template = items[0]
                pad = [{**template, "id": f"pad-{i}"} for i in range(limit + 1 - len(items))]
                self.page((items + pad)[: limit + 1], None)
                return
            if kind == "override":
                items = [
                    {**item, **trick.fields} if item["id"] == trick.target else item
                    for item in items
                ]
            elif kind == "duplicate":
                original = next(item for item in items if item["id"] == trick.target)
                items = [*items, {**original, **trick.fields}]
            size = min(limit, trick.page_size or limit)
            offset = int(cursor[1:]) if cursor else 0
            following = offset + size
            self.page(items[offset:following], f"o{following}" if following < len(items) else None)

        def huge(self, trick: Trick) -> None:
            """A valid page of ``trick.size`` bytes: one child whose name fills it."""
            head = b'{"items": [{"id": "huge-1", "first_name": "'
            tail = (
                b'", "last_name": "Big", "birth_date": null, "status": "active",'
                b' "updated_at": "2026-11-20T09:00:00+11:00"}], "next_cursor": null}'
            )
            filler = trick.size - len(head) - len(tail)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            if trick.declare:
                self.send_header("Content-Length", str(trick.size))
            self.end_headers()
            sent = 0
            try:
                self.wfile.write(head)
                sent += len(head)
                block = b"A" * CHUNK
                while filler > 0:
                    piece = block[: min(CHUNK, filler)]
                    self.wfile.write(piece)
                    sent += len(piece)
                    filler -= len(piece)
                self.wfile.write(tail)
                sent += len(tail)
            except OSError:
                pass  # the client hung up: what we are here to see
            finally:
                with server.lock:
                    server.sent.append(sent)

        def trickle(self, items: list[Any]) -> None:
            """Headers at once, then one space every 50 ms (valid JSON whitespace), then the
            page: each byte arrives well within any read timeout, the whole never does."""
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            sent = 0
            deadline = time.monotonic() + MAX_TRICKLE_SECONDS
            try:
                while time.monotonic() < deadline:
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    sent += 1
                    time.sleep(0.05)
                self.wfile.write(json.dumps({"items": items, "next_cursor": None}).encode())
            except OSError:
                pass
            finally:
                with server.lock:
                    server.sent.append(sent)

    return Handler


def serve(
    upstream: str, tokens: dict[str, str], upstream_tokens: dict[str, str]
) -> Iterator[HostileServer]:
    """Start a hostile server in front of ``upstream``; stop it when the generator closes."""
    server = HostileServer(upstream, tokens, upstream_tokens).start()
    try:
        yield server
    finally:
        server.stop()
