"""Progress lines for long steps: rows done, share of the total, rows per second (what the task log shows)."""

from __future__ import annotations

import logging
import time


class Progress:
    def __init__(self, log: logging.Logger, what: str, total: int | None = None, *, every: float = 2.0) -> None:
        self.log, self.what, self.total, self.every = log, what, total, every
        self.start = self.last = time.perf_counter()

    def update(self, done: int, *, force: bool = False) -> None:
        now = time.perf_counter()
        if not force and now - self.last < self.every:
            return
        self.last = now
        rate = done / max(now - self.start, 1e-9)
        share = f" ({done / self.total:.0%})" if self.total else ""
        of = f"/{self.total:,}" if self.total else ""
        self.log.info("%s: %s%s rows%s, %s rows/s", self.what, f"{done:,}", of, share, f"{rate:,.0f}")

    def done(self, rows: int) -> float:
        """Log the final line; return the elapsed seconds."""
        elapsed = time.perf_counter() - self.start
        self.log.info(
            "%s: %s rows in %.2fs (%s rows/s)", self.what, f"{rows:,}", elapsed, f"{rows / max(elapsed, 1e-9):,.0f}"
        )
        return elapsed
