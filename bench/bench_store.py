"""Time snapshot save/load of a big service: Core executemany (the store) vs ORM add_all.

Run: python bench/bench_store.py [--children 100000]

Saves and loads 100k children + 300k bookings through the Store, then writes a 10k-child
subset (with its 30k bookings) through ORM ``session.add_all`` into a fresh database and prints
the per-row cost ratio. Both run in this process on this machine, so the ratio is what matters.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

from sqlmodel import Session

from smtui.records import Booking, CcmsSnapshot, Child, Room
from smtui.store import ServiceConfig, open_store
from smtui.store.tables import CcmsBookingRow, CcmsChildRow, CcmsRoomRow

T0 = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def make_snapshot(n_children: int) -> CcmsSnapshot:
    rooms = tuple(Room(f"r{i}", f"Room {i}", T0) for i in range(20))
    children = tuple(
        Child(
            f"c{i}",
            f"First{i}",
            f"Last{i}",
            dt.date(2020, 1, 1) + dt.timedelta(days=i % 1500),
            "active",
            T0,
            preferred_name=None,
        )
        for i in range(n_children)
    )
    bookings = tuple(
        Booking(
            f"b{i}-{k}",
            f"c{i}",
            f"r{(i + k) % 20}",
            dt.date(2025, 1, 6),
            (1, 3, 5),
            1,
            "permanent",
            "placed",
            end_date=None,
            updated_at=T0,
        )
        for i in range(n_children)
        for k in range(3)
    )
    return CcmsSnapshot(children, rooms, bookings)


def orm_save(db: Path, snap: CcmsSnapshot) -> float:
    store = open_store(str(db))
    store.add_service(ServiceConfig(name="orm", ccms_url="x", portfolio_url="y"))
    sid = 1
    started = time.perf_counter()
    with Session(store.write_engine) as session:
        session.add_all(
            CcmsChildRow(
                service_id=sid,
                seq=i,
                id=c.id,
                first_name=c.first_name,
                last_name=c.last_name,
                preferred_name=c.preferred_name,
                birth_date=c.birth_date,
                status=c.status,
                updated_at=c.updated_at,
            )
            for i, c in enumerate(snap.children)
        )
        session.add_all(
            CcmsRoomRow(service_id=sid, seq=i, id=r.id, name=r.name, updated_at=r.updated_at)
            for i, r in enumerate(snap.rooms)
        )
        session.add_all(
            CcmsBookingRow(
                service_id=sid,
                seq=i,
                id=b.id,
                child_id=b.child_id,
                room_id=b.room_id,
                start_date=b.start_date,
                end_date=b.end_date,
                weekdays=",".join(map(str, b.weekdays)),
                every=b.every,
                kind=b.kind,
                status=b.status,
                updated_at=b.updated_at,
            )
            for i, b in enumerate(snap.bookings)
        )
        session.commit()
    elapsed = time.perf_counter() - started
    store.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=100_000)
    parser.add_argument("--subset", type=int, default=10_000)
    args = parser.parse_args()

    snap = make_snapshot(args.children)
    rows = len(snap.children) + len(snap.rooms) + len(snap.bookings)
    subset = CcmsSnapshot(
        snap.children[: args.subset], snap.rooms, snap.bookings[: 3 * args.subset]
    )
    subset_rows = len(subset.children) + len(subset.rooms) + len(subset.bookings)

    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(str(Path(tmp) / "core.db"))
        store.add_service(ServiceConfig(name="core", ccms_url="x", portfolio_url="y"))
        started = time.perf_counter()
        store.save_ccms_snapshot("core", snap)
        core_save = time.perf_counter() - started
        started = time.perf_counter()
        store.save_ccms_snapshot("core", snap)  # the usual case: replace an existing read
        core_replace = time.perf_counter() - started
        started = time.perf_counter()
        loaded = store.load_ccms_snapshot("core")
        core_load = time.perf_counter() - started
        assert loaded == snap, "round trip changed the snapshot"
        store.close()
        orm = orm_save(Path(tmp) / "orm.db", subset)

    core_per_row = core_save / rows
    orm_per_row = orm / subset_rows
    print(f"snapshot: {len(snap.children)} children, {len(snap.bookings)} bookings ({rows} rows)")
    print(f"core save     {core_save:6.2f}s  ({core_per_row * 1e6:5.1f} µs/row)")
    print(f"core replace  {core_replace:6.2f}s")
    print(f"core load     {core_load:6.2f}s")
    print(f"orm add_all   {orm:6.2f}s for {subset_rows} rows ({orm_per_row * 1e6:5.1f} µs/row)")
    print(f"ratio orm/core per row: {orm_per_row / core_per_row:.1f}x")


if __name__ == "__main__":
    main()
