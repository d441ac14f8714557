"""The page: sidebar controls, then the live panels, re-run every refresh interval inside `st.fragment`.

Every source may be down: the page then says which and why, shows what it still has (the last values read from
Kafka, the reference from PostgreSQL), and keeps refreshing, so it recovers by itself when the service is back.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from dashboard import charts, results
from dashboard.data import FeedState, Reference, Sources, SourceUnavailableError
from election.avatars import avatar_svg, is_avatar_url
from election.regions import load_regions

REFRESH_CHOICES = (1, 2, 5, 10, 30)
DEFAULT_REFRESH = 2
PAGE_SIZE = 15


@dataclass(frozen=True)
class Controls:
    refresh_seconds: int
    paused: bool
    states: tuple[str, ...]
    parties: tuple[str, ...]


def main(sources: Sources) -> None:
    st.title("Election results")
    controls = sidebar(sources)
    run_every = None if controls.paused else controls.refresh_seconds
    st.fragment(run_every=run_every)(live_panels)(sources, controls)


def sidebar(sources: Sources) -> Controls:
    with st.sidebar:
        st.header("Live updates")
        refresh = st.selectbox(
            "Refresh every (seconds)", REFRESH_CHOICES, index=REFRESH_CHOICES.index(DEFAULT_REFRESH), key="refresh"
        )
        paused = st.toggle("Pause", key="paused", help="Stop refreshing; the page keeps the figures it shows.")
        st.header("Filters")
        try:
            reference = sources.reference(refresh)
            state_options = reference.regions["state_code"].tolist()
            party_options = reference.candidates["party"].tolist()
        except SourceUnavailableError:
            state_options, party_options = load_regions()["state_code"].tolist(), []
        states = st.multiselect("States", state_options, key="states", placeholder="All states")
        parties = st.multiselect("Parties", party_options, key="parties", placeholder="All parties")
    return Controls(refresh, paused, tuple(states), tuple(parties))


@dataclass(frozen=True)
class Figures:
    """Everything one refresh shows, computed before anything is drawn (and timed by the benchmark)."""

    candidates: pd.DataFrame
    states: pd.DataFrame
    leader: results.Leader | None
    series: pd.DataFrame
    cells: pd.DataFrame
    charts: dict[str, charts.Spec]


def figures(
    feed: FeedState, reference: Reference, controls: Controls, candidate_votes: pd.DataFrame | None = None
) -> Figures:
    """The page's figures and charts. `candidate_votes` replaces the stream's per-candidate totals when a state
    filter is on (the split within states comes from PostgreSQL)."""
    aggregated = feed.frames["candidate"] if candidate_votes is None else candidate_votes
    candidates = results.candidate_results(reference.candidates, aggregated, controls.parties)
    states = results.state_results(reference.regions, feed.frames["state"], controls.states)
    series = results.votes_over_time(feed.frames["minute"], candidates)
    cells = results.demographics(feed.frames["demographic"])
    built = {
        "votes_per_candidate": charts.votes_per_candidate(candidates),
        "vote_share": charts.vote_share(candidates),
        "votes_per_party": charts.votes_per_party(results.party_results(candidates)),
        "turnout_map": charts.turnout_map(states, controls.states),
    }
    if not series.empty:
        built["votes_over_time"] = charts.votes_over_time(series)
    if not cells.empty:
        built["demographics"] = charts.demographics_heatmap(cells)
    return Figures(candidates, states, results.leader(candidates), series, cells, built)


def live_panels(sources: Sources, controls: Controls) -> None:
    feed = sources.feed()
    try:
        reference, reference_error = sources.reference(controls.refresh_seconds), None
    except SourceUnavailableError as exc:
        reference, reference_error = fallback_reference(feed), str(exc)

    status(feed, reference_error, controls)
    if reference.candidates.empty and not feed.frames["candidate"].size:
        st.info("No election yet: trigger **election_schema** and **election_seed** in Airflow.")
        return

    candidate_votes = None
    if controls.states:
        try:
            candidate_votes = sources.candidate_votes_in_states(controls.states, controls.refresh_seconds)
        except SourceUnavailableError as exc:
            st.warning(f"The split by candidate within the selected states needs PostgreSQL. {exc}")
            candidate_votes = feed.frames["candidate"].iloc[0:0]
    shown = figures(feed, reference, controls, candidate_votes)

    kpis(feed, reference, shown.candidates, shown.states, controls)
    if shown.candidates["total_votes"].sum() == 0:
        st.info("No votes yet. Once **election_streaming** runs, trigger **election_vote_simulation** in Airflow.")
    leading_candidate(shown.leader)
    candidate_panels(shown)
    location_panels(shown, controls)
    time_and_demographics(shown, controls)


def fallback_reference(feed: FeedState) -> Reference:
    """What the page can show while PostgreSQL is down: candidates and registered voters as the stream last
    published them, states from the reference file shipped in the repo."""
    aggregated = feed.frames["candidate"]
    candidates = aggregated[["candidate_id", "candidate_name", "party", "photo_url"]].assign(
        party_color=results.NEUTRAL_COLOR
    )
    regions = load_regions()[["state_code", "state_name", "tile_row", "tile_col"]]
    registered = feed.frames["state"].set_index("state")["registered_voters"]
    regions = regions.assign(registered_voters=regions["state_code"].map(registered).fillna(0).astype("int64"))
    return Reference(candidates=candidates, regions=regions, votes_recorded=None)


def status(feed: FeedState, reference_error: str | None, controls: Controls) -> None:
    every = "paused" if controls.paused else f"retrying every {controls.refresh_seconds} s"
    if feed.error:
        seen = f" Showing the values read at {feed.read_at:%H:%M:%S} UTC." if feed.read_at else ""
        st.warning(f"{feed.error}.{seen} ({every})", icon="⚠️")
    if reference_error:
        st.warning(f"{reference_error} ({every})", icon="⚠️")
    if not feed.caught_up:
        st.caption("Catching up with the aggregated topics…")


def kpis(
    feed: FeedState, reference: Reference, candidates: pd.DataFrame, states: pd.DataFrame, controls: Controls
) -> None:
    votes = int(states["total_votes"].sum()) if controls.states else int(feed.frames["candidate"]["total_votes"].sum())
    registered = int(states["registered_voters"].sum())
    turnout = results.turnout_pct(votes, registered)
    scope = f" ({', '.join(controls.states)})" if controls.states else ""
    columns = st.columns(5)
    columns[0].metric(f"Registered voters{scope}", f"{registered:,}")
    columns[1].metric(f"Votes cast{scope}", f"{votes:,}")
    columns[2].metric("Turnout", "–" if turnout is None else f"{turnout:.2f} %")
    columns[3].metric("Candidates", f"{len(candidates):,}")
    last = feed.last_update
    if last is None:
        columns[4].metric("Last update (UTC)", "–")
    else:
        age = (pd.Timestamp.now(tz="UTC") - last).total_seconds()
        columns[4].metric(
            "Last update (UTC)", f"{last:%H:%M:%S}", f"{_age(age)} ago", delta_color="off", delta_arrow="off"
        )
    notes = []
    if reference.votes_recorded is not None and not controls.states:
        streamed = int(feed.frames["candidate"]["total_votes"].sum())
        gap = reference.votes_recorded - streamed
        notes.append(
            f"PostgreSQL has recorded {reference.votes_recorded:,} votes"
            + (" — the stream is in step." if gap == 0 else f" — {gap:,} not yet aggregated by the stream.")
        )
    if feed.dead_letters:
        notes.append(f"{feed.dead_letters:,} malformed votes set aside on the dead-letter topic.")
    unknown = results.unknown_candidates(reference.candidates, feed.frames["candidate"])
    if unknown:
        notes.append(f"{unknown} aggregated candidates are unknown to PostgreSQL (left by an earlier election).")
    if notes:
        st.caption(" ".join(notes))


def _age(seconds: float) -> str:
    seconds = max(seconds, 0)
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def leading_candidate(leader: results.Leader | None) -> None:
    with st.container(border=True, key="leader"):
        if leader is None:
            st.markdown("**Leading candidate:** no votes yet")
            return
        photo, text = st.columns([1, 5])
        if is_avatar_url(leader.photo_url):
            photo.image(avatar_svg(leader.photo_url, size=112), width=112)
        title = "Tied for the lead" if leader.tied else "Leading candidate"
        text.caption(title)
        text.subheader(leader.candidate_name)
        margin = "" if leader.margin_votes is None else f" · margin over second: **{leader.margin_votes:,}**"
        text.markdown(
            f"{leader.party} · **{leader.total_votes:,}** votes · **{leader.share_pct:.2f} %** of votes{margin}"
        )


def candidate_panels(shown: Figures) -> None:
    left, right = st.columns([3, 2])
    with left:
        st.subheader("Votes per candidate")
        st.vega_lite_chart(shown.charts["votes_per_candidate"], width="stretch")
    with right:
        st.subheader("Vote share")
        st.vega_lite_chart(shown.charts["vote_share"], width="stretch")
    st.subheader("Votes per party")
    st.vega_lite_chart(shown.charts["votes_per_party"], width="stretch")


def location_panels(shown: Figures, controls: Controls) -> None:
    st.subheader("Turnout by location")
    map_column, table_column = st.columns([3, 2])
    with map_column:
        st.vega_lite_chart(shown.charts["turnout_map"], width="stretch")
    with table_column:
        table = shown.states[["state_code", "state_name", "total_votes", "registered_voters", "turnout_pct"]].rename(
            columns={
                "state_code": "Code",
                "state_name": "State",
                "total_votes": "Votes",
                "registered_voters": "Registered",
                "turnout_pct": "Turnout %",
            }
        )
        sort_column, order_column, page_column = st.columns(3)
        sort_by = sort_column.selectbox("Sort by", list(table.columns), index=4, key="sort_by")
        descending = order_column.toggle("Descending", value=True, key="descending")
        pages = results.page_count(len(table), PAGE_SIZE)
        page = page_column.number_input(f"Page (of {pages})", 1, pages, 1, key="page")
        st.dataframe(
            results.page_of(table, sort_by, not descending, int(page), PAGE_SIZE),
            hide_index=True,
            width="stretch",
            column_config={
                "Votes": st.column_config.NumberColumn(format="localized"),
                "Registered": st.column_config.NumberColumn(format="localized"),
                "Turnout %": st.column_config.ProgressColumn(min_value=0, max_value=100, format="%.2f"),
            },
        )


def time_and_demographics(shown: Figures, controls: Controls) -> None:
    scope = " (all states)" if controls.states else ""
    left, right = st.columns(2)
    with left:
        _optional_chart(
            shown,
            "Votes over time",
            "votes_over_time",
            f"Votes per minute of voting time, per candidate{scope}.",
            "Per-minute votes appear with the first vote.",
        )
    with right:
        _optional_chart(
            shown,
            "Demographics",
            "demographics",
            f"Votes by gender × age band; labels are % of all votes{scope}.",
            "Votes by gender and age band appear with the first vote.",
        )


def _optional_chart(shown: Figures, title: str, chart: str, caption: str, before_first_vote: str) -> None:
    """A panel whose chart exists only once there are votes; before that it says when it will appear."""
    st.subheader(title)
    if chart in shown.charts:
        st.vega_lite_chart(shown.charts[chart], width="stretch")
        st.caption(caption)
    else:
        st.caption(before_first_vote)
