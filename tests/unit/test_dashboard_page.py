"""The page, run by Streamlit's AppTest: every panel with fixture data, the empty states, and Kafka or PostgreSQL
down (real clients pointed at a port where nothing listens)."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

pytestmark = pytest.mark.filterwarnings("ignore")


def _page_with_fixtures(votes=None, postgres_down=False, no_election=False) -> None:
    import streamlit as st
    from dashboard_fixtures import fixture_sources

    from dashboard import render

    st.set_page_config(layout="wide")
    render.main(fixture_sources(votes, postgres_down=postgres_down, no_election=no_election))


def _page_with_kafka_down() -> None:
    from dashboard_fixtures import fixture_sources

    from dashboard import render
    from dashboard.data import AggregateFeed, dimension_topics
    from election.config import get_settings

    settings = get_settings()
    feed = AggregateFeed(
        kafka_config={**settings.kafka_client_config(), "bootstrap.servers": "localhost:1"},
        topics=dimension_topics(settings),
        dead_letter_topic=settings.topics.votes_dead_letter,
    )
    fixture = fixture_sources()
    render.main(render.Sources(feed.refresh, fixture.reference, fixture.candidate_votes_in_states))


def _page_with_postgres_down() -> None:
    import dataclasses

    from dashboard_fixtures import fixture_sources

    from dashboard import data, render
    from election.config import get_settings

    settings = get_settings()
    unreachable = dataclasses.replace(settings, election_db=dataclasses.replace(settings.election_db, port=1))
    database = data.ReadOnlyDatabase(unreachable)
    fixture = fixture_sources()
    render.main(
        render.Sources(
            fixture.feed,
            lambda _ttl: data.read_reference(database),
            lambda states, _ttl: data.read_candidate_votes_in_states(database, states),
        )
    )


def run(script, **kwargs) -> AppTest:
    app = AppTest.from_function(script, kwargs=kwargs, default_timeout=30).run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def metrics(app: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in app.metric}


def texts(app: AppTest) -> str:
    parts = [e.value for kind in ("markdown", "caption", "subheader", "info", "warning") for e in getattr(app, kind)]
    return "\n".join(str(p) for p in parts)


def test_every_panel_shows_the_fixture_election() -> None:
    app = run(_page_with_fixtures)
    assert metrics(app) == {
        "Registered voters": "200",
        "Votes cast": "100",
        "Turnout": "50.00 %",
        "Candidates": "3",
        "Last update (UTC)": "14:05:00",
    }
    page = texts(app)
    assert "Bea Red" in [s.value for s in app.subheader]  # the leader
    assert "Red · **55** votes · **55.00 %** of votes · margin over second: **25**" in page
    assert "PostgreSQL has recorded 100 votes — the stream is in step." in page
    for panel in (
        "Votes per candidate",
        "Vote share",
        "Votes per party",
        "Turnout by location",
        "Votes over time",
        "Demographics",
    ):
        assert panel in page
    table = app.dataframe[0].value
    assert table["Code"].tolist()[:2] == ["NY", "CA"]  # sorted by turnout (100 %, 60 %), highest first
    assert len(app.get("vega_lite_chart")) == 6  # bar, donut, party, map, over time, demographics
    assert not app.warning


def test_before_any_vote_the_page_says_so_and_still_shows_the_electorate() -> None:
    app = run(_page_with_fixtures, votes={})
    assert metrics(app)["Votes cast"] == "0"
    assert metrics(app)["Registered voters"] == "200"
    assert "No votes yet" in texts(app)
    assert "Leading candidate:** no votes yet" in texts(app)


def test_before_the_election_is_seeded_the_page_says_what_to_do() -> None:
    app = run(_page_with_fixtures, votes={}, no_election=True)
    assert "No election yet: trigger **election_schema** and **election_seed**" in texts(app)
    assert not app.metric


def test_the_filters_narrow_the_figures() -> None:
    app = AppTest.from_function(_page_with_fixtures, default_timeout=30).run()
    app.multiselect(key="parties").set_value(["Blue", "Green"]).run()
    assert metrics(app)["Candidates"] == "2"
    app.multiselect(key="states").set_value(["NY"]).run()
    assert metrics(app)["Votes cast (NY)"] == "40"
    assert metrics(app)["Registered voters (NY)"] == "40"
    assert "Ann Blue" in [s.value for s in app.subheader]  # the state split comes from PostgreSQL: 7 vs 3
    assert not app.exception


def test_pausing_keeps_the_page_and_says_so() -> None:
    app = AppTest.from_function(_page_with_fixtures, default_timeout=30).run()
    app.toggle(key="paused").set_value(True).run()
    assert not app.exception
    assert metrics(app)["Votes cast"] == "100"


def test_kafka_down_is_said_plainly_and_the_reference_still_shows() -> None:
    app = run(_page_with_kafka_down)
    warnings = [w.value for w in app.warning]
    assert any(w.startswith("Kafka is unreachable at localhost:1") and "retrying every 2 s" in w for w in warnings)
    assert metrics(app)["Registered voters"] == "200"
    assert metrics(app)["Votes cast"] == "0"


def test_postgres_down_is_said_plainly_and_the_stream_still_shows() -> None:
    app = run(_page_with_postgres_down)
    warnings = [w.value for w in app.warning]
    assert any(w.startswith("PostgreSQL is unreachable at localhost:1") for w in warnings)
    assert metrics(app)["Votes cast"] == "100"
    assert "c2" in [s.value for s in app.subheader]  # the leader, as the stream last labelled it
