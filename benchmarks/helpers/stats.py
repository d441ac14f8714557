"""The benchmarks' one percentile."""

from __future__ import annotations

import statistics
from collections.abc import Sequence


def percentile(values: Sequence[float], percent: int) -> float:
    """The `percent`-th percentile (statistics.quantiles' default method); NaN for fewer than two values."""
    return statistics.quantiles(values, n=100)[percent - 1] if len(values) > 1 else float("nan")
