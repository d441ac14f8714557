"""`make bench`: every benchmark script of `benchmarks/` (or the ones named), one after the other, on a quiet machine
(helpers.quiet), against the stack of the current profile."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from election.config import get_settings
from helpers.quiet import quiet_machine

BENCHMARKS = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    names = argv if argv is not None else sys.argv[1:]
    scripts = [BENCHMARKS / name for name in names] if names else sorted(BENCHMARKS.glob("*.py"))
    missing = [script.name for script in scripts if not script.exists()]
    if missing:
        print(f"[bench] no such benchmark: {', '.join(missing)}", file=sys.stderr)
        return 2
    failed = []
    with quiet_machine(get_settings()):
        for script in scripts:
            print(f"=== {script.relative_to(BENCHMARKS.parent)}", flush=True)
            if subprocess.run([sys.executable, str(script)], cwd=BENCHMARKS, check=False).returncode != 0:
                failed.append(script.name)
    if failed:
        print(f"[bench] failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
