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

# The schema exists and is migrated: election_schema emits it, election_seed is scheduled on it.
ELECTION_SCHEMA = Asset(name="election_schema", uri="election://postgres/schema")
# Candidates and voters are loaded, validated and published: election_seed emits it.
ELECTION_SEED = Asset(name="election_seed", uri="election://postgres/registry")
