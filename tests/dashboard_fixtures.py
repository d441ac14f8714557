"""Fixture data for the dashboard's tests: a small election as PostgreSQL and the aggregated topics have it."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from dashboard.data import FeedState, Reference, Sources, SourceUnavailableError, frame_of

UPDATED = "2026-11-03T14:05:00.000Z"

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
        "registered_voters": [100, 40, 60, 0],
    }
)


def candidate_frame(votes: dict[str, int]) -> pd.DataFrame:
    return frame_of(
        "candidate",
        [
            {
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
                "state": code,
                "total_votes": n,
                "registered_voters": int(registered[code]),
                "turnout_pct": None,
                "updated_at": UPDATED,
            }
            for code, n in votes.items()
        ],
    )


def fixture_feed(votes: dict[str, int] | None = None, error: str | None = None) -> FeedState:
    """The aggregates of 100 votes (c2 leads with 55), or of the given votes per candidate."""
    votes = {"c1": 30, "c2": 55, "c3": 15} if votes is None else votes
    total = sum(votes.values())
    states = {"CA": round(total * 0.6), "NY": total - round(total * 0.6)} if total else {}
    minute = dt.datetime(2026, 11, 3, 14, 0, tzinfo=dt.UTC)
    minutes = [
        {
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
    frames = {
        "candidate": candidate_frame(votes) if total else frame_of("candidate", []),
        "party": frame_of("party", []),
        "state": state_frame(states),
        "demographic": frame_of(
            "demographic",
            [
                {"gender": "female", "age_band": "25-34", "total_votes": total // 2, "updated_at": UPDATED},
                {"gender": "male", "age_band": "65+", "total_votes": total - total // 2, "updated_at": UPDATED},
            ]
            if total
            else [],
        ),
        "minute": frame_of("minute", minutes),
    }
    return FeedState(frames=frames, read_at=dt.datetime(2026, 11, 3, 14, 5, 1, tzinfo=dt.UTC), error=error)


def fixture_reference(votes_recorded: int = 100, candidates: pd.DataFrame = CANDIDATES) -> Reference:
    return Reference(candidates=candidates, regions=REGIONS, votes_recorded=votes_recorded)


def fixture_sources(
    votes: dict[str, int] | None = None, *, postgres_down: bool = False, no_election: bool = False
) -> Sources:
    feed = fixture_feed(votes)
    total = sum(votes.values()) if votes is not None else 100

    def reference(_ttl: float) -> Reference:
        if postgres_down:
            raise SourceUnavailableError("PostgreSQL is unreachable at localhost:1: connection refused")
        if no_election:
            return fixture_reference(0, CANDIDATES.iloc[0:0])
        return fixture_reference(total)

    def in_states(states: tuple[str, ...], _ttl: float) -> pd.DataFrame:
        return pd.DataFrame({"candidate_id": ["c1", "c3"], "total_votes": [7, 3]})

    return Sources(feed=lambda: feed, reference=reference, candidate_votes_in_states=in_states)
