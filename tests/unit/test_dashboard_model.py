"""The dashboard's pure parts: the latest-per-key reader, the figures, and the chart builders."""

from __future__ import annotations

import json

import jsonschema
import pandas as pd
import pytest
from altair.vegalite.v6.schema import load_schema
from dashboard_fixtures import CANDIDATES, ELECTION, REGIONS, candidate_frame, fixture_feed, state_frame

from dashboard import charts, results
from dashboard.data import frame_of
from election.compacted import LatestByKey


def _value(total: int) -> bytes:
    return json.dumps({"candidate_id": "a", "total_votes": total}).encode()


def test_the_highest_offset_wins_whatever_the_arrival_order() -> None:
    latest = LatestByKey()
    latest.apply(0, 7, "a", _value(70))
    latest.apply(0, 3, "a", _value(30))  # older, arrives later
    latest.apply(0, 5, "a", _value(50))
    assert latest.values() == [{"candidate_id": "a", "total_votes": 70}]


def test_repeated_messages_change_nothing() -> None:
    latest = LatestByKey()
    latest.apply(0, 1, "a", _value(10))
    version = latest.version
    latest.apply(0, 1, "a", _value(10))
    latest.apply(0, 1, "a", _value(99))  # same offset again: a re-delivery, not a new value
    assert latest.values() == [{"candidate_id": "a", "total_votes": 10}]
    assert latest.version == version


def test_keys_are_independent_and_tombstones_remove_them() -> None:
    latest = LatestByKey()
    latest.apply(0, 1, "a", _value(1))
    latest.apply(0, 2, "b", _value(2))
    latest.apply(0, 3, "a", None)
    assert [v["total_votes"] for v in latest.values()] == [2]
    latest.apply(0, 2, "a", _value(5))  # older than the tombstone: the key stays deleted
    assert len(latest) == 1


def test_unreadable_values_are_counted_not_kept() -> None:
    latest = LatestByKey()
    latest.apply(0, 1, "a", b"{not json")
    latest.apply(0, 2, "b", b"[1, 2]")
    assert len(latest) == 0
    assert latest.rejected == 2


def test_every_dimension_frame_has_its_columns_even_empty() -> None:
    frame = frame_of("state", [])
    assert list(frame.columns) == [
        "election_id",
        "state",
        "total_votes",
        "registered_voters",
        "turnout_pct",
        "expected_votes",
        "pct_expected_counted",
        "updated_at",
    ]
    assert frame.empty
    assert "called_at" in frame_of("race_call", []).columns


def test_candidate_results_join_postgres_and_the_stream() -> None:
    table = results.candidate_results(CANDIDATES, candidate_frame({"c1": 30, "c2": 60, "ghost": 500}))
    assert table["candidate_id"].tolist() == ["c2", "c1", "c3"]  # most votes first; c3 has none yet
    assert table["total_votes"].tolist() == [60, 30, 0]
    assert table["share_pct"].tolist() == [66.67, 33.33, 0.0]


def test_the_party_filter_keeps_its_candidates_and_recomputes_shares() -> None:
    table = results.candidate_results(CANDIDATES, candidate_frame({"c1": 30, "c2": 60}), parties=("Blue", "Green"))
    assert table["party"].tolist() == ["Blue", "Green"]
    assert table["share_pct"].tolist() == [100.0, 0.0]


def test_the_leader_has_share_and_margin() -> None:
    leader = results.leader(results.candidate_results(CANDIDATES, candidate_frame({"c1": 30, "c2": 60, "c3": 10})))
    assert leader == results.Leader("Bea Red", "Red", "avatars/candidates/c2.svg", 60, 60.0, 30, tied=False)


def test_no_leader_before_the_first_vote_and_ties_are_said() -> None:
    assert results.leader(results.candidate_results(CANDIDATES, candidate_frame({}))) is None
    tied = results.leader(results.candidate_results(CANDIDATES, candidate_frame({"c1": 5, "c2": 5})))
    assert tied is not None
    assert tied.tied
    assert tied.margin_votes == 0


def test_state_results_cover_every_state_with_turnout() -> None:
    table = results.state_results(REGIONS, state_frame({"CA": 50, "TX": 10}))
    by_state = table.set_index("state_code")
    assert len(table) == len(REGIONS)
    assert by_state.loc["CA", "turnout_pct"] == 50.0
    assert by_state.loc["NY", "total_votes"] == 0
    assert pd.isna(by_state.loc["WY", "turnout_pct"])  # no registered voter: no turnout, not a division by zero
    assert results.state_results(REGIONS, state_frame({}), states=("TX",))["state_code"].tolist() == ["TX"]


def test_pages_are_sorted_then_cut_and_clamped() -> None:
    table = pd.DataFrame({"n": range(23)})
    assert results.page_of(table, "n", False, 1, 10)["n"].tolist() == list(range(22, 12, -1))
    assert results.page_of(table, "n", True, 3, 10)["n"].tolist() == [20, 21, 22]
    assert results.page_of(table, "n", True, 9, 10)["n"].tolist() == [20, 21, 22]
    assert results.page_count(23, 10) == 3
    assert results.page_count(0, 10) == 1


def test_demographics_are_in_age_order_with_shares() -> None:
    cells = frame_of(
        "demographic",
        [
            {"gender": "male", "age_band": "65+", "total_votes": 1, "updated_at": "2026-11-03T10:00:00.000Z"},
            {"gender": "female", "age_band": "18-24", "total_votes": 3, "updated_at": "2026-11-03T10:00:00.000Z"},
        ],
    )
    table = results.demographics(cells)
    assert table["age_band"].astype(str).tolist() == ["18-24", "65+"]
    assert table["share_pct"].tolist() == [75.0, 25.0]


def test_votes_over_time_are_labelled_and_in_time_order() -> None:
    feed = fixture_feed().for_election(ELECTION)
    series = results.votes_over_time(
        feed.frames["minute"], results.candidate_results(CANDIDATES, feed.frames["candidate"])
    )
    assert series["window_start"].is_monotonic_increasing
    assert set(series["candidate_name"]) == {"Ann Blue", "Bea Red", "Cy Green"}


@pytest.fixture
def shown():
    feed = fixture_feed().for_election(ELECTION)
    return results.candidate_results(CANDIDATES, feed.frames["candidate"]), feed


def _spec(spec: dict) -> dict:
    """The spec, validated against the Vega-Lite schema Altair ships (the version Streamlit renders)."""
    jsonschema.validate(spec, load_schema())
    json.dumps(spec)  # JSON-ready: what Streamlit sends to the browser
    return spec


def _data(spec: dict) -> list[dict]:
    return spec["data"]["values"]


def test_candidate_charts_colour_each_candidate_by_party(shown) -> None:
    table, _ = shown
    for chart in (charts.votes_per_candidate(table), charts.vote_share(table)):
        spec = _spec(chart)
        scale = json.dumps(spec)
        assert all(color in scale for color in CANDIDATES["party_color"])
        assert sorted(row["total_votes"] for row in _data(spec)) == sorted(table["total_votes"])


def test_the_bars_are_in_results_order_most_votes_first(shown) -> None:
    table, _ = shown
    spec = _spec(charts.votes_per_candidate(table))
    assert spec["encoding"]["y"]["sort"] == ["Bea Red", "Ann Blue", "Cy Green"]


def test_party_chart_has_one_bar_per_party(shown) -> None:
    table, _ = shown
    spec = _spec(charts.votes_per_party(results.party_results(table)))
    assert {row["party"] for row in _data(spec)} == {"Blue", "Red", "Green"}
    assert spec["mark"]["type"] == "bar"


def test_the_map_is_a_tile_grid_with_no_external_geometry(shown) -> None:
    _, feed = shown
    spec = _spec(charts.turnout_map(results.state_results(REGIONS, feed.frames["state"]), highlighted=("CA",)))
    text = json.dumps(spec)
    assert '"url"' not in text  # data inline: no topojson, no tiles
    assert "geo" not in text
    rows = _data(spec)
    assert len(rows) == len(REGIONS)
    assert [row["state_code"] for row in rows if row["highlighted"]] == ["CA"]
    assert {layer["mark"]["type"] for layer in spec["layer"]} == {"rect", "text"}


def test_time_and_demographic_charts(shown) -> None:
    table, feed = shown
    line = _spec(charts.votes_over_time(results.votes_over_time(feed.frames["minute"], table)))
    assert line["encoding"]["x"]["type"] == "temporal"
    heat = _spec(charts.demographics_heatmap(results.demographics(feed.frames["demographic"])))
    assert heat["encoding"]["x"]["sort"][0] == "18-24"


def test_election_night_colours_calls_solid_and_leaders_faint_and_counts_electoral_votes() -> None:
    feed = fixture_feed().for_election(ELECTION)
    calls = feed.frames["race_call"]
    race = results.race_table(REGIONS, feed.frames["state"], feed.frames["state_candidate"], calls, CANDIDATES)
    by_state = race.set_index("state_code")
    assert by_state.loc["NY", ["status", "shown_name", "shown_color"]].tolist() == ["called", "Bea Red", "#d62728"]
    assert by_state.loc["CA", ["status", "shown_name", "margin", "remaining"]].tolist() == [
        "leading",
        "Ann Blue",
        4,
        40,
    ]
    assert by_state.loc["TX", "status"] == "no votes"
    closed = results.race_table(
        REGIONS, feed.frames["state"], feed.frames["state_candidate"], calls, CANDIDATES, closed=True
    )
    assert closed.set_index("state_code").loc["CA", "remaining"] == 0, "a closed election takes no more voters"
    tally = results.electoral_tally(race, CANDIDATES)
    assert tally[["candidate_name", "electoral_votes"]].values.tolist() == [
        ["Bea Red", 28],
        ["Ann Blue", 0],
        ["Cy Green", 0],
    ]
    assert results.national_expected_pct(race) is None, "no expected turnout in the fixture"
    expected = race.assign(expected_votes=[70.0, 28.0, 42.0, 0.0])
    assert results.national_expected_pct(expected) == round(100 * 100 / 140, 1)
    assert results.hurdle_pct(4, 40) == 55.0
    assert results.hurdle_pct(50, 40) > 100, "no path left: what a call means"
    assert results.hurdle_pct(3, 0) is None
    bar = _spec(charts.electoral_bar(tally, 270))
    assert bar["layer"][1]["data"]["values"] == [{"needed": 270, "label": "270 to win"}]
    spec = _spec(charts.race_map(race))
    assert {row["state_code"]: row["status"] for row in _data(spec)}["NY"] == "called"
    assert results.national_call(calls, CANDIDATES) is None
    national = pd.concat(
        [
            calls,
            frame_of(
                "race_call",
                [{**calls.iloc[0].to_dict(), "state": "national", "votes": 270, "called_at": "2026-11-03T14:05:00Z"}],
            ),
        ]
    )
    assert results.national_call(national, CANDIDATES) == "Bea Red wins the election with 270 electoral votes"
    assert results.call_feed(national, race, CANDIDATES)[0].startswith("14:05:00 — **Bea Red wins")
