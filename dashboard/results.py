"""The figures the page shows, computed from the feed's frames and PostgreSQL's reference: pure functions.

PostgreSQL is the truth for who the candidates and states are and how many voters registered; the stream is the
truth for how many votes each got. Joining them here means a candidate or a state with no vote yet still shows
(with 0), and a value left on a topic by an earlier election (a candidate PostgreSQL does not know) is counted
apart instead of being shown as a result.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from election.domain import AGE_BAND_ORDER, UNKNOWN
from election.results.race_calls import NATIONAL

NEUTRAL_COLOR = "#8c8c8c"
TIE, TIE_COLOR, NO_VOTE_COLOR = "tie", "#5b5b5b", "#ececec"  # a tied state (called: solid) / a state without votes
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


def stream_notice(age_seconds: float | None, max_age_seconds: float) -> str | None:
    """What the status line says about the vote stream from the age of its last heartbeat (None: it never beat);
    None while it is live."""
    if age_seconds is None:
        return "The vote stream has not run yet: unpause **election_streaming** in Airflow, and it starts by itself."
    if age_seconds <= max_age_seconds:
        return None
    since = f"{age_seconds:.0f} s" if age_seconds < 120 else f"{age_seconds / 60:.0f} min"
    return (
        f"The vote stream is down: its last heartbeat was {since} ago. Airflow's **election_streaming** brings it "
        "back by itself (unless the DAG is paused); the totals resume where they stopped."
    )


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


# -- Election night -----------------------------------------------------------------------------------------------

RACE_COLUMNS = [
    "state_code",
    "state_name",
    "tile_row",
    "tile_col",
    "electoral_votes",
    "registered_voters",
    "total_votes",
    "expected_votes",
    "pct_expected_counted",
    "remaining",
    "leader_name",
    "margin",
    "hurdle_pct",
    "status",
    "shown_name",
    "shown_color",
]


def hurdle_pct(margin: int, remaining: int) -> float | None:
    """The share of the remaining votes the runner-up would need to overtake the leader (two-way: it must win
    (remaining + margin) / 2 of them); above 100 % there is no path left. None with nothing remaining."""
    return round(100.0 * (remaining + margin) / (2 * remaining), 1) if remaining > 0 else None


def race_table(
    regions: pd.DataFrame,
    per_state: pd.DataFrame,
    per_state_candidate: pd.DataFrame,
    calls: pd.DataFrame,
    candidates: pd.DataFrame,
    *,
    closed: bool = False,
) -> pd.DataFrame:
    """One row per state: the count against the expected vote, the leader and margin, the votes remaining (its
    registered voters who have not voted; none once the election is closed) and the hurdle, and its call —
    `status` "called", "tie", "leading" or "no votes"; `shown_name`/`shown_color` the winner's when called, else
    the leader's."""
    names = dict(zip(candidates["candidate_id"], candidates["candidate_name"], strict=True))
    colors = dict(zip(candidates["candidate_id"], candidates["party_color"], strict=True))
    states = per_state.set_index("state") if not per_state.empty else pd.DataFrame()
    called = {} if calls.empty else {row.state: row for row in calls.itertuples()}
    ranked = per_state_candidate.sort_values(["state", "total_votes"], ascending=[True, False]).groupby("state")
    tops = {state: group["total_votes"].astype(int).tolist() for state, group in ranked}
    leaders = {state: str(group["candidate_id"].iloc[0]) for state, group in ranked}
    rows = []
    for region in regions.itertuples():
        code = region.state_code
        votes = int(states["total_votes"].get(code, 0)) if not states.empty else 0
        registered = int(region.registered_voters)
        expected = states["expected_votes"].get(code) if "expected_votes" in states else None
        expected = None if expected is None or pd.isna(expected) else int(expected)
        top = tops.get(code, [])
        margin = (top[0] - (top[1] if len(top) > 1 else 0)) if top else 0
        remaining = 0 if closed else max(registered - votes, 0)
        call = called.get(code)
        leader_id = leaders.get(code) if top and top[0] > 0 else None
        if call is not None and call.tie:
            status, shown = "tie", TIE
        elif call is not None:
            status, shown = "called", str(call.candidate_id)
        else:
            status, shown = ("leading", leader_id) if leader_id else ("no votes", None)
        rows.append(
            {
                "state_code": code,
                "state_name": region.state_name,
                "tile_row": region.tile_row,
                "tile_col": region.tile_col,
                "electoral_votes": int(getattr(region, "electoral_votes", 0) or 0),
                "registered_voters": registered,
                "total_votes": votes,
                "expected_votes": expected,
                "pct_expected_counted": round(100.0 * votes / expected, 1) if expected else None,
                "remaining": remaining,
                "leader_name": names.get(leader_id) if leader_id else None,
                "margin": margin,
                "hurdle_pct": hurdle_pct(margin, remaining) if leader_id and len(top) > 1 else None,
                "status": status,
                "shown_name": "tie" if shown == TIE else names.get(shown) if shown else None,
                "shown_color": TIE_COLOR
                if shown == TIE
                else colors.get(shown, NEUTRAL_COLOR)
                if shown
                else NO_VOTE_COLOR,
            }
        )
    return pd.DataFrame(rows, columns=RACE_COLUMNS)


def electoral_tally(race: pd.DataFrame, candidates: pd.DataFrame) -> pd.DataFrame:
    """Called electoral votes per candidate (every candidate, 0 included), most first."""
    won = race[race["status"] == "called"].groupby("shown_name")["electoral_votes"].sum()
    tally = candidates[["candidate_name", "party_color"]].assign(
        electoral_votes=candidates["candidate_name"].map(won).fillna(0).astype("int64")
    )
    return tally.sort_values(["electoral_votes", "candidate_name"], ascending=[False, True]).reset_index(drop=True)


def call_feed(calls: pd.DataFrame, race: pd.DataFrame, candidates: pd.DataFrame) -> list[str]:
    """The calls as a desk announces them, newest first: "20:14:03 — Texas called for …, margin 41,203, 96 %
    of the expected vote counted"."""
    if calls.empty:
        return []
    names = dict(zip(candidates["candidate_id"], candidates["candidate_name"], strict=True))
    states = race.set_index("state_code") if not race.empty else pd.DataFrame()
    lines = []
    for call in calls.sort_values("called_at", ascending=False).itertuples():
        at = f"{pd.Timestamp(call.called_at).tz_convert('UTC'):%H:%M:%S}"
        if call.state == NATIONAL:
            lines.append(f"{at} — **{_national_text(call, names)}**")
            continue
        name = states["state_name"].get(call.state, call.state) if not states.empty else call.state
        counted = states["pct_expected_counted"].get(call.state) if not states.empty else None
        share = "" if counted is None or pd.isna(counted) else f", {counted:.0f} % of the expected vote counted"
        if call.tie:
            lines.append(f"{at} — {name}: a tie, {int(call.votes):,} votes each")
        else:
            lines.append(
                f"{at} — {name} called for {names.get(call.candidate_id, call.candidate_id)}, "
                f"margin {int(call.margin):,}{share}"
            )
    return lines


def _national_text(call: Any, names: Mapping[str, str]) -> str:
    winner = names.get(call.candidate_id, call.candidate_id)
    if call.electoral_votes:
        return f"{winner} wins the election with {int(call.votes):,} electoral votes"
    return f"{winner} wins the election on the popular vote, margin {int(call.margin):,}"


def national_call(calls: pd.DataFrame, candidates: pd.DataFrame) -> str | None:
    """The national call as announced, or None before it is made."""
    national = calls[calls["state"] == NATIONAL] if not calls.empty else calls
    if national.empty:
        return None
    names = dict(zip(candidates["candidate_id"], candidates["candidate_name"], strict=True))
    return _national_text(next(national.itertuples()), names)


def national_expected_pct(race: pd.DataFrame) -> float | None:
    """The share of the national expected vote counted (None before an expected turnout is set)."""
    expected = race["expected_votes"].dropna()
    if expected.empty or expected.sum() == 0:
        return None
    return round(100.0 * race.loc[expected.index, "total_votes"].sum() / expected.sum(), 1)
