"""`smtui match` with the optional rooms and guardian_emails columns, through the real CLI."""

from __future__ import annotations

import csv
from pathlib import Path

from cli_helpers import run_cli

SOURCE = """id,first_name,last_name,preferred_name,birth_date,rooms,guardian_emails
c1,Mia,Lee,,2021-03-04,Possums Room,Sam.Lee@example.com; kim@example.com
c2,Noah,Lee,,2023-05-06,Possums,sam.lee@example.com
c3,Ava,Moss,,2022-01-02,,
"""
TARGET = """id,first_name,last_name,birth_date,rooms,guardian_emails
p1,Mia,Lee,,possums;Koalas,sam.lee@example.com
p3,Ava,Moss,,,
"""


def match(tmp_path: Path, source: str, target: str):
    (tmp_path / "children.csv").write_text(source)
    (tmp_path / "profiles.csv").write_text(target)
    out = tmp_path / "proposals.csv"
    args = ("match", str(tmp_path / "children.csv"), str(tmp_path / "profiles.csv"))
    result = run_cli(*args, "--out", str(out), db=tmp_path / "s.db")
    rows = {r["source_id"]: r for r in csv.DictReader(out.open())} if out.exists() else {}
    return result, rows


def test_a_shared_guardian_email_links_an_undated_profile_and_the_sibling_is_not_taken(tmp_path):
    result, rows = match(tmp_path, SOURCE, TARGET)
    assert result.returncode == 0, result.stderr
    assert (rows["c1"]["action"], rows["c1"]["target_id"]) == ("link", "p1")
    assert rows["c1"]["reason"] == (
        "same name, shares a guardian email, same room, no birth date on profile"
    )
    assert rows["c2"]["action"] == "create"  # Noah shares the family, not the name
    assert rows["c3"]["action"] == "review"  # no domain evidence: as without the columns
    assert "@" not in (tmp_path / "proposals.csv").read_text()


def test_a_bad_email_is_one_line_naming_where_without_printing_the_address(tmp_path):
    bad = SOURCE.replace("kim@example.com", "kim at example")
    result, _ = match(tmp_path, bad, TARGET)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "smtui: children.csv line 2: guardian_emails value 2 is not an email address "
        "(separate several with ;)"
    )
    assert not (tmp_path / "proposals.csv").exists()


def test_a_room_value_that_names_no_room_is_one_line(tmp_path):
    result, _ = match(tmp_path, SOURCE, TARGET.replace("possums;Koalas", "possums;--"))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1
    assert "profiles.csv line 2: rooms value '--' names no room" in result.stderr
