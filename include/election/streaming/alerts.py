"""Alerts when the vote stream goes down: the streaming DAG's task callbacks (imported by dotted path, at run time).

Logged at ERROR in the task's log, which the Airflow UI shows and any log shipper can alert on; the dashboard's
status line shows the stream as down from its heartbeat. Airflow brings the stream back by itself: the task is
retried, and once its retries are used the `@continuous` schedule starts a new run.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger("election.streaming.alerts")


def stream_down(context: dict[str, Any]) -> None:
    """A task callback (on_retry_callback, on_failure_callback) of `aggregate_votes`."""
    ti = context.get("ti") or context.get("task_instance")
    attempt = getattr(ti, "try_number", None)
    retries = getattr(getattr(ti, "task", None), "retries", None)
    error = context.get("exception")
    then = (
        "Airflow retries it"
        if retries is not None and attempt is not None and attempt <= retries
        else ("its retries are used: the @continuous schedule starts a new run")
    )
    log.error(
        "[alert] the vote stream went down (attempt %s of %s): %s; %s",
        attempt,
        None if retries is None else retries + 1,
        error if error is not None else "no error reported",
        then,
    )
