"""The figures a benchmark measured, kept in `<state>/bench/results.json` (`.local/bench/` for the single profile,
`.local/cluster/bench/` for the cluster): one entry per figure, replaced when it is measured again.

    {"figures": {"<name>": {"value": …, "unit": "…", "baseline": …|null, "ratio": …|null, "ceiling": …|null,
                            "of_ceiling": …|null, "measured_at": "<UTC ISO time>"}}}

`ratio` = value / baseline and `of_ceiling` = value / ceiling, both from the same run.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

from election.config import Settings


def path(settings: Settings) -> Path:
    return settings.state_dir / "bench" / "results.json"


def load(settings: Settings) -> dict[str, dict]:
    try:
        return json.loads(path(settings).read_text())["figures"]
    except (FileNotFoundError, ValueError, KeyError):
        return {}


def record(
    settings: Settings,
    name: str,
    value: float,
    unit: str,
    *,
    baseline: float | None = None,
    ceiling: float | None = None,
) -> None:
    figures = load(settings)
    figures[name] = {
        "value": value,
        "unit": unit,
        "baseline": baseline,
        "ratio": value / baseline if baseline else None,
        "ceiling": ceiling,
        "of_ceiling": value / ceiling if ceiling else None,
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    target = path(settings)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".json.partial")
    partial.write_text(json.dumps({"figures": figures}, indent=2, sort_keys=True) + "\n")
    os.replace(partial, target)  # a reader never sees half a file
