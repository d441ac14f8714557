"""`python -m election.voting cast --election-id 3 --turnout 0.7 ...`: cast an election's votes outside Airflow
(tests, benchmarks, by hand).

Uses the platform's settings (config module) for PostgreSQL and Kafka; the DAG uses the Airflow connections.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

import psycopg

from election.config import get_settings
from election.domain import REPORTING_ORDERS
from election.voting.caster import CastRequest, cast_election


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m election.voting", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    cast = sub.add_parser("cast", help="cast the votes of an election's voters on voters_topic")
    cast.add_argument("--election-id", type=int, required=True)
    cast.add_argument("--turnout", type=float, help="one turnout for every state (default: the seeded per-state ones)")
    cast.add_argument("--max-votes", type=int)
    cast.add_argument("--votes-per-second", type=float, default=0.0)
    cast.add_argument("--random-seed", type=int, default=2026)
    cast.add_argument("--reporting-order", choices=REPORTING_ORDERS, default="random")
    cast.add_argument("--batch-size", type=int, default=CastRequest.batch_size)
    cast.add_argument("--group", help="consumer group prefix (default: ELECTION_VOTE_CASTER_GROUP)")
    cast.add_argument("--voters-topic")
    cast.add_argument("--votes-topic")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stdout)
    settings = get_settings()
    request = CastRequest(
        election_id=args.election_id,
        turnout=args.turnout,
        max_votes=args.max_votes,
        votes_per_second=args.votes_per_second,
        random_seed=args.random_seed,
        reporting_order=args.reporting_order,
        batch_size=args.batch_size,
    )
    report = cast_election(
        lambda: psycopg.connect(settings.election_db.conninfo()),
        settings.kafka_client_config(),
        request,
        voters_topic=args.voters_topic or settings.topics.voters,
        votes_topic=args.votes_topic or settings.topics.votes,
        group_prefix=args.group or settings.vote_caster_group,
    )
    summary = {
        "election_id": args.election_id,
        "votes_cast": report.votes_cast,
        "bad_messages": report.bad_messages,
        "republished": report.republished,
        "votes_per_second": round(report.votes_per_second),
    }
    sys.stdout.write(json.dumps(summary) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
