"""
# election_certify

Certifies an election: closes it, waits until the stream has counted every vote PostgreSQL holds for it,
reconciles the stream's totals against PostgreSQL, and only when they all agree makes the result final.

| Task | What it does |
| --- | --- |
| `close_election` | the election stops accepting votes: from now on PostgreSQL refuses any vote for it (an election already certified skips everything below) |
| `publish_pending_votes` | publishes the votes a crashed caster recorded but never got acknowledged (its outbox), so the stream can count them |
| `wait_for_count` | until the stream's per-candidate totals add up to the votes PostgreSQL holds; times out with *"the stream has not counted every vote: is election_streaming running?"* |
| `wait_for_calls` | until the stream has called every state with votes (after the close, a state too close to call is called on the complete count) |
| `reconcile` | Great Expectations suites: per candidate, per state and per party, the stream's totals equal PostgreSQL's; every race call equals the winner of PostgreSQL's final count in its state, and the national call the electoral-vote majority PostgreSQL's count makes. **On any difference it fails with a report of what differs; the election stays `closed`.** |
| `certify` | in one transaction: `certified_results` (election, candidate, votes) and `certified_race_calls` written, status `certified` |
| `publish_result` | the final result to the compacted `election_results` topic, keyed by the election's id |

**Parameter**: `election_id`. **Certifying twice is a no-op**: a certified election is left exactly as it is.
"""

from __future__ import annotations

import datetime as dt
import logging

from airflow.sdk import Param, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException

from election.config import get_settings
from election.dag_defaults import DEFAULT_ARGS, ELECTION_CERTIFIED, START_DATE

log = logging.getLogger(__name__)
settings = get_settings()


def _election_id() -> int:
    return int(get_current_context()["params"]["election_id"])


@dag(
    dag_id="election_certify",
    schedule=None,
    start_date=START_DATE,
    catchup=False,
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
    tags=["election", "certification", "data-quality", "postgres", "kafka"],
    params={"election_id": Param(type="integer", minimum=1, title="Election to certify")},
)
def election_certify() -> None:
    @task.short_circuit
    def close_election() -> bool:
        """Closes the election; when it is already certified, every later task is skipped (a no-op)."""
        from election import elections
        from election.airflow_io import postgres_connection

        with postgres_connection() as conn:
            election = elections.require(conn, _election_id())
            if election.is_certified:
                log.info("%s at %s: nothing to do", election.describe(), election.certified_at)
                return False
            closed = elections.close(conn, _election_id())
            conn.commit()
        log.info("election %d %s", _election_id(), "closed now: no more votes accepted" if closed else "is closed")
        return True

    @task
    def publish_pending_votes() -> int:
        from election.airflow_io import kafka_config, postgres_connection
        from election.kafka_io import reliable_producer
        from election.voting.outbox import publish_pending

        with postgres_connection() as conn:
            producer = reliable_producer(kafka_config(settings.kafka_caster_conn_id))  # the only writer of votes
            published = publish_pending(conn, producer, _election_id(), settings.topics.votes)
        log.info("election %d: %s votes published from the outbox", _election_id(), f"{published:,}")
        return published

    @task.sensor(poke_interval=5, timeout=dt.timedelta(minutes=30).total_seconds(), mode="poke")
    def wait_for_count() -> bool:
        from election.airflow_io import kafka_config, postgres_connection
        from election.results.certification import counted

        with postgres_connection() as conn:
            count = counted(conn, kafka_config(), settings.topics, _election_id())
        log.info(
            "election %d: the stream counted %s of the %s votes PostgreSQL holds",
            _election_id(),
            f"{count.streamed:,}",
            f"{count.recorded:,}",
        )
        if count.streamed > count.recorded:
            raise AirflowFailException(
                f"the stream counted {count.streamed - count.recorded:,} more votes than PostgreSQL holds"
            )
        return count.complete

    @task.sensor(poke_interval=5, timeout=dt.timedelta(minutes=10).total_seconds(), mode="poke")
    def wait_for_calls() -> bool:
        from election.airflow_io import kafka_config, postgres_connection
        from election.results.certification import final_calls, published_calls

        with postgres_connection() as conn:
            final = final_calls(conn, _election_id())
        published = published_calls(kafka_config(), settings.topics.race_calls, _election_id())
        missing = sorted(set(final) - set(published))
        log.info(
            "election %d: %d of %d calls published; waiting for %s",
            _election_id(),
            len(published),
            len(final),
            missing or "none",
        )
        return not missing

    @task(retries=0)  # a difference is a finding, not a glitch: retrying cannot fix it
    def reconcile() -> list[str]:
        from election.airflow_io import kafka_config, postgres_connection
        from election.results.certification import ReconciliationError, check_calls, comparisons
        from election.results.certification import reconcile as check

        with postgres_connection() as conn:
            frames = comparisons(conn, kafka_config(), settings.topics, _election_id())
            try:
                summaries = [
                    *check(frames),
                    check_calls(conn, kafka_config(), settings.topics.race_calls, _election_id()),
                ]
            except ReconciliationError as error:
                raise AirflowFailException(str(error)) from None
        for summary in summaries:
            log.info("%s", summary)
        return summaries

    @task
    def certify() -> bool:
        from election.airflow_io import kafka_config, postgres_connection
        from election.results.certification import certify as make_final
        from election.results.certification import comparisons, published_calls

        with postgres_connection() as conn:
            frames = comparisons(conn, kafka_config(), settings.topics, _election_id())
            calls = published_calls(kafka_config(), settings.topics.race_calls, _election_id())
            done = make_final(conn, _election_id(), frames["candidate"], calls)
        log.info("election %d %s", _election_id(), "certified" if done else "was already certified: nothing to do")
        return done

    @task(outlets=[ELECTION_CERTIFIED])
    def publish_result() -> dict:
        import json

        from election import elections
        from election.airflow_io import kafka_config, postgres_connection
        from election.kafka_io import produce_all, reliable_producer
        from election.results.certification import certified_results, result_message

        with postgres_connection() as conn:
            election = elections.require(conn, _election_id())
            message = result_message(election, certified_results(conn, _election_id()))
        produce_all(
            reliable_producer(kafka_config()),
            settings.topics.election_results,
            [(str(_election_id()), json.dumps(message))],
        )
        get_current_context()["outlet_events"][ELECTION_CERTIFIED].extra = {"election_id": _election_id()}
        log.info("election %d certified: %s", _election_id(), json.dumps(message["winner"]))
        return message

    (
        close_election()
        >> publish_pending_votes()
        >> wait_for_count()
        >> wait_for_calls()
        >> reconcile()
        >> certify()
        >> publish_result()
    )


election_certify()
