"""Record ids: sequential for the CCMS (as management systems do), hash-like for the portfolio.

Both come from one seeded maker so the same seed gives the same ids, and ids stay unique across
services (a connector that mixes services up then fails loudly instead of silently).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

_CCMS = {"child": ("ch", 10000), "room": ("rm", 100), "booking": ("bk", 500000)}
_PORTFOLIO = {"profile": "prf", "portfolio_room": "grp"}


@dataclass
class IdMaker:
    seed: int
    counters: dict[str, int] = field(default_factory=dict)

    def _next(self, kind: str) -> int:
        self.counters[kind] = self.counters.get(kind, 0) + 1
        return self.counters[kind]

    def ccms(self, kind: str) -> str:
        prefix, base = _CCMS[kind]
        return f"{prefix}-{base + self._next(kind)}"

    def portfolio(self, kind: str) -> str:
        n = self._next(kind)
        digest = hashlib.sha256(f"{self.seed}:{kind}:{n}".encode()).hexdigest()[:12]
        return f"{_PORTFOLIO[kind]}_{digest}"

    def copy(self) -> IdMaker:
        return IdMaker(self.seed, dict(self.counters))
