"""Which profile a state folder belongs to.

Each profile keeps its databases, Kafka storage, checkpoints and passwords in a folder of its own (`.local/`,
`.local/cluster/`). A folder started by one profile holds the wrong number of brokers, another Kafka cluster's
checkpoints and another executor's Airflow state for the other: `make up` marks the folder with its profile on the
first start and refuses to start another profile on it, saying which setting to change.
"""

from __future__ import annotations

from pathlib import Path

from election.config import Settings
from localstack.process import StackError

MARKER = "profile"


def _found_profile(state_dir: Path) -> str | None:
    """The profile of a folder started before folders were marked, told by its Kafka storage."""
    if (state_dir / "kafka" / "node-1").exists():
        return "cluster"
    if (state_dir / "kafka" / "data").exists():
        return "single"
    return None


def claim(settings: Settings) -> None:
    """Mark the state folder as the profile's, or check that it is; StackError when it is another profile's."""
    marker = settings.state_dir / MARKER
    try:
        owner = marker.read_text().strip()
    except FileNotFoundError:
        owner = _found_profile(settings.state_dir) or settings.stack_profile
        settings.state_dir.mkdir(parents=True, exist_ok=True)
        marker.write_text(f"{owner}\n")
    if owner != settings.stack_profile:
        raise StackError(
            f"{settings.state_dir} holds the {owner} profile's state (its brokers, checkpoints and Airflow), not the "
            f"{settings.stack_profile} profile's. Leave ELECTION_STATE_DIR unset (each profile has a folder of its "
            f"own), point it at a folder of its own for the {settings.stack_profile} profile, or run with "
            f"PROFILE={owner}."
        )
