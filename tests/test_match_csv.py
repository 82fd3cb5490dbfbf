"""CSV in and out for `smtui match`: a round trip, and one clear line for each kind of bad input."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest

from smtui.match import (
    CsvInputError,
    match_children,
    read_children_csv,
    read_profiles_csv,
    write_proposals_csv,
)


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_text(text, encoding=encoding)
    return path


SOURCE = """id,first_name,last_name,preferred_name,birth_date
c1,Elizabeth,Brown,,2021-03-04
c2,Zoë,"Smith-Jones, Jr",Zo,2020-01-02
c3,Noah,Lee,,
c4,Hudson,Brooks,,2022-01-01
"""
TARGET = """id,first_name,last_name,birth_date
p1,Liz,Brown,2021-03-04
p2,Zoe,Smith,2020-01-02
p3,Noah,Lee,2021-05-05
"""


def test_round_trip_through_match(tmp_path):
    children = read_children_csv(write(tmp_path / "source.csv", SOURCE))
    profiles = read_profiles_csv(write(tmp_path / "target.csv", TARGET))
    assert [c.id for c in children] == ["c1", "c2", "c3", "c4"]
    assert children[1].last_name == "Smith-Jones, Jr"
    assert children[1].preferred_name == "Zo"
    assert children[0].preferred_name is None
    assert children[2].birth_date is None
    assert {c.status for c in children} == {"active"}
    assert profiles[2].birth_date == dt.date(2021, 5, 5)

    proposals = match_children(children, profiles)
    out = io.StringIO()
    write_proposals_csv(proposals, out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert list(rows[0]) == ["source_id", "action", "target_id", "score", "reason"]
    assert [(r["source_id"], r["action"], r["target_id"]) for r in rows] == [
        ("c1", "link", "p1"),
        ("c2", "link", "p2"),
        ("c3", "review", "p3"),
        ("c4", "create", ""),
    ]
    assert [r["score"] for r in rows] == [f"{p.score:.1f}" for p in proposals]
    assert [r["reason"] for r in rows] == [p.reason for p in proposals]

    path = tmp_path / "out.csv"
    write_proposals_csv(proposals, path)
    assert path.read_text(encoding="utf-8") == out.getvalue()


def test_preferred_name_column_is_optional_and_excel_bom_is_fine(tmp_path):
    text = "\ufeffid,first_name,last_name,birth_date\nc1,Ava,Ngata,2020-02-02\n"
    (kid,) = read_children_csv(write(tmp_path / "s.csv", text))
    assert (kid.id, kid.preferred_name, kid.birth_date) == ("c1", None, dt.date(2020, 2, 2))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "id,first_name,last_name,preferred_name,birth_date\n"
            "c1,Ava,Lee,,2021-01-01\nc2,Mia,Lee,,2021-01-02\nc3,Leo,Lee,,2021-13-01\n",
            "source.csv line 4: birth_date '2021-13-01' is not a date (use YYYY-MM-DD)",
        ),
        (
            "id,first_name,last_name,birth_date\nc1,Ava,Lee,04/03/2021\n",
            "source.csv line 2: birth_date '04/03/2021' is not a date (use YYYY-MM-DD)",
        ),
        (
            "id,first_name,surname\nc1,Ava,Lee\n",
            "source.csv line 1: missing column(s) last_name, birth_date",
        ),
        ("", "source.csv: file is empty (expected columns id, first_name, last_name, birth_date)"),
        (
            "id,first_name,last_name,birth_date\nc1,Ava,Lee,\nc1,Mia,Lee,\n",
            "source.csv line 3: id 'c1' already used on line 2",
        ),
        (
            "id,first_name,last_name,birth_date\n,Ava,Lee,\n",
            "source.csv line 2: id is empty",
        ),
        (
            "id,first_name,last_name,birth_date\nc1,,,\n",
            "source.csv line 2: first_name and last_name are empty",
        ),
        (
            "id,first_name,last_name,birth_date\nc1,Ava,Lee,,extra\n",
            "source.csv line 2: more values than columns",
        ),
    ],
)
def test_bad_children_csv_is_one_clear_line(tmp_path, text, message):
    with pytest.raises(CsvInputError) as caught:
        read_children_csv(write(tmp_path / "source.csv", text))
    assert str(caught.value) == message


def test_bad_profiles_csv_names_file_and_column(tmp_path):
    with pytest.raises(
        CsvInputError, match=r"^target\.csv line 1: missing column\(s\) birth_date$"
    ):
        read_profiles_csv(write(tmp_path / "target.csv", "id,first_name,last_name\n"))
    with pytest.raises(
        CsvInputError, match=r"^target\.csv line 2: birth_date 'soon' is not a date"
    ):
        read_profiles_csv(
            write(tmp_path / "target.csv", "id,first_name,last_name,birth_date\np1,A,B,soon\n")
        )


def test_unreadable_files(tmp_path):
    with pytest.raises(CsvInputError, match=r"^missing\.csv: cannot read \(No such file"):
        read_profiles_csv(tmp_path / "missing.csv")
    latin1 = write(
        tmp_path / "old.csv", "id,first_name,last_name,birth_date\nc1,Zoë,Lee,\n", "latin-1"
    )
    with pytest.raises(CsvInputError, match=r"^old\.csv: not UTF-8 text"):
        read_children_csv(latin1)
