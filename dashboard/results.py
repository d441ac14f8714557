"""The figures the page shows, computed from the feed's frames and PostgreSQL's reference: pure functions.

PostgreSQL is the truth for who the candidates and states are and how many voters registered; the stream is the
truth for how many votes each got. Joining them here means a candidate or a state with no vote yet still shows
(with 0), and a value left on a topic by an earlier election (a candidate PostgreSQL does not know) is counted
apart instead of being shown as a result.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from election.domain import AGE_BAND_ORDER, UNKNOWN

NEUTRAL_COLOR = "#8c8c8c"
RESULT_COLUMNS = ["candidate_id", "candidate_name", "party", "party_color", "photo_url", "total_votes", "share_pct"]
STATE_COLUMNS = ["state_code", "state_name", "tile_row", "tile_col", "total_votes", "registered_voters", "turnout_pct"]
AGE_BANDS_SHOWN = [*AGE_BAND_ORDER, UNKNOWN]
STATUS_TEXT = {"open": "counting", "closed": "closed: counting the last votes", "certified": "certified"}


@dataclass(frozen=True)
class Leader:
    candidate_name: str
    party: str
    photo_url: str
    total_votes: int
    share_pct: float
    margin_votes: int | None  # over the runner-up (None with a single candidate)
    tied: bool


def _share(votes: pd.Series) -> pd.Series:
    total = votes.sum()
    return (100.0 * votes / total).round(2) if total else votes * 0.0


def candidate_results(
    candidates: pd.DataFrame, aggregated: pd.DataFrame, parties: tuple[str, ...] = ()
) -> pd.DataFrame:
    """One row per candidate (optionally of the given parties), most votes first, with their share of the votes
    cast for the candidates shown."""
    votes = aggregated.set_index("candidate_id")["total_votes"] if not aggregated.empty else pd.Series(dtype="int64")
    results = candidates.assign(
        total_votes=candidates["candidate_id"].map(votes).fillna(0).astype("int64"),
    )
    if parties:
        results = results[results["party"].isin(parties)]
    results = results.assign(share_pct=_share(results["total_votes"]))
    return results.sort_values(["total_votes", "candidate_name"], ascending=[False, True])[RESULT_COLUMNS].reset_index(
        drop=True
    )


def votes_in_states(per_state_candidate: pd.DataFrame, states: tuple[str, ...]) -> pd.DataFrame:
    """Votes per candidate among the voters of the given states (candidate_id, total_votes)."""
    chosen = per_state_candidate[per_state_candidate["state"].isin(states)]
    totals = chosen.groupby("candidate_id", as_index=False)["total_votes"].sum()
    return totals.astype({"total_votes": "int64"})


def status_line(status: str, closed_at: object = None, certified_at: object = None) -> str:
    """How an election's status reads on the page: "counting", "closed …", "certified at …"."""
    text = STATUS_TEXT.get(status, status)
    if status == "certified" and certified_at is not None and not pd.isna(certified_at):
        text += f" at {pd.Timestamp(certified_at).tz_convert('UTC'):%Y-%m-%d %H:%M} UTC"
    elif status == "closed" and closed_at is not None and not pd.isna(closed_at):
        text = f"closed at {pd.Timestamp(closed_at).tz_convert('UTC'):%Y-%m-%d %H:%M} UTC: counting the last votes"
    return text


def election_label(election_id: int, name: str | None, status: str | None) -> str:
    """An election as the selector lists it."""
    name = name or f"Election {election_id}"
    return f"#{election_id} · {name}" + (f" ({status})" if status else "")


def leader(results: pd.DataFrame) -> Leader | None:
    """The candidate ahead, once anyone has a vote."""
    if results.empty or int(results["total_votes"].iloc[0]) == 0:
        return None
    first = results.iloc[0]
    margin = int(first["total_votes"] - results["total_votes"].iloc[1]) if len(results) > 1 else None
    return Leader(
        candidate_name=str(first["candidate_name"]),
        party=str(first["party"]),
        photo_url=str(first["photo_url"]),
        total_votes=int(first["total_votes"]),
        share_pct=float(first["share_pct"]),
        margin_votes=margin,
        tied=margin == 0,
    )


def party_results(results: pd.DataFrame) -> pd.DataFrame:
    """Votes per party (one candidate per party in this data model, so it follows the candidates' rows)."""
    parties = results.groupby(["party", "party_color"], as_index=False)["total_votes"].sum()
    parties = parties.assign(share_pct=_share(parties["total_votes"]))
    return parties.sort_values("total_votes", ascending=False).reset_index(drop=True)


def state_results(regions: pd.DataFrame, aggregated: pd.DataFrame, states: tuple[str, ...] = ()) -> pd.DataFrame:
    """Every state (optionally only the given ones) with votes, registered voters and turnout %."""
    votes = aggregated.set_index("state")["total_votes"] if not aggregated.empty else pd.Series(dtype="int64")
    table = regions.assign(total_votes=regions["state_code"].map(votes).fillna(0).astype("int64"))
    registered = table["registered_voters"].astype("int64")
    turnout = (100.0 * table["total_votes"] / registered.where(registered > 0)).round(2)
    table = table.assign(registered_voters=registered, turnout_pct=turnout)
    if states:
        table = table[table["state_code"].isin(states)]
    return table[STATE_COLUMNS].reset_index(drop=True)


def turnout_pct(votes: int, registered: int) -> float | None:
    return round(100.0 * votes / registered, 2) if registered else None


def page_of(table: pd.DataFrame, sort_by: str, ascending: bool, page: int, page_size: int) -> pd.DataFrame:
    """One page (1-based, clamped) of the table sorted by a column."""
    pages = max(1, -(-len(table) // page_size))
    page = min(max(page, 1), pages)
    ordered = table.sort_values(sort_by, ascending=ascending, kind="stable", na_position="last")
    return ordered.iloc[(page - 1) * page_size : page * page_size]


def page_count(rows: int, page_size: int) -> int:
    return max(1, -(-rows // page_size))


def votes_over_time(minutes: pd.DataFrame, results: pd.DataFrame) -> pd.DataFrame:
    """Votes per minute per candidate shown (window_start, candidate_name, party_color, votes), in time order."""
    if minutes.empty or results.empty:
        return pd.DataFrame(columns=["window_start", "candidate_name", "party_color", "votes"])
    labelled = minutes.merge(results[["candidate_id", "candidate_name", "party_color"]], on="candidate_id")
    return labelled[["window_start", "candidate_name", "party_color", "votes"]].sort_values("window_start")


def demographics(cells: pd.DataFrame) -> pd.DataFrame:
    """Votes per gender × age band, with each cell's share of all votes; age bands in age order."""
    if cells.empty:
        return pd.DataFrame(columns=["gender", "age_band", "total_votes", "share_pct"])
    table = cells[["gender", "age_band", "total_votes"]].copy()
    table["share_pct"] = _share(table["total_votes"])
    table["age_band"] = pd.Categorical(table["age_band"], categories=AGE_BANDS_SHOWN, ordered=True)
    return table.sort_values(["age_band", "gender"]).reset_index(drop=True)
