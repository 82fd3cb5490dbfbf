"""First sync of a 500-child service, concurrent apply vs one request at a time; then a no-op sync.

The sandbox runs in its own process (so it does not share our GIL) and adds a fixed latency to
every request (30 ms by default), standing in for the network between smtui and a real vendor: that
latency is what bounded concurrency hides. On a 2-core machine the sandbox and smtui share the
cores, so with little latency the run is CPU-bound and the ratio falls (see the README). Targets
(issue 3): concurrent >= 4x faster than one at a time; a no-op sync writes nothing and makes <= 15
requests.

    python bench/bench_sync.py [--latency-ms 30] [--children 500]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from smtui import engine
from smtui.connectors import CcmsClient
from smtui.sandbox.admin import AdminClient
from smtui.store import ServiceConfig

SERVICE = "gumnut-grove"
TODAY = dt.date(2026, 11, 23)
TOKENS = {
    "SMTUI_BENCH_CCMS": "ccms-sandbox-token",
    "SMTUI_BENCH_PORTFOLIO": "portfolio-sandbox-token",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_sandbox(port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "smtui", "sandbox", "--port", str(port), "--today", str(TODAY)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("the sandbox did not start")


def fresh_world(url: str, children: int, latency_ms: int) -> None:
    """Reset the world and enrol children until the service has ``children`` active ones."""
    with AdminClient(f"{url}/admin", "sandbox-admin-token") as admin:
        admin.clear_faults()
        admin.reset(seed=7, today=TODAY, services="all")
        current = next(s for s in admin.services() if s["id"] == SERVICE)
        with CcmsClient(f"{url}/ccms/v1/services/{SERVICE}", TOKENS["SMTUI_BENCH_CCMS"]) as ccms:
            rooms = [r.id for r in ccms.rooms().items]
        for i in range(children - current["counts"]["active_children"]):
            admin.enrol(
                SERVICE,
                first_name=f"Bench{i:04d}",
                last_name=f"Child{i % 97:02d}",
                birth_date=dt.date(2022, 1, 1) + dt.timedelta(days=i % 900),
                room_id=rooms[i % len(rooms)],
                weekdays=[1, 2, 3, 4, 5],
                start_date=TODAY,
            )
        admin.set_faults(rate=1, kinds=["latency"], latency_ms=latency_ms, scope="all")


def first_sync(url: str, folder: Path, workers: int) -> tuple[float, engine.SyncResult, object]:
    store = engine.open_store(str(folder / f"bench-{workers}.db"))
    engine.add_service(
        store,
        ServiceConfig(
            name=SERVICE,
            ccms_url=f"{url}/ccms/v1/services/{SERVICE}",
            portfolio_url=f"{url}/portfolio/v1/services/{SERVICE}",
            ccms_token_env="SMTUI_BENCH_CCMS",
            portfolio_token_env="SMTUI_BENCH_PORTFOLIO",
            timezone="Australia/Brisbane",
        ),
    )
    engine.refresh(store, SERVICE)
    reviews = [r.child_id for r in engine.child_rows(store, SERVICE, as_of=TODAY)
               if r.action == "review"]  # fmt: skip
    engine.set_children(store, SERVICE, reviews, "create", who="bench")
    started = time.perf_counter()
    result = engine.run_sync(store, SERVICE, setup=True, as_of=TODAY, who="bench", workers=workers)
    return time.perf_counter() - started, result, store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=int, default=30)
    parser.add_argument("--children", type=int, default=500)
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args()
    os.environ.update(TOKENS)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    sandbox = start_sandbox(port)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            fresh_world(url, args.children, args.latency_ms)
            serial, serial_result, _ = first_sync(url, Path(tmp), workers=1)
            fresh_world(url, args.children, args.latency_ms)
            parallel, result, store = first_sync(url, Path(tmp), workers=args.workers)
            ops = result.outcome.done
            print(f"first sync of {args.children} children ({ops} operations, "
                  f"{args.latency_ms} ms latency per request)")  # fmt: skip
            print(f"  one request at a time: {serial:.2f} s ({serial_result.outcome.done} ops)")
            print(f"  {args.workers} workers:             {parallel:.2f} s")
            print(f"  ratio: {serial / parallel:.1f}x (target >= 4x)")
            before = store.runs(SERVICE, limit=1)[0].id
            noop = engine.run_sync(store, SERVICE, as_of=TODAY, who="bench")
            print(
                f"no-op sync: {noop.requests} requests (target <= 15), "
                f"{noop.outcome.done + noop.outcome.failed} writes to the portfolio (target 0), "
                f"plan empty: {noop.plan.is_empty}, run {noop.run.run_id} after {before}"
            )
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)


if __name__ == "__main__":
    main()
