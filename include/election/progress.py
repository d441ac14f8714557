"""Progress lines for long steps: rows done, share of the total, rows per second (what the task log shows)."""

from __future__ import annotations

import logging
import time


class Progress:
    def __init__(
        self, log: logging.Logger, what: str, total: int | None = None, *, every: float = 2.0, unit: str = "rows"
    ) -> None:
        self.log, self.what, self.total, self.every, self.unit = log, what, total, every, unit
        self.start = self.last = time.perf_counter()

    def update(self, done: int, *, force: bool = False) -> None:
        now = time.perf_counter()
        if not force and now - self.last < self.every:
            return
        self.last = now
        rate = done / max(now - self.start, 1e-9)
        share = f" ({done / self.total:.0%})" if self.total else ""
        of = f"/{self.total:,}" if self.total else ""
        left = f", {max(0, self.total - done):,} remaining" if self.total else ""
        self.log.info(
            "%s: %s%s %s%s, %s %s/s%s", self.what, f"{done:,}", of, self.unit, share, f"{rate:,.0f}", self.unit, left
        )

    def done(self, rows: int) -> float:
        """Log the final line; return the elapsed seconds."""
        elapsed = time.perf_counter() - self.start
        rate = f"{rows / max(elapsed, 1e-9):,.0f}"
        self.log.info("%s: %s %s in %.2fs (%s %s/s)", self.what, f"{rows:,}", self.unit, elapsed, rate, self.unit)
        return elapsed
