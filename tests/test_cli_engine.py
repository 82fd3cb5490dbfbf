"""The other engine commands through the real CLI: match, mapping CSV, log, invitations, faults."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

from smtui import engine
from smtui.connectors import PortfolioClient
from smtui.sandbox.admin import AdminClient
from smtui.sandbox.server import RunningSandbox
from tests.cli_helpers import add_service_args, run_cli

SERVICE = "little-wattle"
TODAY = "2026-11-23"


def _set_up(sandbox: RunningSandbox, db: str) -> None:
    assert (
        run_cli(*add_service_args(sandbox, SERVICE, "Australia/Melbourne"), db=db).returncode == 0
    )
    result = run_cli("setup", SERVICE, "--accept-proposals", "--as-of", TODAY, db=db)
    assert result.returncode == 0, result.stdout + result.stderr


def test_match_two_csv_files(tmp_path: Path) -> None:
    source = tmp_path / "children.csv"
    source.write_text(
        "id,first_name,last_name,preferred_name,birth_date\n"
        "c1,Elizabeth,Ngata,,2022-03-04\n"
        "c2,Oliver,Smith-Jones,Ollie,2023-07-09\n"
        "c3,Mereana,Walker,,2021-01-15\n"
    )
    target = tmp_path / "profiles.csv"
    target.write_text(
        "id,first_name,last_name,birth_date\n"
        "p1,Liz,Ngata,2022-03-04\n"
        "p2,Ollie,Smith,2023-07-09\n"
        "p9,Someone,Else,2020-02-02\n"
    )
    out = tmp_path / "proposals.csv"
    result = run_cli("match", str(source), str(target), "--out", str(out), db=tmp_path / "s.db")
    assert result.returncode == 0, result.stderr
    rows = {r["source_id"]: r for r in csv.DictReader(out.open())}
    assert list(next(csv.reader(out.open()))) == [
        "source_id", "action", "target_id", "score", "reason"
    ]  # fmt: skip
    assert (rows["c1"]["action"], rows["c1"]["target_id"]) == ("link", "p1")
    assert "Liz" in rows["c1"]["reason"]
    assert rows["c2"]["target_id"] == "p2" and rows["c2"]["action"] in ("link", "review")
    assert (rows["c3"]["action"], rows["c3"]["target_id"]) == ("create", "")
    counts = {a: sum(r["action"] == a for r in rows.values()) for a in ("create", "link", "review")}
    said = ", ".join(f"{n} {a}" for a, n in counts.items() if n)
    assert result.stderr == f"{said} -> {out}\n"  # how many of each, on stderr


def test_match_refuses_a_bad_csv_in_one_line(tmp_path: Path) -> None:
    source = tmp_path / "children.csv"
    source.write_text("id,first_name,last_name,preferred_name,birth_date\nc1,Ava,Ng,,2021-13-01\n")
    target = tmp_path / "profiles.csv"
    target.write_text("id,first_name,last_name,birth_date\n")
    out = tmp_path / "proposals.csv"
    result = run_cli("match", str(source), str(target), "--out", str(out), db=tmp_path / "s.db")
    assert result.returncode == 1
    assert "line 2" in result.stderr and "2021-13-01" in result.stderr
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1
    assert not out.exists()  # both files are read before anything is written


def test_mapping_export_edit_import_and_a_bad_row_changes_nothing(
    sandbox_world: RunningSandbox, tmp_path: Path, store_url: str
) -> None:
    db = store_url
    _set_up(sandbox_world, db)
    exported = tmp_path / "map.csv"
    assert run_cli("mapping", "export", SERVICE, str(exported), db=db).returncode == 0
    rows = list(csv.DictReader(exported.open()))
    review = next(r for r in rows if r["kind"] == "child" and r["action"] == "review")
    review["action"] = "ignore"
    edited = tmp_path / "edited.csv"
    with edited.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    bad = tmp_path / "bad.csv"
    bad.write_text(
        edited.read_text()
        + "child,ch-nobody,,link,prf_x,manual,0,\n"
        + f"child,{review['ccms_id']},,adopt,,manual,0,\n"
    )
    refused = run_cli("mapping", "import", SERVICE, str(bad), db=db)
    first, second = len(rows) + 2, len(rows) + 3
    assert refused.returncode == 1
    assert f"line {first}: no child ch-nobody" in refused.stderr
    assert f"also bad: line {second}" in refused.stderr, "every bad row is named at once"
    assert "nothing was imported" in refused.stderr and refused.stderr.count("\n") == 1
    again = tmp_path / "again.csv"
    run_cli("mapping", "export", SERVICE, str(again), db=db)
    assert again.read_text() == exported.read_text(), "a refused import changed something"

    imported = run_cli("mapping", "import", SERVICE, str(edited), db=db)
    assert imported.returncode == 0 and "1 mappings changed" in imported.stdout
    run_cli("mapping", "export", SERVICE, str(again), db=db)
    after = {r["ccms_id"]: r for r in csv.DictReader(again.open())}
    assert after[review["ccms_id"]]["action"] == "ignore"
    assert after[review["ccms_id"]]["origin"] == "manual"


def test_log_shows_runs_and_their_operations(sandbox_world: RunningSandbox, store_url: str) -> None:
    db = store_url
    _set_up(sandbox_world, db)
    runs = run_cli("log", SERVICE, db=db)
    assert runs.returncode == 0
    assert "setup" in runs.stdout and "ok" in runs.stdout
    run_id = runs.stdout.splitlines()[1].split()[0]
    ops = run_cli("log", SERVICE, "--run", run_id, db=db)
    assert ops.returncode == 0
    assert "done" in ops.stdout and "link_profile" in ops.stdout


def test_invitations_lists_integrated_children_without_one_and_sends_nothing(
    sandbox_world: RunningSandbox, sandbox_admin: AdminClient, tmp_path: Path, store_url: str
) -> None:
    db = store_url
    _set_up(sandbox_world, db)
    with PortfolioClient(
        sandbox_world.portfolio_url(SERVICE), sandbox_world.portfolio_token
    ) as client:
        before = {p.id: p.invitation_status for p in client.profiles().items}
        uninvited = {
            p.id for p in client.profiles().items
            if p.external_ref and not p.archived and p.invitation_status == "none"
        }  # fmt: skip
    result = run_cli("invitations", SERVICE, db=db)
    assert result.returncode == 0
    assert f"{len(uninvited)} integrated children have no invitation yet" in result.stdout
    lines = result.stdout.splitlines()
    listed = {line.split()[0] for line in lines[1:-1]}
    assert listed == uninvited
    assert lines[-1].startswith("(from the read of ")  # says how old the list is
    assert lines[-1].endswith(f"`smtui refresh {SERVICE}` reads both systems again)")
    with PortfolioClient(
        sandbox_world.portfolio_url(SERVICE), sandbox_world.portfolio_token
    ) as client:
        assert {p.id: p.invitation_status for p in client.profiles().items} == before


def test_an_incomplete_read_archives_nothing(
    sandbox_world: RunningSandbox, sandbox_admin: AdminClient, tmp_path: Path, store_url: str
) -> None:
    db = store_url
    _set_up(sandbox_world, db)
    exported = tmp_path / "map.csv"
    run_cli("mapping", "export", SERVICE, str(exported), db=db)
    linked = [r["ccms_id"] for r in csv.DictReader(exported.open())
              if r["kind"] == "child" and r["action"] == "link"]  # fmt: skip
    for child_id in linked[:2]:
        sandbox_admin.leave(SERVICE, child_id, last_day=dt.date(2026, 11, 20))

    def planned(*faults: str, code: int = 2) -> dict:
        if faults:
            sandbox_admin.set_faults(rate=1, kinds=list(faults), count=1, scope="list",
                                     system="ccms")  # fmt: skip
        try:
            result = run_cli("sync", SERVICE, "--dry-run", "--json", "--as-of", TODAY, db=db)
        finally:
            sandbox_admin.clear_faults()
        assert result.returncode == code, result.stdout + result.stderr
        return json.loads(result.stdout)[0]

    truncated = planned("truncate", code=1)  # cron must hear of it
    assert not [op for op in truncated["operations"] if op["kind"].startswith("archive")]
    assert any(w["kind"] == "read_incomplete" for w in truncated["warnings"])
    assert truncated["result"] == "incomplete read" and truncated["problems"]
    complete = planned()
    archives = [op for op in complete["operations"] if op["kind"] == "archive_profile"]
    assert len(archives) == 2
    sandbox_admin.set_faults(rate=1, kinds=["truncate"], count=1, scope="list", system="ccms")
    try:
        synced = run_cli("sync", SERVICE, "--as-of", TODAY, db=db)
    finally:
        sandbox_admin.clear_faults()
    assert synced.returncode == 1, "cron must hear about a read that keeps failing"
    assert "incomplete" in synced.stdout
    # the half read did not replace the complete one the other commands rely on
    explained = run_cli("explain", SERVICE, linked[-1], db=db)
    assert explained.returncode == 0, explained.stderr
    sandbox_admin.set_faults(rate=1, kinds=["truncate"], count=1, scope="list", system="ccms")
    try:
        refreshed = run_cli("refresh", SERVICE, db=db)
    finally:
        sandbox_admin.clear_faults()
    assert refreshed.returncode == 1
    assert "kept the last complete CCMS read" in refreshed.stdout
    assert run_cli("explain", SERVICE, linked[-1], db=db).returncode == 0


def test_every_sync_reports_the_children_still_waiting_for_review(
    sandbox_world: RunningSandbox, tmp_path: Path, store_url: str
) -> None:
    db = store_url
    _set_up(sandbox_world, db)  # --accept-proposals leaves the uncertain ones undecided
    synced = run_cli("sync", SERVICE, "--as-of", TODAY, db=db)
    assert synced.returncode == 0, synced.stdout + synced.stderr
    assert "needs review: " in synced.stdout and "not added until a person decides" in synced.stdout

    as_json = run_cli("sync", SERVICE, "--dry-run", "--json", "--as-of", TODAY, db=db)
    waiting = json.loads(as_json.stdout)[0]["needs_review"]
    assert waiting and all(child_id in synced.stdout for child_id in waiting[:10])
    explained = run_cli("explain", SERVICE, waiting[0], db=db)
    assert "mapping: review" in explained.stdout
    assert f"`smtui refresh {SERVICE}` reads both systems again" in explained.stdout


def test_as_of_out_of_range_is_one_line(store_url: str) -> None:
    result = run_cli("sync", "x", "--dry-run", "--as-of", "9999-12-31", db=store_url)
    assert result.returncode == 1
    assert "out of range" in result.stderr and "Traceback" not in result.stderr


def _linked(db: str, tmp_path: Path) -> list[dict[str, str]]:
    exported = tmp_path / "linked.csv"
    assert run_cli("mapping", "export", SERVICE, str(exported), db=db).returncode == 0
    return [r for r in csv.DictReader(exported.open())
            if r["kind"] == "child" and r["action"] == "link"]  # fmt: skip


def test_mapping_set_never_links_one_profile_to_two_children(
    sandbox_world: RunningSandbox, tmp_path: Path, store_url: str
) -> None:
    """Linking to another child's profile would show one family another child's portfolio."""
    db = store_url
    _set_up(sandbox_world, db)
    a, b = _linked(db, tmp_path)[:2]
    taken = run_cli("mapping", "set", SERVICE, a["ccms_id"], f"link:{b['target_id']}", "--force",
                    db=db)  # fmt: skip
    assert taken.returncode == 1
    assert f"profile {b['target_id']} is already linked to" in taken.stderr
    assert f"({b['ccms_id']}): link that child elsewhere first; nothing changed" in taken.stderr
    assert _linked(db, tmp_path)[:2] == [a, b]

    # once B is "don't add", B's profile still carries B's CCMS id: only --force links it
    assert run_cli("mapping", "set", SERVICE, b["ccms_id"], "ignore", db=db).returncode == 0
    refused = run_cli("mapping", "set", SERVICE, a["ccms_id"], f"link:{b['target_id']}", db=db)
    assert refused.returncode == 1
    assert f"{b['target_id']} is the profile of" in refused.stderr
    assert "add --force if it really is this child; nothing changed" in refused.stderr
    forced = run_cli("mapping", "set", SERVICE, a["ccms_id"], f"link:{b['target_id']}", "--force",
                     db=db)  # fmt: skip
    assert forced.returncode == 0, forced.stderr
    now = {r["ccms_id"]: r["target_id"] for r in _linked(db, tmp_path)}
    assert now[a["ccms_id"]] == b["target_id"]


def test_mapping_import_refuses_a_child_twice_or_a_profile_shared(
    sandbox_world: RunningSandbox, tmp_path: Path, store_url: str
) -> None:
    db = store_url
    _set_up(sandbox_world, db)
    exported = tmp_path / "map.csv"
    run_cli("mapping", "export", SERVICE, str(exported), db=db)
    header = exported.read_text().splitlines()[0]
    a, b = _linked(db, tmp_path)[:2]

    twice = tmp_path / "twice.csv"
    twice.write_text(
        f"{header}\nchild,{a['ccms_id']},,ignore,,,,\nchild,{a['ccms_id']},,create,,,,\n"
    )
    result = run_cli("mapping", "import", SERVICE, str(twice), db=db)
    assert result.returncode == 1
    assert f"line 3: child {a['ccms_id']} is also on line 2" in result.stderr
    assert "nothing was imported" in result.stderr

    shared = tmp_path / "shared.csv"
    shared.write_text(f"{header}\nchild,{a['ccms_id']},,link,{b['target_id']},,,\n")
    result = run_cli("mapping", "import", SERVICE, str(shared), db=db)
    assert result.returncode == 1
    assert (
        f"profile {b['target_id']} would be linked to 2 children "
        f"({', '.join(sorted((a['ccms_id'], b['ccms_id'])))}); nothing was imported"
    ) in result.stderr
    again = tmp_path / "again.csv"
    run_cli("mapping", "export", SERVICE, str(again), db=db)
    assert again.read_text() == exported.read_text(), "a refused import changed something"

    # two children already share a profile (set in the app): a file about a third child is
    # not refused for what it did not do
    store = engine.open_store(str(db))
    try:
        engine.set_children(store, SERVICE, [a["ccms_id"]], "link", profile_id=b["target_id"],
                            who="tester")  # fmt: skip
    finally:
        store.close()
    third = _linked(db, tmp_path)[2]
    unrelated = tmp_path / "unrelated.csv"
    unrelated.write_text(f"{header}\nchild,{third['ccms_id']},,ignore,,,,\n")
    result = run_cli("mapping", "import", SERVICE, str(unrelated), db=db)
    assert result.returncode == 0, result.stderr
