"""First sync of a 500-child service, concurrent apply vs one request at a time; then a no-op sync.

The sandbox runs in its own process (so it does not share our GIL) and adds a fixed latency to
every request (30 ms by default), standing in for the network between smtui and a real vendor: that
latency is what bounded concurrency hides. On a 2-core machine the sandbox and smtui share the
cores, so with little latency the run is CPU-bound and the ratio falls (see the README). Targets
(issue 3): concurrent >= 4x faster than one at a time; a no-op sync writes nothing. Issue 11: a
no-op sync of 2,000 children makes <= 6 requests (its changes only, the five lists at once),
printed beside a no-op sync that reads everything in full (SMTUI_FULL_READ_HOURS=0) in the same
run. ``--noop-only`` skips the first-sync comparison and sets up the 2,000-child harbour-city.

    python bench/bench_sync.py [--latency-ms 30] [--children 500] [--noop-only]
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
from smtui.engine.reading import ENV_FULL_READ_HOURS
from smtui.sandbox.admin import AdminClient
from smtui.store import ServiceConfig, Store

SERVICE = "gumnut-grove"
BIG = "harbour-city"  # 2,000 seeded children
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


def fresh_world(url: str, children: int, latency_ms: int, service: str = SERVICE) -> None:
    """Reset the world and enrol children until the service has ``children`` active ones."""
    with AdminClient(f"{url}/admin", "sandbox-admin-token") as admin:
        admin.clear_faults()
        admin.reset(seed=7, today=TODAY, services="all")
        current = next(s for s in admin.services() if s["id"] == service)
        with CcmsClient(f"{url}/ccms/v1/services/{service}", TOKENS["SMTUI_BENCH_CCMS"]) as ccms:
            rooms = [r.id for r in ccms.rooms().items]
        for i in range(children - current["counts"]["active_children"]):
            admin.enrol(
                service,
                first_name=f"Bench{i:04d}",
                last_name=f"Child{i % 97:02d}",
                birth_date=dt.date(2022, 1, 1) + dt.timedelta(days=i % 900),
                room_id=rooms[i % len(rooms)],
                weekdays=[1, 2, 3, 4, 5],
                start_date=TODAY,
            )
        admin.set_faults(rate=1, kinds=["latency"], latency_ms=latency_ms, scope="all")


def first_sync(
    url: str, folder: Path, workers: int, service: str = SERVICE
) -> tuple[float, engine.SyncResult, Store]:
    store = engine.open_store(str(folder / f"bench-{service}-{workers}.db"))
    engine.add_service(
        store,
        ServiceConfig(
            name=service,
            ccms_url=f"{url}/ccms/v1/services/{service}",
            portfolio_url=f"{url}/portfolio/v1/services/{service}",
            ccms_token_env="SMTUI_BENCH_CCMS",
            portfolio_token_env="SMTUI_BENCH_PORTFOLIO",
            timezone="Australia/Brisbane",
        ),
    )
    engine.refresh(store, service)
    reviews = [r.child_id for r in engine.child_rows(store, service, as_of=TODAY)
               if r.action == "review"]  # fmt: skip
    engine.set_children(store, service, reviews, "create", who="bench")
    started = time.perf_counter()
    result = engine.run_sync(store, service, setup=True, as_of=TODAY, who="bench", workers=workers)
    return time.perf_counter() - started, result, store


def noop_syncs(store: Store, service: str, children: int, latency_ms: int) -> None:
    """A no-op sync reading only the changes, then one reading all five lists in full."""
    runs = []
    for hours in (None, "0"):
        if hours is None:
            os.environ.pop(ENV_FULL_READ_HOURS, None)
        else:
            os.environ[ENV_FULL_READ_HOURS] = hours
        started = time.perf_counter()
        result = engine.run_sync(store, service, as_of=TODAY, who="bench")
        runs.append((time.perf_counter() - started, result))
    os.environ.pop(ENV_FULL_READ_HOURS, None)
    print(f"no-op sync of {service} ({children} children, {latency_ms} ms latency per request)")
    for label, (seconds, result) in zip(("changes only", "full read"), runs, strict=True):
        writes = result.outcome.done + result.outcome.failed
        print(f"  {label:12}: {result.requests:3} requests in {seconds:.2f} s, {writes} writes,"
              f" plan empty: {result.plan.is_empty}")  # fmt: skip
    met = "met" if runs[0][1].requests <= 6 else "NOT met"
    print(f"  target (issue 11, 2,000 children): <= 6 requests changes only: {met}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=int, default=30)
    parser.add_argument("--children", type=int, default=500)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--noop-only", action="store_true", help="only the 2,000-child no-op")
    args = parser.parse_args()
    os.environ.update(TOKENS)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    sandbox = start_sandbox(port)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            if args.noop_only:
                fresh_world(url, 0, args.latency_ms, BIG)
                _, _, store = first_sync(url, Path(tmp), args.workers, BIG)
                noop_syncs(store, BIG, 2000, args.latency_ms)
                return
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
            noop_syncs(store, SERVICE, args.children, args.latency_ms)
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)


if __name__ == "__main__":
    main()
