"""The page, run by Streamlit's AppTest: every panel with fixture data, the empty states, and Kafka or PostgreSQL
down (real clients pointed at a port where nothing listens)."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

pytestmark = pytest.mark.filterwarnings("ignore")


def _page_with_fixtures(votes=None, postgres_down=False, no_election=False, certified=False) -> None:
    import streamlit as st
    from dashboard_fixtures import fixture_sources

    from dashboard import render

    st.set_page_config(layout="wide")
    render.main(fixture_sources(votes, postgres_down=postgres_down, no_election=no_election, certified=certified))


def _page_with_kafka_down() -> None:
    from dashboard_fixtures import fixture_sources

    from dashboard import render
    from dashboard.data import AggregateFeed, dimension_topics
    from election.config import get_settings

    settings = get_settings()
    feed = AggregateFeed(
        kafka_config={**settings.kafka_client_config(), "bootstrap.servers": "localhost:1"},
        topics=dimension_topics(settings.topics),
        dead_letter_topic=settings.topics.votes_dead_letter,
    )
    fixture = fixture_sources()
    render.main(render.Sources(feed.refresh, fixture.elections, fixture.reference))


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
            lambda _ttl: data.read_elections(database),
            lambda election_id, _ttl: data.read_reference(database, election_id),
        )
    )


def _page_with_stream_heartbeat(age: float | None) -> None:
    import dataclasses

    from dashboard_fixtures import fixture_sources

    from dashboard import render
    from election.heartbeat import Heartbeat

    beat = None if age is None else Heartbeat(age, (7,))
    render.main(dataclasses.replace(fixture_sources(), stream=lambda _ttl: beat))


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
    assert app.query_params["election"] == "7", "the newest election, kept in the URL"
    assert "**Fixture election** · election #7 · **counting** · unofficial results" in texts(app)
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
        "Election night",
    ):
        assert panel in page
    # election night: the call feed, the races still open with their hurdle, unofficial until certified
    assert "- 14:04:00 — New York called for Bea Red, margin 21" in page
    assert "**Unofficial** until the election is certified." in page
    races = app.dataframe[0].value
    assert races["State"].tolist() == ["California"], "CA (7-3 with 90 still to vote) is too close to call"
    assert races[["Margin", "Votes remaining", "Hurdle %"]].iloc[0].tolist() == [4, 40, 55.0]
    table = app.dataframe[1].value
    assert table["Code"].tolist()[:2] == ["NY", "CA"]  # sorted by turnout (100 %, 60 %), highest first
    # electoral-vote bar, race map, bar, donut, party, turnout map, over time, demographics
    assert len(app.get("vega_lite_chart")) == 8
    assert not app.warning


def test_before_any_vote_the_page_says_so_and_still_shows_the_electorate() -> None:
    app = run(_page_with_fixtures, votes={})
    assert metrics(app)["Votes cast"] == "0"
    assert metrics(app)["Registered voters"] == "200"
    assert "No votes yet" in texts(app)
    assert "Leading candidate:** no votes yet" in texts(app)


def test_before_the_election_is_seeded_the_page_says_what_to_do() -> None:
    app = run(_page_with_fixtures, votes={}, no_election=True)
    assert "No election yet: trigger **election_schema**, then **election_seed**" in texts(app)
    assert not app.metric


def test_an_election_named_in_the_url_is_shown_and_the_selector_follows_it() -> None:
    app = AppTest.from_function(_page_with_fixtures, default_timeout=30)
    app.query_params["election"] = "3"
    app.run()
    assert app.selectbox(key="election").value == 3
    app.selectbox(key="election").set_value(7).run()
    assert app.query_params["election"] == "7"
    assert metrics(app)["Votes cast"] == "100", "election 3's values never show on election 7's page"


def test_a_certified_election_shows_its_certified_totals_and_when() -> None:
    app = run(_page_with_fixtures, certified=True)
    page = texts(app)
    assert "**certified at 2026-11-04 09:30 UTC** · certified results" in page
    assert metrics(app)["Votes cast"] == "102"  # the certified count, not the stream's 100
    assert "Red · **56** votes" in page


def test_the_filters_narrow_the_figures() -> None:
    app = AppTest.from_function(_page_with_fixtures, default_timeout=30).run()
    app.multiselect(key="parties").set_value(["Blue", "Green"]).run()
    assert metrics(app)["Candidates"] == "2"
    app.multiselect(key="states").set_value(["CA"]).run()
    assert metrics(app)["Votes cast (CA)"] == "60"
    assert metrics(app)["Registered voters (CA)"] == "100"
    assert "Ann Blue" in [s.value for s in app.subheader]  # the split within the state, from the stream: 7 vs 3
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


def test_the_status_line_says_when_the_stream_is_down_or_never_ran() -> None:
    assert "vote stream" not in texts(run(_page_with_stream_heartbeat, age=3.0)), "live: nothing to say"
    down = texts(run(_page_with_stream_heartbeat, age=300.0))
    assert "The vote stream is down: its last heartbeat was 5 min ago" in down
    assert "brings it back by itself" in down
    assert "Fixture election" in down, "the page still shows what it has"
    assert "unpause **election_streaming**" in texts(run(_page_with_stream_heartbeat, age=None))
