"""Many services, many workers: the due query at 10,000 services, and workers' throughput.

Run: python bench/bench_scale.py [--db URL] [--services 10000] [--worker-services 200]
[--workers 1,2,4] [--latency-ms 30] [--quick] [--no-due]

``--db`` is a SQLite path or a PostgreSQL server URL (``postgresql+psycopg://user@host:port/db``,
a role with CREATEDB): each section works in a fresh database of its own, dropped afterwards.
``--quick``: 1,000 services for the due query, 40 for the workers (a few minutes in all).

1. **What is due** over ``--services`` services (a tenth of them due): ``Store.due_services``
   (one query on the indexed ``next_due_at``; target <= 50 ms at 10,000) against the engine's
   service-by-service ``due_services`` (two transactions per service).
2. **Workers** (PostgreSQL only): ``--worker-services`` generated services of 30-300 children
   (``smtui.sandbox.many``, the sandbox in a process of its own), each added to a fresh
   database and set up once (no latency, 4 threads). Then per round of ``--workers``: every
   service made due again (its runs and ``next_due_at`` moved 13 h back), every sandbox request
   delayed by ``--latency-ms``, and N processes each call ``smtui.worker.run_once`` at once.
   Reports the wall time, syncs per second against one worker, double syncs (sync runs per
   service in the store since the round began, must be 0), services not synced, the workers'
   exit codes, and where the cap is: CPU seconds of the workers, of the sandbox and of the rest
   of the machine (PostgreSQL, anything else running) against the wall time.
3. **Setup vs network floor** (``--setup``): a first setup of the sandbox's 2,000-child
   harbour-city at ``--latency-ms`` against the floor, requests x latency / requests in flight
   (8 apply threads); target <= 1.3x. The sandbox runs in its own process (bench_sync's helpers).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from smtui.store import ServiceConfig, open_store  # noqa: E402
from smtui.store.store import RUN, SERVICE  # noqa: E402

DUE_TARGET_MS = 50.0
TODAY = dt.date(2026, 11, 23)


@contextmanager
def fresh_database(db: str | None) -> Iterator[str]:
    """A new, empty database for one section: a temp SQLite file, or one on the server."""
    if not db or "://" not in db or db.startswith("sqlite"):
        with tempfile.TemporaryDirectory() as tmp:
            yield str(Path(tmp) / "bench.db")
        return
    base = sa.make_url(db)
    name = f"smtui_bench_{secrets.token_hex(4)}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE template0')
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def bench_due(db: str | None, services: int, runs: int) -> None:
    from smtui.engine.services import due_services as engine_due

    with fresh_database(db) as url, open_store(url) as store:
        now = dt.datetime.now(dt.UTC)
        synced = now - dt.timedelta(hours=1)
        rows, run_rows = [], []
        for i in range(services):
            due = i % 10 == 0
            finished = synced - dt.timedelta(hours=12 if due else 0)
            rows.append(
                {
                    **dataclasses.asdict(ServiceConfig(f"svc-{i:05}", "c", "p")),
                    "id": i + 1,
                    "created_at": synced,
                    "set_up_at": synced - dt.timedelta(days=1),
                    "state": "active",
                    "next_due_at": finished + dt.timedelta(hours=12),
                }
            )
            run_rows.append(
                {
                    "service_id": i + 1,
                    "started_at": finished,
                    "finished_at": finished,
                    "kind": "sync",
                    "dry_run": False,
                    "result": "ok",
                    "summary": "{}",
                    "who": "bench",
                }
            )
        with store.write_engine.begin() as conn:
            conn.execute(sa.insert(SERVICE), rows)
            conn.execute(sa.insert(RUN), run_rows)
        if store.engine.dialect.name == "postgresql":
            with store.engine.connect() as conn:
                conn.exec_driver_sql("ANALYZE")
                conn.commit()
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            due = store.due_services(now)
            times.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        old = engine_due(store, now)
        old_ms = (time.perf_counter() - t0) * 1000
        assert sorted(due) == sorted(old), "the two rules disagree"
        median = statistics.median(times)
        verdict = "ok" if median <= DUE_TARGET_MS else "OVER TARGET"
        print(f"due query, {services} services ({len(due)} due) on {store.engine.dialect.name}:")
        target = f"(target <= {DUE_TARGET_MS:g}) {verdict}"
        print(f"  Store.due_services   median {median:8.1f} ms  {target}")
        print(f"  engine.due_services         {old_ms:8.1f} ms  (one pass, per service)")


WORKER = """
import resource
import sys
import smtui.engine  # imported before the clock starts: numpy, rapidfuzz... cost seconds
from smtui.worker import run_once

def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime

sys.stdin.readline()
c0 = cpu()
report = run_once(sys.argv[1])
print(len(report.outcomes), cpu() - c0, flush=True)
"""


def _proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) a running process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _machine_busy() -> float:
    """CPU seconds the whole machine has spent not idle (all cores), from /proc/stat."""
    ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = ticks[3] + ticks[4]
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _many_sandbox(services: int) -> tuple[subprocess.Popen[str], str]:
    """The many-services sandbox in a process of its own (its CPU is measured apart)."""
    import bench_sync  # beside this script

    port = bench_sync.free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "smtui.sandbox.many", "--services", str(services),
         "--port", str(port), "--today", str(TODAY)],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert proc.stdout is not None
    print(f"  sandbox: {proc.stdout.readline().strip()}", flush=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc, f"http://127.0.0.1:{port}"
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("the many-services sandbox did not start")


def _set_up(url: str, sandbox: str, names: list[str], threads: int = 4) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from smtui import engine

    with open_store(url) as store:
        for name in names:
            engine.add_service(
                store,
                ServiceConfig(
                    name=name,
                    ccms_url=f"{sandbox}/ccms/v1/services/{name}",
                    portfolio_url=f"{sandbox}/portfolio/v1/services/{name}",
                    ccms_token_env="BENCH_CCMS",
                    portfolio_token_env="BENCH_PORTFOLIO",
                ),
            )

        def one(name: str) -> None:
            engine.refresh(store, name)
            engine.run_sync(store, name, setup=True, as_of=TODAY)

        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(one, names))


def _make_due(url: str) -> None:
    """Every service due again: its runs and next due moved 13 hours back (12 h interval)."""
    with open_store(url) as store, store.write_engine.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE sync_run SET started_at = started_at - interval '13 hours',"
            " finished_at = finished_at - interval '13 hours'"
        )
        conn.exec_driver_sql("UPDATE service SET next_due_at = next_due_at - interval '13 hours'")


def _syncs_since(url: str, since: dt.datetime) -> dict[str, int]:
    with open_store(url) as store, store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(SERVICE.c.name, sa.func.count(RUN.c.id))
            .select_from(SERVICE.outerjoin(RUN, sa.and_(
                RUN.c.service_id == SERVICE.c.id, RUN.c.kind == "sync",
                RUN.c.started_at >= since,
            )))
            .group_by(SERVICE.c.name)
        ).all()  # fmt: skip
    return {name: count for name, count in rows}


def bench_workers(db: str, counts: list[int], latency_ms: int, services: int) -> None:
    """N services of 30-300 children, set up once; per round all due, N workers at once."""
    from smtui.sandbox.app import DEFAULT_TOKENS
    from smtui.sandbox.many import service_id

    if "postgresql" not in db:
        print("workers: skipped (needs a PostgreSQL --db)")
        return
    tokens = {"BENCH_CCMS": DEFAULT_TOKENS["ccms"], "BENCH_PORTFOLIO": DEFAULT_TOKENS["portfolio"]}
    os.environ.update(tokens)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    names = [service_id(i) for i in range(services)]
    print(f"workers, {services} services of 30-300 children, {latency_ms} ms latency:", flush=True)
    sandbox_proc, sandbox = _many_sandbox(services)
    try:
        from smtui.sandbox.admin import AdminClient

        with AdminClient(f"{sandbox}/admin", DEFAULT_TOKENS["admin"]) as admin, \
                fresh_database(db) as url:  # fmt: skip
            t0 = time.perf_counter()
            _set_up(url, sandbox, names)
            print(f"  setup of {services} services (no latency): "
                  f"{time.perf_counter() - t0:.1f} s", flush=True)  # fmt: skip
            baseline = None
            for n in counts:
                _make_due(url)
                admin.set_faults(rate=1, kinds=["latency"], latency_ms=latency_ms)
                procs = [
                    subprocess.Popen(
                        [sys.executable, "-c", WORKER, url],
                        stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE,
                        text=True,
                        env=env,
                    )
                    for _ in range(n)
                ]
                time.sleep(8)  # let them import before the clock starts
                since = dt.datetime.now(dt.UTC)
                sandbox_cpu0, busy0 = _proc_cpu(sandbox_proc.pid), _machine_busy()
                t0 = time.perf_counter()
                for p in procs:
                    assert p.stdin is not None
                    p.stdin.write("go\n")
                    p.stdin.flush()
                outs = [p.communicate(timeout=1800)[0] for p in procs]
                wall = time.perf_counter() - t0
                sandbox_cpu = _proc_cpu(sandbox_proc.pid) - sandbox_cpu0
                busy = _machine_busy() - busy0
                admin.clear_faults()
                worker_cpu = sum(float(o.split()[1]) for o in outs if o.split())
                exits = [p.returncode for p in procs]
                syncs = _syncs_since(url, since)
                total = sum(syncs.values())
                rate = total / wall
                baseline = baseline or rate
                doubles = sum(max(0, c - 1) for c in syncs.values())
                missed = sum(c == 0 for c in syncs.values())
                print(
                    f"  workers={n}: {total} syncs in {wall:6.1f} s ({rate:5.2f}/s, "
                    f"x{rate / baseline:4.2f} one worker), double syncs {doubles}, "
                    f"not synced {missed}, exits {sorted(set(exits))}\n"
                    f"    CPU: workers {worker_cpu:6.1f} s ({worker_cpu / wall:4.2f} cores), "
                    f"sandbox {sandbox_cpu:6.1f} s ({sandbox_cpu / wall:4.2f} cores), "
                    f"rest (PostgreSQL, other load) {busy - worker_cpu - sandbox_cpu:6.1f} s; "
                    f"whole machine {busy / wall:4.2f} of {os.cpu_count()} cores busy",
                    flush=True,
                )
    finally:
        sandbox_proc.terminate()
        sandbox_proc.wait()


def bench_setup(latency_ms: int, workers: int = 8) -> None:
    import bench_sync  # beside this script: the sandbox process and the first-sync recipe

    os.environ.update(bench_sync.TOKENS)
    port = bench_sync.free_port()
    sandbox = bench_sync.start_sandbox(port)
    url = f"http://127.0.0.1:{port}"
    try:
        bench_sync.fresh_world(url, 2000, latency_ms, service=bench_sync.BIG)
        with tempfile.TemporaryDirectory() as tmp:
            seconds, result, store = bench_sync.first_sync(
                url, Path(tmp), workers, service=bench_sync.BIG
            )
            store.close()
    finally:
        sandbox.terminate()
        sandbox.wait()
    floor = result.requests * latency_ms / 1000 / workers
    ratio = seconds / floor
    verdict = "ok" if ratio <= 1.3 else "OVER TARGET"
    where = f"{bench_sync.BIG} (2,000 children, {latency_ms} ms, {workers} in flight)"
    print(f"setup vs network floor, {where}:")
    print(f"  {result.requests} requests, {result.outcome.done} ops done in {seconds:.2f} s;"
          f" floor {floor:.2f} s; x{ratio:.2f} the floor (target <= 1.3) {verdict}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="SQLite path or PostgreSQL server URL (default: SQLite)")
    parser.add_argument("--services", type=int, default=10_000, help="For the due query.")
    parser.add_argument(
        "--worker-services", type=int, default=200, help="Services the workers sync."
    )
    parser.add_argument(
        "--quick", action="store_true", help="40 services for the workers, 1,000 for the due query."
    )
    parser.add_argument("--no-due", action="store_true", help="Skip the due query.")
    parser.add_argument("--runs", type=int, default=20, help="Due queries timed (median).")
    parser.add_argument("--workers", default="1,2,4", help="Worker counts, comma-separated.")
    parser.add_argument("--latency-ms", type=int, default=30)
    parser.add_argument("--setup", action="store_true", help="Only the setup vs network floor.")
    args = parser.parse_args()
    if args.setup:
        bench_setup(args.latency_ms)
        return
    if args.quick:
        args.services, args.worker_services = 1_000, 40
    if not args.no_due:
        bench_due(args.db, args.services, args.runs)
    if args.db:
        counts = [int(n) for n in args.workers.split(",")]
        bench_workers(args.db, counts, args.latency_ms, args.worker_services)


if __name__ == "__main__":
    main()
