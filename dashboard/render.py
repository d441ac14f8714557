"""The page: sidebar controls (the election shown, refresh, filters), then the live panels of that election,
re-run every refresh interval inside `st.fragment`.

The election shown is kept in the URL (`?election=<id>`), so a view can be shared; without one, the newest
election is shown. Every source may be down: the page then says which and why, shows what it still has (the last
values read from Kafka, the reference from PostgreSQL), and keeps refreshing, so it recovers by itself when the
service is back.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from dashboard import charts, results
from dashboard.data import FeedState, Reference, Sources, SourceUnavailableError
from election.avatars import avatar_svg, is_avatar_url
from election.config import get_settings
from election.regions import load_regions
from election.results.race_calls import majority

REFRESH_CHOICES = (1, 2, 5, 10, 30)
DEFAULT_REFRESH = 2
PAGE_SIZE = 15


@dataclass(frozen=True)
class Controls:
    refresh_seconds: int
    paused: bool
    election: Election | None  # None: there is no election yet
    states: tuple[str, ...]
    parties: tuple[str, ...]


@dataclass(frozen=True)
class Election:
    """The election shown, as the selector knows it."""

    election_id: int
    name: str
    status: str | None  # None: unknown (PostgreSQL is down)
    closed_at: object = None
    certified_at: object = None

    @property
    def certified(self) -> bool:
        return self.status == "certified"


def main(sources: Sources) -> None:
    st.title("Election results")
    controls = sidebar(sources)
    run_every = None if controls.paused else controls.refresh_seconds
    st.fragment(run_every=run_every)(live_panels)(sources, controls)


def known_elections(sources: Sources, refresh: int) -> tuple[list[Election], str | None]:
    """The elections to choose from, newest first: PostgreSQL's, or, while it is down, the ones on the topics."""
    try:
        frame = sources.elections(refresh)
    except SourceUnavailableError as exc:
        ids = sorted(set(sources.feed().frames["candidate"]["election_id"].dropna().astype(int)), reverse=True)
        return [Election(e, f"Election {e}", None) for e in ids], str(exc)
    return [
        Election(int(row.election_id), str(row.name), str(row.status), row.closed_at, row.certified_at)
        for row in frame.itertuples()
    ], None


def choose_election(options: list[Election]) -> Election | None:
    """The selector, kept in step with `?election=<id>` in the URL (default: the newest election)."""
    if not options:
        return None
    ids = [e.election_id for e in options]
    wanted = st.query_params.get("election")
    if "election" not in st.session_state or st.session_state["election"] not in ids:
        requested = int(wanted) if wanted and wanted.isdigit() and int(wanted) in ids else ids[0]
        st.session_state["election"] = requested
    by_id = {e.election_id: e for e in options}
    chosen = st.selectbox(
        "Election",
        ids,
        key="election",
        format_func=lambda e: results.election_label(e, by_id[e].name, by_id[e].status),
    )
    if st.query_params.get("election") != str(chosen):
        st.query_params["election"] = str(chosen)
    return by_id[chosen]


def sidebar(sources: Sources) -> Controls:
    with st.sidebar:
        st.header("Live updates")
        refresh = st.selectbox(
            "Refresh every (seconds)", REFRESH_CHOICES, index=REFRESH_CHOICES.index(DEFAULT_REFRESH), key="refresh"
        )
        paused = st.toggle("Pause", key="paused", help="Stop refreshing; the page keeps the figures it shows.")
        options, _ = known_elections(sources, refresh)
        election = choose_election(options)
        st.header("Filters")
        try:
            if election is None:
                raise SourceUnavailableError("no election")
            reference = sources.reference(election.election_id, refresh)
            state_options = reference.regions["state_code"].tolist()
            party_options = reference.candidates["party"].tolist()
        except SourceUnavailableError:
            state_options, party_options = load_regions()["state_code"].tolist(), []
        states = st.multiselect("States", state_options, key="states", placeholder="All states")
        parties = st.multiselect("Parties", party_options, key="parties", placeholder="All parties")
    return Controls(refresh, paused, election, tuple(states), tuple(parties))


@dataclass(frozen=True)
class Figures:
    """Everything one refresh shows, computed before anything is drawn (and timed by the benchmark)."""

    candidates: pd.DataFrame
    states: pd.DataFrame
    leader: results.Leader | None
    series: pd.DataFrame
    cells: pd.DataFrame
    charts: dict[str, charts.Spec]
    race: pd.DataFrame  # per state: the count against the expected vote, the call or the leader
    calls: list[str]  # the feed of calls, newest first
    national: str | None  # the national call, as announced
    needed: int | None  # electoral votes to win (None: the map has none)
    tally: pd.DataFrame  # called electoral votes per candidate


def figures(feed: FeedState, reference: Reference, controls: Controls, *, closed: bool = False) -> Figures:
    """The page's figures and charts, for one election's feed. With a state filter on, the per-candidate totals are
    those within the states (the stream's per-state-and-candidate totals); once the election is certified, its
    certified count."""
    if controls.states:
        aggregated = results.votes_in_states(feed.frames["state_candidate"], controls.states)
    elif reference.certified is not None:
        aggregated = reference.certified
    else:
        aggregated = feed.frames["candidate"]
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
    calls = feed.frames["race_call"]
    race = results.race_table(
        reference.regions,
        feed.frames["state"],
        feed.frames["state_candidate"],
        calls,
        reference.candidates,
        closed=closed,
    )
    built["race_map"] = charts.race_map(race)
    votes = dict(zip(race["state_code"], race["electoral_votes"], strict=True))
    needed = majority(votes) if sum(votes.values()) else None
    tally = results.electoral_tally(race, reference.candidates)
    if needed:
        built["electoral_bar"] = charts.electoral_bar(tally, needed)
    return Figures(
        candidates,
        states,
        results.leader(candidates),
        series,
        cells,
        built,
        race,
        results.call_feed(calls, race, reference.candidates),
        results.national_call(calls, reference.candidates),
        needed,
        tally,
    )


def live_panels(sources: Sources, controls: Controls) -> None:
    election = controls.election
    if election is None:
        every_feed = sources.feed()
        status(every_feed, None, controls, stream_notice(sources, controls))
        st.info("No election yet: trigger **election_schema**, then **election_seed** in Airflow.")
        return
    # the status moves while the page is open (closed, certified): read it again at every refresh
    fresh = {e.election_id: e for e in known_elections(sources, controls.refresh_seconds)[0]}
    election = fresh.get(election.election_id, election)
    feed = sources.feed().for_election(election.election_id)
    try:
        reference, reference_error = sources.reference(election.election_id, controls.refresh_seconds), None
    except SourceUnavailableError as exc:
        reference, reference_error = fallback_reference(feed), str(exc)

    status(feed, reference_error, controls, stream_notice(sources, controls))
    election_header(election, reference)
    if reference.candidates.empty and not feed.frames["candidate"].size:
        st.info("This election has no candidates to show yet.")
        return

    shown = figures(feed, reference, controls, closed=election.status in ("closed", "certified"))

    kpis(feed, reference, shown.candidates, shown.states, controls)
    if shown.candidates["total_votes"].sum() == 0:
        st.info("No votes yet. Once **election_streaming** runs, trigger **election_vote_simulation** in Airflow.")
    leading_candidate(shown.leader)
    election_night(shown, election)
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
    return Reference(candidates=candidates, regions=regions, votes_recorded=None, certified=None)


def election_header(election: Election, reference: Reference) -> None:
    """Which election this is and where it stands: counting, closed, or certified (with when)."""
    state = (
        "status unknown"
        if election.status is None
        else results.status_line(election.status, election.closed_at, election.certified_at)
    )
    figures_are = "certified results" if reference.certified is not None else "unofficial results"
    with st.container(key="election-status"):
        st.markdown(f"**{election.name}** · election #{election.election_id} · **{state}** · {figures_are}")


def stream_notice(sources: Sources, controls: Controls) -> str | None:
    """The stream's state from its heartbeat, when the page watches it (an unreadable heartbeat says nothing here:
    the feed's own warning covers Kafka)."""
    if sources.stream is None:
        return None
    try:
        beat = sources.stream(controls.refresh_seconds)
    except SourceUnavailableError:
        return None
    return results.stream_notice(None if beat is None else beat.age, get_settings().heartbeat_max_age)


def status(feed: FeedState, reference_error: str | None, controls: Controls, stream: str | None = None) -> None:
    every = "paused" if controls.paused else f"retrying every {controls.refresh_seconds} s"
    if stream:
        st.warning(stream, icon="⚠️")
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
    if controls.states:
        votes = int(states["total_votes"].sum())
    elif reference.certified is not None:
        votes = int(reference.certified["total_votes"].sum())
    else:
        votes = int(feed.frames["candidate"]["total_votes"].sum())
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
    if feed.dead_letter_count:
        reasons = ", ".join(
            f"{row.reason} {row.records:,}" for row in feed.dead_letters.sort_values("reason").itertuples()
        )
        notes.append(f"{feed.dead_letter_count:,} records rejected to the dead-letter topic ({reasons}).")
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


def election_night(shown: Figures, election: Election) -> None:
    """Race calls as a news desk publishes them: the electoral-vote bar, the map of calls, the feed, and per
    state the expected vote counted, the votes remaining and the hurdle. Unofficial until certified."""
    with st.container(border=True, key="election-night"):
        st.subheader("Election night")
        official = "Certified." if election.certified else "**Unofficial** until the election is certified."
        counted = results.national_expected_pct(shown.race)
        if counted is not None:
            official += f" {counted:.0f} % of the expected vote counted nationally."
        st.caption(
            f"{official} A state is called only when its leader's margin is larger than the votes that could still "
            "come in there: a call is never withdrawn. Solid: called; faint: leading, not yet called."
        )
        if shown.national:
            st.success(shown.national)
        elif (
            election.status in ("closed", "certified")
            and shown.needed
            and not (shown.race["status"] == "leading").any()
        ):
            st.info(f"No candidate reached {shown.needed} electoral votes: no national call (the House would decide).")
        if "electoral_bar" in shown.charts:
            st.vega_lite_chart(shown.charts["electoral_bar"], width="stretch")
            st.caption(
                "Electoral votes called: "
                + " · ".join(f"{row.candidate_name} **{row.electoral_votes:,}**" for row in shown.tally.itertuples())
            )
        map_column, feed_column = st.columns([3, 2])
        with map_column:
            st.vega_lite_chart(shown.charts["race_map"], width="stretch")
        with feed_column:
            st.markdown("**Calls**")
            with st.container(height=320, key="call-feed"):
                if shown.calls:
                    st.markdown("\n".join(f"- {line}" for line in shown.calls))
                else:
                    st.caption("No state called yet: every race is still too close to call.")
        open_races = shown.race[shown.race["status"] == "leading"]
        if not open_races.empty:
            st.markdown("**Too close to call**")
            table = open_races[
                ["state_name", "leader_name", "margin", "remaining", "hurdle_pct", "pct_expected_counted"]
            ].rename(
                columns={
                    "state_name": "State",
                    "leader_name": "Leading",
                    "margin": "Margin",
                    "remaining": "Votes remaining",
                    "hurdle_pct": "Hurdle %",
                    "pct_expected_counted": "% expected counted",
                }
            )
            st.dataframe(table.sort_values("Margin"), hide_index=True, width="stretch", height=220)


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
