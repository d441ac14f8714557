"""The seed's parameters and its staged frames: Parquet files handed from one seed task to the next.

A million voters do not fit in XCom; the generate task writes them once under `ELECTION_SEED_STAGING_DIR`
in a folder named after the parameters, and the later tasks read them back. The folder is written to a
temporary name and renamed when complete, so a crash never leaves a half-written stage behind.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from election.domain import DEFAULT_TURNOUT_RANGE, MAX_CANDIDATES, MAX_VOTERS, MIN_CANDIDATES
from election.seeding.generate import generate

FRAMES = ("parties", "candidates", "voters")


@dataclass(frozen=True)
class SeedRequest:
    num_voters: int
    num_candidates: int
    random_seed: int
    election_date: dt.date
    # each state's expected turnout is drawn between these (`seed/election_states.sql`)
    turnout_min: float = DEFAULT_TURNOUT_RANGE[0]
    turnout_max: float = DEFAULT_TURNOUT_RANGE[1]

    def __post_init__(self) -> None:
        if not 0 <= self.turnout_min <= self.turnout_max <= 1:
            bounds = f"{self.turnout_min} … {self.turnout_max}"
            raise ValueError(f"expected turnout bounds must satisfy 0 <= min <= max <= 1, got {bounds}")
        if not 1 <= self.num_voters <= MAX_VOTERS:
            raise ValueError(f"num_voters must be between 1 and {MAX_VOTERS:,}, got {self.num_voters}")
        if not MIN_CANDIDATES <= self.num_candidates <= MAX_CANDIDATES:
            raise ValueError(
                f"num_candidates must be between {MIN_CANDIDATES} and {MAX_CANDIDATES}, got {self.num_candidates}"
            )

    @property
    def key(self) -> str:
        return f"seed-{self.random_seed}-v{self.num_voters}-c{self.num_candidates}-{self.election_date}"

    def as_dict(self) -> dict:
        return {**asdict(self), "election_date": self.election_date.isoformat()}

    @classmethod
    def from_dict(cls, values: dict) -> SeedRequest:
        return cls(
            num_voters=int(values["num_voters"]),
            num_candidates=int(values["num_candidates"]),
            random_seed=int(values["random_seed"]),
            election_date=dt.date.fromisoformat(str(values["election_date"])),
            turnout_min=float(values.get("turnout_min", DEFAULT_TURNOUT_RANGE[0])),
            turnout_max=float(values.get("turnout_max", DEFAULT_TURNOUT_RANGE[1])),
        )


@dataclass(frozen=True)
class StagedSeed:
    request: SeedRequest
    directory: Path

    def path(self, frame: str) -> Path:
        return self.directory / f"{frame}.parquet"

    def table(self, frame: str) -> pa.Table:
        return pq.read_table(self.path(frame))

    def frame(self, frame: str) -> pd.DataFrame:
        """A staged frame with Arrow-backed strings (fast string checks on a million rows)."""
        return self.table(frame).to_pandas(
            types_mapper={pa.string(): pd.StringDtype("pyarrow")}.get, date_as_object=False
        )

    def as_xcom(self) -> dict:
        return {"request": self.request.as_dict(), "directory": str(self.directory)}

    @classmethod
    def from_xcom(cls, value: dict) -> StagedSeed:
        return cls(SeedRequest.from_dict(value["request"]), Path(value["directory"]))


def stage(request: SeedRequest, staging_dir: Path) -> tuple[StagedSeed, bool]:
    """Generate and stage the frames of `request`; reuse a complete earlier stage. True when generated now."""
    final = staging_dir / request.key
    staged = StagedSeed(request, final)
    if (final / "manifest.json").exists():
        return staged, False
    work = staging_dir / f".{request.key}.{uuid.uuid4().hex[:8]}"
    work.mkdir(parents=True)
    try:
        frames = generate(
            request.num_voters, request.num_candidates, request.random_seed, request.election_date, arrow=True
        )
        rows = {}
        for name in FRAMES:
            frame = getattr(frames, name)
            table = frame if isinstance(frame, pa.Table) else pa.Table.from_pandas(frame, preserve_index=False)
            # lz4: the stage lives for minutes; writing fast matters more than its size on disk
            pq.write_table(table, work / f"{name}.parquet", compression="lz4")
            rows[name] = table.num_rows
        (work / "manifest.json").write_text(json.dumps({"request": request.as_dict(), "rows": rows}))
        if final.exists():  # another run staged it meanwhile: same parameters, same content
            shutil.rmtree(work)
        else:
            work.rename(final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return staged, True


def discard(staged: StagedSeed) -> None:
    shutil.rmtree(staged.directory, ignore_errors=True)
