"""Apply's one journal write per operation (Store.finish_op): the op's outcome and the link it
made commit together, so a kill or a refused write never leaves one without the other."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from smtui.records import ChildMapping, RoomMapping
from smtui.store import OpNotFound, ServiceConfig, Store, open_store


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = open_store(store_url)
    s.add_service(
        ServiceConfig(
            name="sunny", ccms_url="http://127.0.0.1:1/c", portfolio_url="http://127.0.0.1:1/p"
        )
    )
    yield s
    s.close()


def _run(store: Store) -> int:
    run_id = store.start_run(
        "sunny", kind="sync", dry_run=False, as_of=None, fingerprint=None, who="cron"
    )
    store.record_ops(
        run_id,
        "sunny",
        [
            {"op_id": "create_profile:c1", "kind": "create_profile", "label": "Create Ava"},
            {"op_id": "create_room:r1", "kind": "create_room", "label": "Create Joeys"},
        ],
    )
    return run_id


def test_an_op_and_its_link_are_saved_together(store: Store) -> None:
    run_id = _run(store)
    link = ChildMapping("c1", "link", profile_id="p1")
    store.finish_op(run_id, "sunny", "create_profile:c1", "done", mapping=link, who="cron")
    store.finish_op(
        run_id,
        "sunny",
        "create_room:r1",
        "done",
        mapping=RoomMapping("r1", "link", "pr1"),
        who="cron",
    )
    assert {o.op_id: o.state for o in store.run_ops(run_id)} == {
        "create_profile:c1": "done",
        "create_room:r1": "done",
    }
    assert store.child_mappings("sunny")["c1"].profile_id == "p1"
    assert store.room_mappings("sunny")["r1"].portfolio_room_id == "pr1"
    assert [e.reason for e in store.audit_log("sunny", subject_id="c1")] == [f"sync run {run_id}"]
    # what a resumed run asks: nothing of this run is left unfinished
    assert store.unfinished_ops("sunny") == []


def test_a_refused_outcome_writes_no_link(store: Store) -> None:
    run_id = _run(store)
    with pytest.raises(OpNotFound):
        store.finish_op(
            run_id, "sunny", "no-such-op", "done", mapping=ChildMapping("c1", "link", "p1"), who="x"
        )
    assert store.child_mappings("sunny") == {}
    # both ops still planned: a resumed run re-reads, adopts and re-plans them
    assert [o.state for o in store.unfinished_ops("sunny")] == ["planned", "planned"]
