"""What election_vote_simulation waits for before casting an election's votes; sensors that say why they gave up.

- The election's voters are published: its `published_at` is set (the seed sets it once every voter on
  voters_topic was acknowledged), and it is still open.
- The streaming job is live and counts this election: its latest heartbeat on election_stream_heartbeat is
  recent and lists the election among those whose registry it has loaded (`stream_heartbeat`).

Both fail, when they time out, with a message that says what to do.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseSensorOperator
from airflow.sdk.exceptions import AirflowFailException, AirflowSensorTimeout

from election.heartbeat import stream_heartbeat


class _ExplainsTimeout:
    """Replaces a sensor's generic timeout error with `timeout_message` (what the user should do)."""

    timeout_message: str

    def execute(self, context):
        try:
            return super().execute(context)
        except AirflowSensorTimeout as error:
            raise AirflowSensorTimeout(self.timeout_message) from error


class ElectionPublishedSensor(_ExplainsTimeout, BaseSensorOperator):
    """Waits until the election's voters and candidates are all on Kafka; fails at once if it is not open."""

    template_fields = ("election_id",)

    def __init__(self, *, election_id: int | str, timeout_message: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.election_id = election_id
        self.timeout_message = timeout_message

    def poke(self, context) -> bool:
        from election import elections
        from election.airflow_io import postgres_connection

        with postgres_connection() as conn:
            election = elections.require(conn, int(self.election_id))
        if not election.is_open:
            raise AirflowFailException(f"{election.describe()} accepts no more votes")
        self.log.info(
            "%s: %s", election.describe(), "voters published" if election.published_at else "voters not published yet"
        )
        return election.published_at is not None


class StreamLiveSensor(_ExplainsTimeout, BaseSensorOperator):
    """Waits until the streaming job's heartbeat is at most `max_age` seconds old and lists the election."""

    template_fields = ("election_id",)

    def __init__(
        self,
        *,
        kafka_conn_id: str,
        topic: str,
        max_age: float,
        election_id: int | str,
        timeout_message: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.kafka_conn_id, self.topic, self.max_age = kafka_conn_id, topic, max_age
        self.election_id = election_id
        self.timeout_message = timeout_message

    def poke(self, context) -> bool:
        from election.airflow_io import kafka_config

        beat = stream_heartbeat(kafka_config(self.kafka_conn_id), self.topic)
        if beat is None:
            self.log.info("stream heartbeat: none yet")
            return False
        counts = int(self.election_id) in beat.elections
        self.log.info(
            "stream heartbeat: %.1fs old; %s election %s",
            beat.age,
            "counting" if counts else "not counting yet",
            self.election_id,
        )
        return beat.age <= self.max_age and counts
