"""`make bench-profiles`: vote casting and the stream drain on the single-node profile, then on the cluster profile,
in one run, and the two side by side.

Each profile's stack is started for its turn and stopped after it (the two use the same ports, and two stacks at
once would share the two cores); the stack that ran before the run is started again at its end. Each figure comes
from the profile's own results file (helpers.results), measured in this run with its baseline and ceiling from the
same stack.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

from election.config import read_settings
from helpers import results
from helpers.quiet import quiet_machine
from helpers.workspace import table
from localstack import kafka

PROFILES = ("single", "cluster")
FIGURES = ("vote_casting", "stream_drain", "stream_jvm_start")
BENCHMARKS = Path(__file__).resolve().parents[1]


def _environment(profile: str) -> dict[str, str]:
    return {**os.environ, "ELECTION_STACK_PROFILE": profile}


def _stack(profile: str, command: str) -> None:
    subprocess.run([sys.executable, "-m", "localstack", command], env=_environment(profile), check=True)


def _settings(profile: str):
    return read_settings(profile)


def _cell(figure: dict | None, since: str) -> str:
    if figure is None or figure["measured_at"] < since:
        return "not measured"
    text = f"{figure['value']:,.1f} {figure['unit']}"
    if figure.get("of_ceiling") is not None:
        text += f" ({figure['of_ceiling']:.1%} of ceiling {figure['ceiling']:,.0f})"
    if figure.get("ratio") is not None:
        text += f" ({figure['ratio']:.1f}x baseline {figure['baseline']:,.0f})"
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=1_000_000, help="voters cast, and votes drained")
    args = parser.parse_args()
    scripts = {"vote_casting.py": ["--voters", str(args.size)], "streaming_drain.py": ["--votes", str(args.size)]}
    since = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    failed = []
    # The stack the user had running (if any) is started again at the end: the run borrows the machine, not the stack.
    running = [p for p in PROFILES if kafka.nodes(_settings(p))[0].service.process() is not None]
    for profile in PROFILES:
        for other in PROFILES:
            if other != profile:
                _stack(other, "down")
        print(f"=== profile {profile}: starting its stack", flush=True)
        _stack(profile, "up")
        try:
            with quiet_machine(_settings(profile)):
                for script, script_args in scripts.items():
                    print(f"=== {script} on {profile}", flush=True)
                    command = [sys.executable, script, *script_args]
                    if subprocess.run(command, cwd=BENCHMARKS, env=_environment(profile), check=False).returncode:
                        failed.append(f"{script} on {profile}")
        finally:
            _stack(profile, "down")
    for profile in running:
        print(f"=== profile {profile} was running before the run: starting it again", flush=True)
        _stack(profile, "up")
    figures = {profile: results.load(_settings(profile)) for profile in PROFILES}
    rows = [(name, *(_cell(figures[p].get(name), since) for p in PROFILES)) for name in FIGURES]
    print(f"\nsingle node beside the cluster profile (same machine, same run, {args.size:,} votes):")
    print(table(rows, ("figure", *PROFILES)))
    if failed:
        print(f"[bench] failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
