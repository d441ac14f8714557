"""Fixture data for the dashboard's tests: a small election (id 7) as PostgreSQL and the aggregated topics have it,
beside another election (id 3) on the same topics."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from dashboard.data import ELECTION_COLUMNS, FeedState, Reference, Sources, SourceUnavailableError, frame_of

UPDATED = "2026-11-03T14:05:00.000Z"
ELECTION = 7  # the one the fixtures are about
OTHER = 3  # another election, whose values must never show on election 7's page
ELECTIONS = pd.DataFrame(
    [
        (ELECTION, "Fixture election", "open", pd.Timestamp("2026-11-03 09:00", tz="UTC"), None, None),
        (
            OTHER,
            "Last year's election",
            "certified",
            pd.Timestamp("2025-11-04 09:00", tz="UTC"),
            pd.Timestamp("2025-11-04 21:00", tz="UTC"),
            pd.Timestamp("2025-11-05 10:00", tz="UTC"),
        ),
    ],
    columns=ELECTION_COLUMNS,
)

CANDIDATES = pd.DataFrame(
    {
        "candidate_id": ["c1", "c2", "c3"],
        "candidate_name": ["Ann Blue", "Bea Red", "Cy Green"],
        "party": ["Blue", "Red", "Green"],
        "party_color": ["#1f77b4", "#d62728", "#2ca02c"],
        "photo_url": [f"avatars/candidates/c{i}.svg" for i in (1, 2, 3)],
    }
)

REGIONS = pd.DataFrame(
    {
        "state_code": ["CA", "NY", "TX", "WY"],
        "state_name": ["California", "New York", "Texas", "Wyoming"],
        "tile_row": [4, 2, 6, 2],
        "tile_col": [0, 9, 4, 3],
        "electoral_votes": [54, 28, 40, 3],
        "registered_voters": [100, 40, 60, 0],
    }
)


def candidate_frame(votes: dict[str, int], election_id: int = ELECTION) -> pd.DataFrame:
    return frame_of(
        "candidate",
        [
            {
                "election_id": election_id,
                "candidate_id": cid,
                "candidate_name": cid,
                "party": "?",
                "photo_url": "",
                "total_votes": n,
                "updated_at": UPDATED,
            }
            for cid, n in votes.items()
        ],
    )


def state_frame(votes: dict[str, int]) -> pd.DataFrame:
    registered = REGIONS.set_index("state_code")["registered_voters"]
    return frame_of(
        "state",
        [
            {
                "election_id": ELECTION,
                "state": code,
                "total_votes": n,
                "registered_voters": int(registered[code]),
                "turnout_pct": None,
                "updated_at": UPDATED,
            }
            for code, n in votes.items()
        ],
    )


NY_CALL = {
    "election_id": ELECTION,
    "state": "NY",
    "candidate_id": "c2",
    "tie": False,
    "votes": 30,
    "margin": 21,
    "remaining": 0,
    "electoral_votes": 28,
    "called_at": "2026-11-03T14:04:00.000Z",
}


def fixture_feed(votes: dict[str, int] | None = None, error: str | None = None) -> FeedState:
    """The aggregates of 100 votes (c2 leads with 55), or of the given votes per candidate."""
    votes = {"c1": 30, "c2": 55, "c3": 15} if votes is None else votes
    total = sum(votes.values())
    states = {"CA": round(total * 0.6), "NY": total - round(total * 0.6)} if total else {}
    minute = dt.datetime(2026, 11, 3, 14, 0, tzinfo=dt.UTC)
    minutes = [
        {
            "election_id": ELECTION,
            "window_start": (minute + dt.timedelta(minutes=m)).isoformat(),
            "window_end": (minute + dt.timedelta(minutes=m + 1)).isoformat(),
            "candidate_id": cid,
            "votes": n // 2,
            "updated_at": UPDATED,
        }
        for cid, n in votes.items()
        for m in (0, 1)
        if n
    ]
    in_states = {"CA": {"c1": 7, "c3": 3}} if total else {}
    per_state_candidate = [
        {"election_id": ELECTION, "state": state, "candidate_id": cid, "total_votes": n, "updated_at": UPDATED}
        for state, split in in_states.items()
        for cid, n in split.items()
    ]
    cells = [
        {"election_id": ELECTION, "gender": "female", "age_band": "25-34", "total_votes": total // 2},
        {"election_id": ELECTION, "gender": "male", "age_band": "65+", "total_votes": total - total // 2},
    ]
    other = candidate_frame({"c1": 999, "c9": 555}, OTHER)
    frames = {
        "candidate": pd.concat([candidate_frame(votes) if total else frame_of("candidate", []), other]),
        "party": frame_of("party", []),
        "state": state_frame(states),
        "state_candidate": frame_of("state_candidate", per_state_candidate),
        "demographic": frame_of("demographic", [{**c, "updated_at": UPDATED} for c in cells] if total else []),
        "minute": frame_of("minute", minutes),
        # New York called for Bea Red (c2) once the lead beat the voters still to vote there
        "race_call": frame_of("race_call", [NY_CALL] if total else []),
    }
    return FeedState(frames=frames, read_at=dt.datetime(2026, 11, 3, 14, 5, 1, tzinfo=dt.UTC), error=error)


def fixture_reference(
    votes_recorded: int = 100, candidates: pd.DataFrame = CANDIDATES, certified: pd.DataFrame | None = None
) -> Reference:
    return Reference(candidates=candidates, regions=REGIONS, votes_recorded=votes_recorded, certified=certified)


CERTIFIED = pd.DataFrame({"candidate_id": ["c1", "c2", "c3"], "total_votes": [31, 56, 15]})


def fixture_sources(
    votes: dict[str, int] | None = None,
    *,
    postgres_down: bool = False,
    no_election: bool = False,
    certified: bool = False,
) -> Sources:
    feed = fixture_feed(votes)
    total = sum(votes.values()) if votes is not None else 100
    elections = ELECTIONS.copy()
    if certified:
        elections.loc[elections["election_id"] == ELECTION, ["status", "closed_at", "certified_at"]] = [
            "certified",
            pd.Timestamp("2026-11-03 21:00", tz="UTC"),
            pd.Timestamp("2026-11-04 09:30", tz="UTC"),
        ]

    def listed(_ttl: float) -> pd.DataFrame:
        if postgres_down:
            raise SourceUnavailableError("PostgreSQL is unreachable at localhost:1: connection refused")
        return elections.iloc[0:0] if no_election else elections

    def reference(election_id: int, _ttl: float) -> Reference:
        if postgres_down:
            raise SourceUnavailableError("PostgreSQL is unreachable at localhost:1: connection refused")
        assert election_id == ELECTION, f"the page asked for election {election_id}"
        return fixture_reference(total, certified=CERTIFIED if certified else None)

    return Sources(feed=lambda: feed, elections=listed, reference=reference)
