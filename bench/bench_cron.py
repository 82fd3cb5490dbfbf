"""The cron path: CPU time and peak memory of `smtui sync --all` when nothing is due.

Run: python bench/bench_cron.py [--runs 7] [--services 3]

Cron starts smtui every hour and 11 of every 12 runs find nothing due, so what those runs cost
is mostly the price of starting: imports and opening the store. Each command runs as a child
process; its CPU (user + system) and peak RSS come from the kernel (``os.wait4``), so nothing
of this process is counted. Baselines in the same run, on the same machine: ``python -c pass``
(the interpreter), ``python -m smtui --help`` (click and the CLI's own modules) and importing
the store's and the settings' modules (SQLAlchemy, SQLModel, pydantic-settings: what the cron path
cannot skip today, since it opens the store). The numbers move with machine load; the ratios much
less. The children write their bytecode (to a temporary cache, not the tree) even when
``PYTHONDONTWRITEBYTECODE`` is set here, as an installed smtui has it: otherwise every run would
pay for compiling smtui's own modules.

The store holds ``--services`` services, set up and synced a minute ago, so none is due.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_CPU_S = 0.25
HEAVY = ("numpy", "rapidfuzz", "alembic", "textual", "fastapi", "uvicorn", "faker", "httpx")


def make_store(db: Path, services: int) -> None:
    """Services set up and synced just now: `sync --all` finds nothing due. Run in a child
    (``--make-store``), so this process stays small: a child's peak RSS counts the memory it
    was forked with."""
    from smtui.store import ServiceConfig, open_store

    store = open_store(str(db))
    try:
        for i in range(services):
            name = f"svc-{i}"
            store.add_service(
                ServiceConfig(
                    name=name,
                    ccms_url=f"http://127.0.0.1:9/ccms/{name}",
                    portfolio_url=f"http://127.0.0.1:9/portfolio/{name}",
                    ccms_token_env="SMTUI_CCMS_TOKEN",
                    portfolio_token_env="SMTUI_PORTFOLIO_TOKEN",
                )
            )
            store.update_service(name, set_up_at=dt.datetime.now(dt.UTC), state="active")
            run = store.start_run(
                name, kind="sync", dry_run=False, as_of=None, fingerprint=None, who="bench"
            )
            store.finish_run(run, "ok", {})
    finally:
        store.close()


def measure(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """CPU seconds (user + system) and peak RSS in MB of one child process."""
    proc = subprocess.Popen(
        argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT
    )
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        assert proc.stderr is not None
        raise SystemExit(f"{' '.join(argv)} exited {proc.returncode}: {proc.stderr.read()!r}")
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def loaded_modules(db: Path, env: dict[str, str]) -> list[str]:
    """Which heavy packages the cron path imports (it should be none of them)."""
    code = (
        "import sys\nfrom smtui.cli import main\n"
        f"try:\n    main(['--db', {str(db)!r}, 'sync', '--all'])\nexcept SystemExit:\n    pass\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=ROOT
    )
    if result.returncode != 0:
        raise SystemExit(f"the import probe failed: {result.stderr}")
    last = (result.stderr.splitlines() or [""])[-1]
    return [m for m in last.split(",") if m]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="Runs of each command (median).")
    parser.add_argument("--services", type=int, default=3, help="Services in the store.")
    parser.add_argument("--make-store", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.make_store:
        make_store(args.make_store, args.services)
        return
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("SMTUI_") and k != "PYTHONDONTWRITEBYTECODE"
    }
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(ROOT), env.get("PYTHONPATH"))))
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "cron.db"
        env["SMTUI_CONFIG"] = str(Path(tmp) / "config.toml")  # none: the defaults
        env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        subprocess.run(
            [sys.executable, __file__, "--make-store", str(db), "--services", str(args.services)],
            env=env,
            check=True,
        )
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "smtui --help": [sys.executable, "-m", "smtui", "--help"],
            "import store + settings modules": [
                sys.executable, "-c", "import smtui.config, smtui.store.store",
            ],
            "smtui sync --all (nothing due)": [
                sys.executable, "-m", "smtui", "--db", str(db), "sync", "--all",
            ],
        }  # fmt: skip
        results: dict[str, tuple[float, float]] = {}
        for label, argv in commands.items():
            measure(argv, env)  # warm the page cache and the bytecode
            runs = [measure(argv, env) for _ in range(args.runs)]
            results[label] = (
                statistics.median(cpu for cpu, _ in runs),
                statistics.median(rss for _, rss in runs),
            )
        heavy = loaded_modules(db, env)
    base_cpu, base_rss = results["python -c pass"]
    print(f"{'command':34} {'CPU s':>7} {'x pass':>7} {'RSS MB':>7} {'x pass':>7}")
    for label, (cpu, rss) in results.items():
        print(f"{label:34} {cpu:7.3f} {cpu / base_cpu:7.1f} {rss:7.1f} {rss / base_rss:7.1f}")
    cron_cpu = results["smtui sync --all (nothing due)"][0]
    help_cpu = results["smtui --help"][0]
    print(f"cron path over `smtui --help`: {cron_cpu / help_cpu:.1f}x CPU")
    print(f"heavy packages imported by the cron path: {', '.join(heavy) or 'none'}")
    verdict = "meets" if cron_cpu <= TARGET_CPU_S else "misses"
    print(f"{verdict} the target of <= {TARGET_CPU_S} s CPU ({cron_cpu:.3f} s)")


if __name__ == "__main__":
    main()
