"""The seed's parameters and its staged frames: Parquet files handed from one seed task to the next.

A million voters do not fit in XCom; the generate task writes them once under the staging location, in a folder
named after the parameters, and the later tasks read them back; XCom carries only the folder's URL. The location
is Airflow's `ObjectStoragePath` (`ELECTION_SEED_STAGING_URL`, credentials from `ELECTION_SEED_STAGING_CONN_ID`):
a local folder in development (`file://…`, the default under `ELECTION_SEED_STAGING_DIR`), object storage that
every worker reaches in production (`s3://…`, `gs://…`), so the four tasks may run on different machines. The
folder is written under a temporary name and renamed when complete, so a crash never leaves a half-written stage.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from airflow.sdk import ObjectStoragePath

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


def staging_root(location: str | Path, conn_id: str | None = None) -> ObjectStoragePath:
    """Where stages go: a URL (`file://…`, `s3://…`) or a local folder."""
    if isinstance(location, Path) or "://" not in str(location):
        location = f"file://{Path(location).resolve()}"
    return ObjectStoragePath(str(location), conn_id=conn_id)


@dataclass(frozen=True)
class StagedSeed:
    request: SeedRequest
    directory: ObjectStoragePath

    def path(self, frame: str) -> ObjectStoragePath:
        return self.directory / f"{frame}.parquet"

    @contextmanager
    def parquet(self, frame: str) -> Iterator[pq.ParquetFile]:
        """A staged frame to read in batches, open for the `with` block."""
        with self.path(frame).open("rb") as source:
            yield pq.ParquetFile(source)

    def table(self, frame: str) -> pa.Table:
        with self.path(frame).open("rb") as source:
            return pq.read_table(source)

    def write(self, frame: str, table: pa.Table) -> None:
        # lz4: the stage lives for minutes; writing fast matters more than its size
        with self.path(frame).open("wb") as sink:
            pq.write_table(table, sink, compression="lz4")

    def frame(self, frame: str) -> pd.DataFrame:
        """A staged frame with Arrow-backed strings (fast string checks on a million rows)."""
        return self.table(frame).to_pandas(
            types_mapper={pa.string(): pd.StringDtype("pyarrow")}.get, date_as_object=False
        )

    def as_xcom(self) -> dict:
        return {
            "request": self.request.as_dict(),
            "directory": str(self.directory),
            "conn_id": self.directory.conn_id,
        }

    @classmethod
    def from_xcom(cls, value: dict) -> StagedSeed:
        return cls(SeedRequest.from_dict(value["request"]), staging_root(value["directory"], value.get("conn_id")))


def stage(request: SeedRequest, staging: ObjectStoragePath | Path) -> tuple[StagedSeed, bool]:
    """Generate and stage the frames of `request`; reuse a complete earlier stage. True when generated now."""
    root = staging if isinstance(staging, ObjectStoragePath) else staging_root(staging)
    final = root / request.key
    staged = StagedSeed(request, final)
    if (final / "manifest.json").exists():
        return staged, False
    work = StagedSeed(request, root / f".{request.key}.{uuid.uuid4().hex[:8]}")
    work.directory.mkdir(parents=True, exist_ok=True)
    try:
        frames = generate(
            request.num_voters, request.num_candidates, request.random_seed, request.election_date, arrow=True
        )
        rows = {}
        for name in FRAMES:
            frame = getattr(frames, name)
            table = frame if isinstance(frame, pa.Table) else pa.Table.from_pandas(frame, preserve_index=False)
            work.write(name, table)
            rows[name] = table.num_rows
        (work.directory / "manifest.json").write_text(json.dumps({"request": request.as_dict(), "rows": rows}))
        if final.exists():  # another run staged it meanwhile: same parameters, same content
            discard(work)
        else:
            work.directory.rename(final)
    except BaseException:
        discard(work)
        raise
    return staged, True


def discard(staged: StagedSeed) -> None:
    """Delete a stage (the tables hold the data once loaded); nothing to do if it is gone."""
    if staged.directory.exists():
        staged.directory.rmdir(recursive=True)
