"""`make bench` measures a quiet machine: a running election stream is paused for the benchmarks and comes back
after (its @continuous schedule starts it again). It runs on a stack just started (a database with no schema gets
it) and never migrates a user's database (an older revision is refused)."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import psycopg
import pytest
import support

from election import migrations
from election.config import Database, Settings
from election.regions import load_regions
from election.schema import readers, schema_revision

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from helpers.quiet import quiet_machine  # the benchmarks' helpers, as `make bench` imports them
from helpers.workspace import SchemaNotCurrent, require_schema

pytestmark = pytest.mark.timeout(900)


def test_a_running_stream_is_paused_for_the_benchmarks_and_resumed_after(settings: Settings, api, stream) -> None:
    if not stream.owned:
        pytest.skip("the stream running is the user's: the tests do not stop it")
    said: list[str] = []
    with quiet_machine(settings, say=said.append, settle_seconds=0):  # the suite keeps the machine busy
        assert support.stream_processes() == [], "no stream competes with the benchmarks"
        assert api.running_runs("election_streaming") == [], "paused: the schedule starts nothing meanwhile"
    assert any("pausing it for the benchmarks" in line for line in said)
    stream.run_id = api.wait_for_running_run("election_streaming", timeout=120)
    api.wait_for_task("election_streaming", stream.run_id, "aggregate_votes", {"running"}, timeout=300)
    assert support.wait_for(support.stream_processes, 120, "the stream to run again")


def test_a_database_without_schema_gets_it_as_election_schema_makes_it(settings: Settings, database: Database) -> None:
    require_schema(dataclasses.replace(settings, election_db=database))
    assert schema_revision(database.sqlalchemy_url("psycopg")) == (migrations.head(), migrations.head())
    with psycopg.connect(database.conninfo()) as conn:
        (regions,) = conn.execute("SELECT count(*) FROM regions").fetchone()
    assert regions == len(load_regions())  # as election_schema's load_regions writes them


def test_a_database_at_an_older_revision_is_refused_and_left_as_it_is(settings: Settings, database: Database) -> None:
    older = migrations.revisions()[-2]
    migrations.upgrade_database(database.sqlalchemy_url("psycopg"), readers(settings), older)
    with pytest.raises(SchemaNotCurrent, match=f"at revision {older}.*trigger election_schema"):
        require_schema(dataclasses.replace(settings, election_db=database))
    assert schema_revision(database.sqlalchemy_url("psycopg")) == (older, migrations.head())
