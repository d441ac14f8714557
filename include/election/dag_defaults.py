"""What every DAG of the platform shares: owner, retries, start date, the Assets between DAGs.

Imported by the DAG files at parse time: nothing here touches a service.
"""

from __future__ import annotations

import datetime as dt

from airflow.sdk import Asset

DEFAULT_ARGS = {
    "owner": "election-platform",
    "retries": 1,
    "retry_delay": dt.timedelta(seconds=20),
}
START_DATE = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

# The schema exists and is migrated: election_schema emits it (lineage; nothing is scheduled on it, so nothing is
# started that could only fail).
ELECTION_SCHEMA = Asset(name="election_schema", uri="election://postgres/schema")
# An election's candidates and voters are loaded, validated and published: election_seed emits it, with the
# election's id in the event's extra.
ELECTION_SEED = Asset(name="election_seed", uri="election://postgres/elections")
# An election is certified: election_certify emits it, with the election's id in the event's extra.
ELECTION_CERTIFIED = Asset(name="election_certified", uri="election://postgres/certified_results")
