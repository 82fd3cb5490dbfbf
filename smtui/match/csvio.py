"""CSV in and out for ``smtui match SOURCE.csv TARGET.csv``: matching without either system.

Every input problem becomes one ``CsvInputError`` line naming the file, line and column, because
the person fixing it has the file open in a spreadsheet, not a traceback.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TextIO

from smtui.match.evidence import RoomKeys
from smtui.match.names import room_key
from smtui.match.results import Proposal
from smtui.records import Child, Profile

CHILD_COLUMNS = ("id", "first_name", "last_name", "preferred_name", "birth_date")
CHILD_OPTIONAL = frozenset({"preferred_name"})
PROFILE_COLUMNS = ("id", "first_name", "last_name", "birth_date")
PROPOSAL_COLUMNS = ("source_id", "action", "target_id", "score", "reason")
# A CSV carries no change time; a fixed one keeps reading a file a pure, repeatable function.
CSV_UPDATED_AT = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_EMAIL = re.compile(r"[^@\s;,]+@[^@\s;,]+\.[^@\s;,]+")


class CsvInputError(ValueError):
    """A CSV a person supplied is unusable; the message is one line saying where and why."""


def _rows(
    path: str | os.PathLike[str], required: Sequence[str]
) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (line number, row) with stripped values; check header and shape first."""
    name = Path(path).name
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle, strict=True)
            header = reader.fieldnames
            if not header:
                raise CsvInputError(
                    f"{name}: file is empty (expected columns {', '.join(required)})"
                )
            present = {h.strip() for h in header if h}
            missing = [c for c in required if c not in present]
            if missing:
                raise CsvInputError(f"{name} line 1: missing column(s) {', '.join(missing)}")
            reader.fieldnames = [h.strip() if h else "" for h in header]
            seen: dict[str, int] = {}
            for row in reader:
                line = reader.line_num
                if None in row:
                    raise CsvInputError(f"{name} line {line}: more values than columns")
                values = {k: (v or "").strip() for k, v in row.items()}
                if not any(values.values()):
                    continue
                ident = values["id"]
                if not ident:
                    raise CsvInputError(f"{name} line {line}: id is empty")
                if ident in seen:
                    raise CsvInputError(
                        f"{name} line {line}: id '{ident}' already used on line {seen[ident]}"
                    )
                seen[ident] = line
                if not values["first_name"] and not values["last_name"]:
                    raise CsvInputError(f"{name} line {line}: first_name and last_name are empty")
                yield line, values
    except UnicodeDecodeError:
        raise CsvInputError(f"{name}: not UTF-8 text (save the CSV as UTF-8)") from None
    except csv.Error as exc:
        raise CsvInputError(f"{name}: not a readable CSV ({exc})") from None
    except OSError as exc:
        raise CsvInputError(f"{name}: cannot read ({exc.strerror or exc})") from None


def _date(name: str, line: int, text: str) -> dt.date | None:
    if not text:
        return None
    try:
        if not _ISO_DATE.fullmatch(text):
            raise ValueError(text)
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CsvInputError(
            f"{name} line {line}: birth_date '{text}' is not a date (use YYYY-MM-DD)"
        ) from None


def _emails(name: str, line: int, text: str) -> tuple[str, ...]:
    """guardian_emails: addresses separated by ";", lower-cased. A bad one is named by its
    position, not its text: an error line never shows an address."""
    found: list[str] = []
    for n, piece in enumerate((p.strip() for p in text.split(";") if p.strip()), start=1):
        if not _EMAIL.fullmatch(piece):
            raise CsvInputError(
                f"{name} line {line}: guardian_emails value {n} is not an email address "
                "(separate several with ;)"
            )
        found.append(piece.lower())
    return tuple(dict.fromkeys(found))


def _rooms(name: str, line: int, text: str) -> frozenset[str]:
    """rooms: room names separated by ";", compared as educators retype them (``room_key``)."""
    keys: set[str] = set()
    for piece in (p.strip() for p in text.split(";") if p.strip()):
        key = room_key(piece)
        if not key:
            raise CsvInputError(
                f"{name} line {line}: rooms value '{piece}' names no room "
                "(use the room's name; separate several with ;)"
            )
        keys.add(key)
    return frozenset(keys)


def _read_children(path: str | os.PathLike[str]) -> tuple[list[Child], dict[str, frozenset[str]]]:
    name = Path(path).name
    required = [c for c in CHILD_COLUMNS if c not in CHILD_OPTIONAL]
    children: list[Child] = []
    rooms: dict[str, frozenset[str]] = {}
    for line, row in _rows(path, required):
        child = Child(
            id=row["id"],
            first_name=row["first_name"],
            last_name=row["last_name"],
            birth_date=_date(name, line, row["birth_date"]),
            status="active",
            updated_at=CSV_UPDATED_AT,
            preferred_name=row.get("preferred_name") or None,
            guardian_emails=_emails(name, line, row.get("guardian_emails", "")),
        )
        children.append(child)
        if found := _rooms(name, line, row.get("rooms", "")):
            rooms[child.id] = found
    return children, rooms


def _read_profiles(
    path: str | os.PathLike[str],
) -> tuple[list[Profile], dict[str, frozenset[str]]]:
    name = Path(path).name
    profiles: list[Profile] = []
    rooms: dict[str, frozenset[str]] = {}
    for line, row in _rows(path, PROFILE_COLUMNS):
        profile = Profile(
            id=row["id"],
            first_name=row["first_name"],
            last_name=row["last_name"],
            birth_date=_date(name, line, row["birth_date"]),
            archived=False,
            guardian_emails=_emails(name, line, row.get("guardian_emails", "")),
        )
        profiles.append(profile)
        if found := _rooms(name, line, row.get("rooms", "")):
            rooms[profile.id] = found
    return profiles, rooms


def read_children_csv(path: str | os.PathLike[str]) -> list[Child]:
    """Children from id,first_name,last_name,preferred_name,birth_date (preferred_name optional,
    as are guardian_emails and rooms: see ``read_match_csv``)."""
    return _read_children(path)[0]


def read_profiles_csv(path: str | os.PathLike[str]) -> list[Profile]:
    """Active portfolio profiles from id,first_name,last_name,birth_date (and the optional
    guardian_emails and rooms)."""
    return _read_profiles(path)[0]


def read_match_csv(
    source: str | os.PathLike[str], target: str | os.PathLike[str]
) -> tuple[list[Child], list[Profile], RoomKeys]:
    """Children, profiles and their rooms from the two files of ``smtui match``.

    Both may carry ``rooms`` (room names) and ``guardian_emails``, several separated by ";";
    a file without them, or an empty cell, is no information for the matcher.
    """
    children, child_rooms = _read_children(source)
    profiles, profile_rooms = _read_profiles(target)
    return children, profiles, RoomKeys(children=child_rooms, profiles=profile_rooms)


def write_proposals_csv(
    proposals: Iterable[Proposal], file: TextIO | str | os.PathLike[str]
) -> None:
    """Write source_id,action,target_id,score,reason; ``file`` is an open text file or a path."""
    if isinstance(file, str | os.PathLike):
        with open(file, "w", encoding="utf-8", newline="") as handle:
            _write(proposals, handle)
    else:
        _write(proposals, file)


def _write(proposals: Iterable[Proposal], handle: TextIO) -> None:
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(PROPOSAL_COLUMNS)
    for p in proposals:
        writer.writerow([p.child_id, p.action, p.profile_id or "", f"{p.score:.1f}", p.reason])
