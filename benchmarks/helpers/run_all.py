"""`make bench`: every benchmark script of `benchmarks/` (or the ones named), one after the other, on a quiet machine
(helpers.quiet), against the stack of the current profile."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

from election.config import get_settings
from helpers import results
from helpers.quiet import quiet_machine
from helpers.workspace import table

BENCHMARKS = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    names = argv if argv is not None else sys.argv[1:]
    scripts = [BENCHMARKS / name for name in names] if names else sorted(BENCHMARKS.glob("*.py"))
    missing = [script.name for script in scripts if not script.exists()]
    if missing:
        print(f"[bench] no such benchmark: {', '.join(missing)}", file=sys.stderr)
        return 2
    failed = []
    settings = get_settings()
    since = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    with quiet_machine(settings):
        for script in scripts:
            print(f"=== {script.relative_to(BENCHMARKS.parent)}", flush=True)
            if subprocess.run([sys.executable, str(script)], cwd=BENCHMARKS, check=False).returncode != 0:
                failed.append(script.name)
    print(summary(settings, since))
    if failed:
        print(f"[bench] failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


def summary(settings, since: str) -> str:
    """One table of the figures this run measured (as written to results.json)."""

    def number(value: float | None, unit: str = "") -> str:
        if value is None:
            return ""
        return f"{value:,.2f} {unit}".strip() if abs(value) < 100 else f"{value:,.0f} {unit}".strip()

    rows = [
        (
            name,
            number(figure["value"], figure["unit"]),
            number(figure["baseline"]),
            "" if figure["ratio"] is None else f"{figure['ratio']:.1f}x",
            number(figure["ceiling"]),
            "" if figure["of_ceiling"] is None else f"{figure['of_ceiling']:.1%}",
        )
        for name, figure in sorted(results.load(settings).items())
        if figure["measured_at"] >= since
    ]
    heading = f"\nfigures of this run ({results.path(settings)}):\n"
    return heading + table(rows, ("figure", "value", "baseline", "ratio", "ceiling", "of ceiling"))


if __name__ == "__main__":
    sys.exit(main())
