"""Forgetting a service's children once it is turned off (Australian Privacy Principle 11).

A service turned off and purged no longer needs its children's names or birth dates, so they are
destroyed: the cached reads are deleted, and what history keeps (mappings, their audit trail,
the run journal, run summaries) is rewritten to carry ids, kinds, states and counts only. The
links themselves stay, so turning the service on again neither duplicates a profile nor asks a
person to decide again. docs/privacy.md says what is kept and why.

Names are removed in two ways. Where smtui wrote the text itself (operation labels, payloads,
the synced values) it is rebuilt or dropped by its structure. Free text that may quote a name
(matcher and audit reasons, anything else in the JSON kept) is cleaned of every name and birth
date the store knew for the service, collected before the cache is deleted; matcher reasons also
lose the names their templates put in, in case the cache had already gone. Operation errors and
run messages, which quote labels and vendor messages, are replaced outright (an error keeps its
HTTP status).

Everything here works inside the caller's write transaction: it all happens or none of it does.
The bytes the old rows leave in the file are the SQLite module's business (``sqlite.compact``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from smtui.store import snapshots
from smtui.store.tables import AUDIT, CHILD, CHILD_MAP, OP, PROFILE, RUN, SERVICE

#: Keys of a journal payload or an audited mapping that hold a child's details.
PERSONAL_KEYS = frozenset(
    {
        "first_name",
        "last_name",
        "preferred_name",
        "birth_date",
        "synced_first_name",
        "synced_last_name",
        "synced_birth_date",
    }
)
#: Keys whose values are ids or fixed words (kept as they are, never searched for names).
ID_KEYS = frozenset(
    {
        "action",
        "child_id",
        "external_ref",
        "origin",
        "portfolio_room_id",
        "profile_id",
        "release_profile_id",
        "release_room_id",
        "room_id",
        "room_ids",
    }
)
#: What stands in for text that was removed.
REMOVED = "removed when the children's personal data was purged"
NAME, DATE = "[name]", "[date]"

_WORD = re.compile(r"[^\W\d_][\w'’.-]*")
_PARTS = re.compile(r"['’.-]")
_ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
_DMY_DATE = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")
_HTTP_STATUS = re.compile(r"\bHTTP (\d{3})\b")
#: The matcher's reasons that quote a name (smtui/match), with what is left of them.
_REASON_NAMES = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"\bnickname [^,;()]+?->[^,;()]+", "nickname"),
        (r"\bpreferred name [^,;()]+", "preferred name"),
        (r"\bfirst name typo [^,;()]+", "first name typo"),
        (r"\bsurname typo [^,;()]+", "surname typo"),
        (r"\bsurname shortened to [^,;()]+", "surname shortened"),
        (
            r"\b(first name spelled differently|first name differs|surname differs) \([^()]*\)",
            r"\1",
        ),
        (r"\btwin of [^:;,]+:", "twin of another child:"),
    )
)


def is_turned_off(conn: Connection, service_id: int) -> bool:
    """Whether the service is off: only then is its history de-identified (a live service
    needs the synced values to tell a CCMS change from an educator's edit)."""
    enabled = conn.execute(select(SERVICE.c.enabled).where(SERVICE.c.id == service_id)).scalar()
    return enabled is not None and not enabled


def forget_children(conn: Connection, service_id: int) -> None:
    """Delete the service's cached reads and de-identify everything else kept about it."""
    redact = Redactor(*known_details(conn, service_id))
    snapshots.purge(conn, service_id)
    _mappings(conn, service_id, redact)
    _audit(conn, service_id, redact)
    _journal(conn, service_id, redact)
    _runs(conn, service_id)


def known_details(conn: Connection, service_id: int) -> tuple[set[str], set[str]]:
    """Every name and birth date (ISO) the store holds for the service, wherever it is kept."""
    names: set[str] = set()
    dates: set[str] = set()

    def add(name: Any = None, born: Any = None) -> None:
        if isinstance(name, str) and name.strip():
            names.add(name.strip())
        if isinstance(born, dt.date):
            dates.add(born.isoformat())
        elif isinstance(born, str) and born.strip():
            dates.add(born.strip()[:10])

    child = CHILD.c
    query = select(child.first_name, child.last_name, child.preferred_name, child.birth_date)
    for first, last, preferred, born in conn.execute(query.where(child.service_id == service_id)):
        add(first, born)
        add(last)
        add(preferred)
    profile = PROFILE.c
    query = select(profile.first_name, profile.last_name, profile.birth_date)
    for first, last, born in conn.execute(query.where(profile.service_id == service_id)):
        add(first, born)
        add(last)
    m = CHILD_MAP.c
    query = select(m.synced_first_name, m.synced_last_name, m.synced_birth_date)
    for first, last, born in conn.execute(query.where(m.service_id == service_id)):
        add(first, born)
        add(last)
    texts = [
        *conn.scalars(select(OP.c.payload).where(OP.c.service_id == service_id)),
        *conn.scalars(select(AUDIT.c.before).where(AUDIT.c.service_id == service_id)),
        *conn.scalars(select(AUDIT.c.after).where(AUDIT.c.service_id == service_id)),
    ]
    for details in map(_load_object, texts):
        for key in ("first_name", "last_name", "preferred_name"):
            add(details.get(key), None)
            add(details.get(f"synced_{key}"), None)
        add(None, details.get("birth_date"))
        add(None, details.get("synced_birth_date"))
    return names, dates


class Redactor:
    """Replaces known names (each word of them, in any case) and birth dates in free text.

    A set lookup per word rather than one pattern of every name: a large service knows 200,000
    name words, and the text to clean is a few hundred thousand short strings.
    """

    def __init__(self, names: Iterable[str], dates: Iterable[str]) -> None:
        words: set[str] = set()
        for name in names:
            for word in _WORD.findall(name):
                words.update(w for w in (word, *_PARTS.split(word)) if len(w) >= 2)
        self.words = {w.casefold() for w in words}
        self.dates = set(dates)
        self._done: dict[str, str] = {}  # reasons and messages repeat across thousands of rows

    def __call__(self, text: str) -> str:
        done = self._done.get(text)
        if done is None:
            done = _WORD.sub(self._word, text)
            done = _ISO_DATE.sub(lambda m: DATE if m.group() in self.dates else m.group(), done)
            done = self._done[text] = _DMY_DATE.sub(self._dmy, done)
        return done

    def _word(self, match: re.Match[str]) -> str:
        word = match.group()
        parts = (word, word.rstrip("."), *_PARTS.split(word))
        return NAME if any(p.casefold() in self.words for p in parts if p) else word

    def _dmy(self, match: re.Match[str]) -> str:
        day, month, year = match.groups()
        return DATE if f"{year}-{int(month):02d}-{int(day):02d}" in self.dates else match.group()


def clean_reason(reason: str, redact: Redactor) -> str:
    """A matcher's or a person's reason without the names it quotes."""
    for pattern, replacement in _REASON_NAMES:
        reason = pattern.sub(replacement, reason)
    return redact(reason)


def neutral_label(kind: str, op_id: str) -> str:
    """An operation's label from its kind and the ids in its op id ("create_profile ch-10002").

    Op ids are ``kind:id[:id...]:digest`` (smtui.plan.make_operation).
    """
    parts = op_id.split(":")
    ids = parts[1:-1] if len(parts) > 2 else parts[1:]
    return " ".join([kind, *ids])


def neutral_op_id(op_id: str, row_id: int) -> str:
    """The op id with its digest replaced by one of ids only.

    The planner's digest hashes the fields too (names, birth date): with the ids kept, a guess
    at a child's name and birth date could be confirmed against it.
    """
    head, _, _digest = op_id.rpartition(":")
    digest = hashlib.sha256(f"{head}#{row_id}".encode()).hexdigest()[:10]
    return f"{head}:{digest}" if head else op_id


def neutral_error(error: str) -> str:
    """An operation's error without its text (a vendor's message may quote the child), keeping
    the HTTP status, which says what kind of failure it was."""
    status = _HTTP_STATUS.search(error)
    return f"{REMOVED} (HTTP {status.group(1)})" if status else REMOVED


def _mappings(conn: Connection, service_id: int, redact: Redactor) -> None:
    c = CHILD_MAP.c
    rows = conn.execute(select(c.child_id, c.reason).where(c.service_id == service_id)).all()
    conn.execute(
        update(CHILD_MAP)
        .where(c.service_id == service_id)
        .values(synced_first_name=None, synced_last_name=None, synced_birth_date=None)
    )
    changed = [
        {"k": child_id, "reason": cleaned}
        for child_id, reason in rows
        if (cleaned := clean_reason(reason or "", redact)) != (reason or "")
    ]
    if changed:
        conn.execute(
            update(CHILD_MAP)
            .where(c.service_id == service_id, c.child_id == bindparam("k"))
            .values(reason=bindparam("reason")),
            changed,
        )


def _audit(conn: Connection, service_id: int, redact: Redactor) -> None:
    a = AUDIT.c
    query = select(a.id, a.before, a.after, a.reason).where(a.service_id == service_id)
    changed = []
    for row_id, before, after, reason in conn.execute(query):
        values = {
            "before": _clean_json(before, redact),
            "after": _clean_json(after, redact),
            "reason": clean_reason(reason or "", redact),
        }
        if values != {"before": before, "after": after, "reason": reason or ""}:
            changed.append({"k": row_id, **values})
    if changed:
        conn.execute(
            update(AUDIT)
            .where(a.id == bindparam("k"))
            .values(
                before=bindparam("before"), after=bindparam("after"), reason=bindparam("reason")
            ),
            changed,
        )


def _journal(conn: Connection, service_id: int, redact: Redactor) -> None:
    o = OP.c
    query = select(o.id, o.op_id, o.kind, o.payload, o.error, o.result).where(
        o.service_id == service_id
    )
    changed = []
    for row_id, op_id, kind, payload, error, result in conn.execute(query):
        details = _load_object(payload)
        personal = PERSONAL_KEYS & details.keys()
        kept = {k: v for k, v in details.items() if k not in personal}
        changed.append(
            {
                "k": row_id,
                "op_id": neutral_op_id(op_id, row_id) if personal else op_id,
                "label": neutral_label(kind, op_id),
                "payload": _dumps(_clean_value(kept, redact)),
                "error": None if error is None else neutral_error(error),
                "result": _clean_json(result, redact),
            }
        )
    if changed:
        conn.execute(
            update(OP)
            .where(o.id == bindparam("k"))
            .values(
                op_id=bindparam("op_id"),
                label=bindparam("label"),
                payload=bindparam("payload"),
                error=bindparam("error"),
                result=bindparam("result"),
            ),
            changed,
        )


def _runs(conn: Connection, service_id: int) -> None:
    """Run messages quote labels and vendor errors: replace them, keeping the counts (the
    summary's own, and how many of the run's operations failed or are unknown)."""
    r, o = RUN.c, OP.c
    states: dict[int, dict[str, int]] = {}
    for run_id, state in conn.execute(
        select(o.run_id, o.state).where(o.service_id == service_id, o.state != "done")
    ):
        states.setdefault(run_id, {}).setdefault(state, 0)
        states[run_id][state] += 1
    changed = []
    for run_id, summary in conn.execute(select(r.id, r.summary).where(r.service_id == service_id)):
        data = _load_object(summary)
        if not data.get("message"):
            continue
        counts = states.get(run_id, {})
        tally = ", ".join(f"{counts[s]} {s}" for s in ("failed", "unknown") if counts.get(s))
        data["message"] = (
            f"{tally} operation(s); details {REMOVED}" if tally else f"message {REMOVED}"
        )
        changed.append({"k": run_id, "summary": _dumps(data)})
    if changed:
        conn.execute(
            update(RUN).where(r.id == bindparam("k")).values(summary=bindparam("summary")),
            changed,
        )


def _load_object(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _clean_json(text: str | None, redact: Redactor) -> str | None:
    """A JSON text without personal keys, its other strings redacted; None stays None."""
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return redact(text)
    return _dumps(_clean_value(value, redact))


def _clean_value(value: Any, redact: Redactor) -> Any:
    if isinstance(value, dict):
        return {k: _clean_item(k, v, redact) for k, v in value.items() if k not in PERSONAL_KEYS}
    if isinstance(value, list):
        return [_clean_value(v, redact) for v in value]
    if isinstance(value, str):
        return redact(value)
    return value


def _clean_item(key: str, value: Any, redact: Redactor) -> Any:
    if key in ID_KEYS:
        return value
    if key == "reason" and isinstance(value, str):
        return clean_reason(value, redact)
    return _clean_value(value, redact)


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True)
