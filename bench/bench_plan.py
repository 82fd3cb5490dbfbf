"""How plan_sync scales: a 100k-children service, then twice the data.

Prints "plan 100k: X s; plan 200k: Y s; ratio Y/X". Targets: X <= 5 s on a small machine and a
ratio <= 2.2 (linear). The data is synthetic and seeded, with drift on the portfolio side (wrong
rooms, edited names, leavers, new rooms) so the plan is non-trivial.

Run: python bench/bench_plan.py [--children N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import time

from smtui.plan import plan_sync
from smtui.records import (
    Booking,
    CcmsSnapshot,
    Child,
    ChildMapping,
    PortfolioRoom,
    PortfolioSnapshot,
    Profile,
    Room,
    RoomMapping,
    ServiceSettings,
)
from smtui.rules import child_target_rooms

AS_OF = dt.date(2025, 3, 12)
STAMP = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def synthesize(n_children: int, seed: int = 7) -> tuple:
    """Both snapshots and the mappings for n children, n/100 rooms and 3n bookings."""
    rnd = random.Random(seed)
    n_rooms = max(10, n_children // 100)
    rooms = tuple(Room(f"r{i:05d}", f"Room {i}", STAMP) for i in range(n_rooms))
    # 2% of rooms get no bookings (to be removed); the last 1% are new in the CCMS (unmapped)
    quiet = {r.id for r in rooms if rnd.random() < 0.02}
    bookable = [r.id for r in rooms if r.id not in quiet]
    children, bookings = [], []
    for i in range(n_children):
        cid = f"c{i:07d}"
        status = "active" if rnd.random() < 0.97 else rnd.choice(("inactive", "archived"))
        birth = dt.date(2020, 1, 1) + dt.timedelta(days=rnd.randrange(1500))
        children.append(Child(cid, f"First{i}", f"Last{i}", birth, status, STAMP))  # type: ignore[arg-type]
        for j in range(3):
            start = AS_OF + dt.timedelta(days=rnd.randrange(-400, 60))
            end = None if rnd.random() < 0.6 else start + dt.timedelta(days=rnd.randrange(1, 300))
            casual = rnd.random() < 0.1
            bookings.append(
                Booking(
                    id=f"b{i:07d}{j}",
                    child_id=cid,
                    room_id=rnd.choice(bookable),
                    start_date=start,
                    weekdays=tuple(sorted(rnd.sample(range(1, 6), rnd.randint(1, 3)))),
                    every=2 if rnd.random() < 0.2 else 1,
                    kind="casual" if casual else "permanent",
                    status="placed" if rnd.random() < 0.95 else "suspended",
                    end_date=start if casual else end,
                )
            )
    by_child: dict[str, list[Booking]] = {}
    for b in bookings:
        by_child.setdefault(b.child_id, []).append(b)

    new_rooms = {r.id for r in rooms[-max(1, n_rooms // 100) :]}
    prooms = tuple(
        PortfolioRoom(f"pr{i:05d}", r.name, False, r.id)
        for i, r in enumerate(rooms)
        if r.id not in new_rooms
    )
    room_maps = {
        r.id: RoomMapping(r.id, "link", f"pr{i:05d}")
        for i, r in enumerate(rooms)
        if r.id not in new_rooms
    }
    pid_of = {r.id: f"pr{i:05d}" for i, r in enumerate(rooms)}
    profiles, child_maps = [], {}
    for i, c in enumerate(children):
        roll = rnd.random()
        if roll < 0.90:
            pid = f"p{i:07d}"
            targets = child_target_rooms(by_child[c.id], AS_OF) or frozenset()
            room_ids = [pid_of[r] for r in targets]
            if rnd.random() < 0.05:  # drift: in a wrong room
                room_ids = [rnd.choice(prooms).id]
            first = c.first_name if rnd.random() < 0.98 else "Nick"  # educator's edit: kept
            last = c.last_name if rnd.random() < 0.99 else "Old"  # changed in the CCMS: pushed
            profiles.append(Profile(pid, first, last, c.birth_date, False, tuple(room_ids), c.id))
            child_maps[c.id] = ChildMapping(
                c.id,
                "link",
                pid,
                synced_first_name=c.first_name,
                synced_last_name=last,
                synced_birth_date=c.birth_date,
            )
        elif roll < 0.95:
            child_maps[c.id] = ChildMapping(c.id, "create")
        elif roll < 0.97:
            child_maps[c.id] = ChildMapping(c.id, "review")
        else:
            child_maps[c.id] = ChildMapping(c.id, "ignore")
    ccms = CcmsSnapshot(tuple(children), rooms, tuple(bookings))
    portfolio = PortfolioSnapshot(tuple(profiles), prooms)
    return ccms, portfolio, child_maps, room_maps


def timed_plan(n_children: int, repeats: int) -> tuple[float, float, dict[str, int]]:
    """Best wall and CPU seconds of ``repeats`` plans: the best run is the least disturbed by
    other processes on a shared machine."""
    ccms, portfolio, child_maps, room_maps = synthesize(n_children)
    walls, cpus = [], []
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        plan = plan_sync(ccms, portfolio, child_maps, room_maps, ServiceSettings(), AS_OF)
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    return min(walls), min(cpus), plan.counts()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    n = args.children
    x, x_cpu, counts = timed_plan(n, args.repeats)
    print(f"ops at {n // 1000}k: {counts}")
    y, y_cpu, _ = timed_plan(2 * n, args.repeats)
    print(f"plan {n // 1000}k: {x:.2f} s; plan {2 * n // 1000}k: {y:.2f} s; ratio {y / x:.2f}")
    k, k2 = n // 1000, 2 * n // 1000
    print(f"cpu  {k}k: {x_cpu:.2f} s; cpu  {k2}k: {y_cpu:.2f} s; ratio {y_cpu / x_cpu:.2f}")
    print("targets: plan 100k <= 5 s, ratio <= 2.2")


if __name__ == "__main__":
    main()
