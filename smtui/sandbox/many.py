"""A sandbox world with many services, for the scale benchmark (bench/bench_scale.py).

``many_world(200)`` holds 200 generated services of 30-300 current children each (the seeded
world's generator, with the same hand-typed portfolio side), named ``svc-000``, ``svc-001``...
``python -m smtui.sandbox.many --services 200 --port 8765`` serves it on 127.0.0.1 in the
foreground, with the sandbox's default tokens (the admin API's faults work as usual; its reset
goes back to the four seeded services).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random

from smtui.sandbox.ids import IdMaker
from smtui.sandbox.seed import _BIG_ANIMALS, Group, RoomSpec, ServiceSpec, _ServiceBuilder
from smtui.sandbox.world import World

TIMEZONES = ("Australia/Sydney", "Australia/Melbourne", "Australia/Brisbane", "Pacific/Auckland")
GROUPS: tuple[Group, ...] = ("nursery", "toddler", "kindy", "kindy")


def service_id(i: int) -> str:
    return f"svc-{i:03}"


def many_specs(count: int, seed: int = 7, lo: int = 30, hi: int = 300) -> list[ServiceSpec]:
    """``count`` service specs of ``lo``-``hi`` current children (about 20 to a room)."""
    rng = random.Random(seed)
    specs = []
    for i in range(count):
        current = rng.randint(lo, hi)
        rooms = tuple(
            RoomSpec(f"{_BIG_ANIMALS[r % len(_BIG_ANIMALS)]} {r // len(_BIG_ANIMALS) + 1}", g)
            for r, g in enumerate(GROUPS[r % len(GROUPS)] for r in range(max(4, current // 20)))
        )
        tz = TIMEZONES[i % len(TIMEZONES)]
        specs.append(
            ServiceSpec(
                id=service_id(i),
                name=f"Bench Service {i}",
                timezone=tz,
                region="nz" if tz.startswith("Pacific") else "au",
                current=current,
                leavers=current // 8,
                rooms=rooms,
            )
        )
    return specs


def many_world(count: int, seed: int = 7, today: dt.date | None = None) -> World:
    """A world holding ``count`` generated services instead of the four seeded ones."""
    world = World(seed, today, "small")
    rng = random.Random(seed)
    ids = IdMaker(seed)
    with world.lock:
        services = {}
        for spec in many_specs(count, seed):
            data = _ServiceBuilder(spec, rng, ids, world.today, guardian_seed=seed).build()
            services[spec.id] = data.copy(world.clock)
        world.services = services
        world.ids = ids
    return world


def main() -> None:
    import uvicorn

    from smtui.sandbox.app import create_app
    from smtui.sandbox.faults import quiet_dropped_connections

    parser = argparse.ArgumentParser(description="Serve a sandbox of many services.")
    parser.add_argument("--services", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--today", type=dt.date.fromisoformat, default=None)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    world = many_world(args.services, args.seed, args.today)
    children = sum(len(s.children) for s in world.services.values())
    print(f"{len(world.services)} services, {children} children", flush=True)
    quiet_dropped_connections()
    uvicorn.run(
        create_app(world),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        access_log=False,
        lifespan="off",
    )


if __name__ == "__main__":
    main()
