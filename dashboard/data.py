"""Where the dashboard's numbers come from, and nothing else.

- **Kafka**: the streaming job's compacted `aggregated_*` topics hold one full current value per key, for every
  election (keys `<election_id>:…`, values carrying `election_id`). One long-lived `AggregateFeed` per server
  process (`st.cache_resource`, shared by every browser session) reads them from the beginning once, then only the
  new messages at each refresh, keeping the latest value per key; the page shows one election's rows. The dead
  letters are counted exactly, per election and reason: one key per rejected record on a compacted topic.
  (The original project created a consumer from `earliest` at every refresh and showed whatever had arrived
  within its poll: partial, slow, and a new consumer group per page view.)
- **PostgreSQL**, through the dashboard's read-only role: the elections, and for the one shown its candidates,
  regions with registered voters, the votes recorded (the reconciliation figure) and, once certified, the
  certified results; cached with `st.cache_data` for at most one refresh interval.

Failures never escape as tracebacks: each source raises `SourceUnavailableError` with a sentence for the page, and
the feed keeps its last good values (shown as stale) while Kafka is down.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd
import psycopg
import streamlit as st
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, TopicCollection, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec, TopicDescription

from election.compacted import LatestByKey
from election.config import Settings, Topics, get_settings
from election.heartbeat import Heartbeat, stream_heartbeat
from election.kafka_io import consumer as kafka_consumer
from election.sql import read_sql

# Columns of each dimension's frame (the fields of the streaming job's messages), so an empty frame has them.
COLUMNS: dict[str, list[str]] = {
    "candidate": ["election_id", "candidate_id", "candidate_name", "party", "photo_url", "total_votes", "updated_at"],
    "party": ["election_id", "party", "total_votes", "updated_at"],
    "state": [
        "election_id",
        "state",
        "total_votes",
        "registered_voters",
        "turnout_pct",
        "expected_votes",
        "pct_expected_counted",
        "updated_at",
    ],
    "state_candidate": ["election_id", "state", "candidate_id", "total_votes", "updated_at"],
    "demographic": ["election_id", "gender", "age_band", "total_votes", "updated_at"],
    "minute": ["election_id", "window_start", "window_end", "candidate_id", "votes", "updated_at"],
    # the race calls (race_calls): one per state called, and the national call
    "race_call": [
        "election_id",
        "state",
        "candidate_id",
        "tie",
        "votes",
        "margin",
        "remaining",
        "electoral_votes",
        "called_at",
        "updated_at",
    ],
}
DIMENSIONS = tuple(COLUMNS)
DEAD_LETTER_COLUMNS = ["election_id", "reason", "records"]


class SourceUnavailableError(RuntimeError):
    """A data source cannot be read; the message is what the page shows."""


def dimension_topics(topics: Topics) -> dict[str, str]:
    """The topic the feed reads each of its frames from: the aggregated topics and the race calls."""
    return {**topics.by_dimension(), "race_call": topics.race_calls}


def _empty_dead_letters() -> pd.DataFrame:
    return pd.DataFrame({"election_id": pd.Series(dtype="Int64"), "reason": [], "records": pd.Series(dtype="int64")})


@dataclass(frozen=True)
class FeedState:
    """What the feed knows after a refresh (every election's rows, or one election's: `for_election`)."""

    frames: dict[str, pd.DataFrame]
    read_at: dt.datetime | None  # when Kafka last answered
    error: str | None = None  # why the last refresh failed (the frames are then the last good values)
    caught_up: bool = True  # False while a large backlog is still being read
    dead_letters: pd.DataFrame = field(default_factory=_empty_dead_letters)  # election_id, reason, records

    @property
    def last_update(self) -> pd.Timestamp | None:
        """When the streaming job last published a value (its `updated_at`), None before any vote."""
        stamps = [frame["updated_at"].max() for frame in self.frames.values() if not frame.empty]
        return max(stamps) if stamps else None

    @property
    def dead_letter_count(self) -> int:
        return int(self.dead_letters["records"].sum())

    def for_election(self, election_id: int) -> FeedState:
        """Only the rows of one election."""
        frames = {d: frame[frame["election_id"] == election_id] for d, frame in self.frames.items()}
        letters = self.dead_letters[self.dead_letters["election_id"] == election_id]
        return replace(self, frames=frames, dead_letters=letters)


def frame_of(dimension: str, values: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(list(values), columns=COLUMNS[dimension])
    if dimension == "race_call":
        frame["called_at"] = pd.to_datetime(frame["called_at"], utc=True)
        frame["updated_at"] = frame["called_at"]
    frame["election_id"] = frame["election_id"].astype("Int64")
    frame["updated_at"] = pd.to_datetime(frame["updated_at"], utc=True)
    if dimension == "minute":
        frame["window_start"] = pd.to_datetime(frame["window_start"], utc=True)
        frame["window_end"] = pd.to_datetime(frame["window_end"], utc=True)
    return frame


# While Kafka is down the page says so; the clients' own reconnect errors (20 a second) would only flood the log.
_QUIET = {"socket.timeout.ms": 3000, "log_level": 2, "reconnect.backoff.max.ms": 5000}


@dataclass
class _Partition:
    topic: str
    partition: int
    next_offset: int = 0  # where reading resumes


def _dead_letter_fields(value: dict[str, Any]) -> dict[str, Any]:
    """What the feed keeps of a dead letter: its election and reason (not its payload)."""
    return {"election_id": value.get("election_id"), "reason": value.get("reason")}


@dataclass
class AggregateFeed:
    """A consumer that stays assigned to the aggregated topics (and the dead letters) for the life of the server.

    It has no consumer group membership (partitions are assigned, offsets never committed): every dashboard
    process reads the full current state, and browser sessions share this one reader through `refresh()`. A topic
    that does not exist yet is picked up once it does.
    """

    kafka_config: dict[str, object]
    topics: dict[str, str]  # dimension -> topic
    dead_letter_topic: str
    max_read_seconds: float = 2.0
    min_refresh_seconds: float = 0.25  # sessions refreshing together share one read
    latest: dict[str, LatestByKey] = field(default_factory=dict)
    _consumer: Consumer | None = None
    _admin: AdminClient | None = None
    _partitions: dict[tuple[str, int], _Partition] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _state: FeedState | None = None
    _versions: tuple[int, ...] = ()
    _refreshed: float = 0.0

    def __post_init__(self) -> None:
        self.latest = {dimension: LatestByKey() for dimension in self.topics}
        self.latest[_DEAD_LETTER] = LatestByKey(keep=_dead_letter_fields)

    def _all_topics(self) -> dict[str, str]:
        return {**self.topics, _DEAD_LETTER: self.dead_letter_topic}

    def refresh(self) -> FeedState:
        with self._lock:
            if self._state is not None and time.monotonic() - self._refreshed < self.min_refresh_seconds:
                return self._state
            try:
                caught_up = self._read_new()
                error, read_at = None, dt.datetime.now(dt.UTC)
            except KafkaException as exc:
                caught_up = True
                error = f"Kafka is unreachable at {self.kafka_config.get('bootstrap.servers')}: {_reason(exc)}"
                read_at = self._state.read_at if self._state else None
            self._refreshed = time.monotonic()
            frames, dead_letters = self._frames()
            self._state = FeedState(frames, read_at, error, caught_up, dead_letters)
            return self._state

    def close(self) -> None:
        with self._lock:
            if self._consumer is not None:
                self._consumer.close()
                self._consumer = None
            self._admin = None

    # -- reading ---------------------------------------------------------------------------------------------

    def _read_new(self) -> bool:
        """Read what is new on every topic, for at most `max_read_seconds`; True once caught up."""
        # Metadata and offsets go through an admin client: on the consumer's own connection they would queue
        # behind its long-polling fetch (measured: 0.5 s per request).
        consumer, admin = self._ensure_clients()
        self._assign_new_partitions(consumer, _describe(admin, list(self._all_topics().values())))
        latest = _offsets(admin, [TopicPartition(*ident) for ident in self._partitions], "latest")
        targets = {ident: high for ident, high in latest.items() if high > self._partitions[ident].next_offset}
        deadline = time.monotonic() + self.max_read_seconds
        dimension_of = {topic: dimension for dimension, topic in self._all_topics().items()}
        while targets and time.monotonic() < deadline:
            # consume() waits for its whole timeout unless num_messages arrive: keep it short, loop instead
            for message in consumer.consume(num_messages=10_000, timeout=0.005):
                if message.error() is not None:
                    continue  # transient errors: the offsets decide when we are done
                ident = (message.topic(), message.partition())
                self._partitions[ident].next_offset = message.offset() + 1
                key = message.key()
                self.latest[dimension_of[message.topic()]].apply(
                    message.partition(), message.offset(), key.decode() if key else "", message.value()
                )
            for position in consumer.position([TopicPartition(*ident) for ident in targets]):
                if position.offset >= 0:  # also past compacted-away offsets and control records
                    self._partitions[(position.topic, position.partition)].next_offset = position.offset
            targets = {i: high for i, high in targets.items() if self._partitions[i].next_offset < high}
        return not targets

    def _ensure_clients(self) -> tuple[Consumer, AdminClient]:
        if self._admin is None:
            self._admin = AdminClient({**self.kafka_config, **_QUIET})
        if self._consumer is None:
            self._consumer = kafka_consumer(
                self.kafka_config,
                **{
                    "group.id": f"election-dashboard-{uuid.uuid4().hex}",  # required by the client, never joined
                    "enable.auto.commit": False,
                    "enable.partition.eof": False,
                    **_QUIET,
                },
            )
        return self._consumer, self._admin

    def _assign_new_partitions(self, consumer: Consumer, described: dict[str, TopicDescription | None]) -> None:
        """Start reading, from the beginning, every partition not read yet (a topic created since, included)."""
        new: list[TopicPartition] = []
        for topic, description in described.items():
            for info in description.partitions if description else []:
                if (topic, info.id) not in self._partitions:
                    self._partitions[(topic, info.id)] = _Partition(topic, info.id)
                    new.append(TopicPartition(topic, info.id, OFFSET_BEGINNING))
        if new:
            consumer.incremental_assign(new)

    def _frames(self) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
        versions = tuple(latest.version for latest in self.latest.values())
        if self._state is not None and versions == self._versions:
            return self._state.frames, self._state.dead_letters
        self._versions = versions
        frames = {d: frame_of(d, self.latest[d].values()) for d in self.topics}
        letters = pd.DataFrame(self.latest[_DEAD_LETTER].values(), columns=["election_id", "reason"])
        if letters.empty:
            return frames, _empty_dead_letters()
        counts = letters.groupby(["election_id", "reason"], dropna=False).size().reset_index(name="records")
        counts["election_id"] = counts["election_id"].astype("Int64")
        return frames, counts


_DEAD_LETTER = "dead_letter"


def _describe(admin: AdminClient, topics: list[str]) -> dict[str, TopicDescription | None]:
    """Each topic's description (id, partitions), None for a topic that does not exist (yet)."""
    futures = admin.describe_topics(TopicCollection(topics), request_timeout=3)
    described: dict[str, TopicDescription | None] = {}
    for topic, future in futures.items():
        try:
            described[topic] = future.result()
        except KafkaException as exc:
            if exc.args and getattr(exc.args[0], "code", lambda: None)() == KafkaError.UNKNOWN_TOPIC_OR_PART:
                described[topic] = None
            else:
                raise
    return described


def _offsets(admin: AdminClient, partitions: list[TopicPartition], which: str) -> dict[tuple[str, int], int]:
    """The latest or earliest offset of each partition, in one request."""
    if not partitions:
        return {}
    spec = OffsetSpec.latest() if which == "latest" else OffsetSpec.earliest()
    futures = admin.list_offsets({tp: spec for tp in partitions}, request_timeout=3)
    return {(tp.topic, tp.partition): future.result().offset for tp, future in futures.items()}


def _reason(exc: Exception) -> str:
    error = exc.args[0] if exc.args else exc
    return getattr(error, "str", lambda: str(error))()


# -- PostgreSQL (read-only role) ---------------------------------------------------------------------------------


ELECTION_COLUMNS = ["election_id", "name", "status", "created_at", "closed_at", "certified_at"]


@dataclass(frozen=True)
class Reference:
    """One election as PostgreSQL has it."""

    candidates: pd.DataFrame  # candidate_id, candidate_name, party, party_color, photo_url
    regions: pd.DataFrame  # state_code, state_name, tile_row, tile_col, electoral_votes, registered_voters
    votes_recorded: int | None  # None: unknown (PostgreSQL is down and this is the fallback)
    certified: pd.DataFrame | None = None  # candidate_id, total_votes: the certified count (None before)

    @property
    def registered_voters(self) -> int:
        return int(self.regions["registered_voters"].sum())


class ReadOnlyDatabase:
    """The dashboard's read-only role, one connection kept open per server process (opening one costs more
    than the queries: ~10 ms of SCRAM authentication), reopened after any failure such as a restart."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._conn: psycopg.Connection | None = None
        self._lock = threading.Lock()

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        """The connection, for one reader at a time; failures become a sentence for the page."""
        with self._lock:
            try:
                if self._conn is None or self._conn.closed:
                    self._conn = psycopg.connect(
                        self.settings.dashboard_db.conninfo(), connect_timeout=3, autocommit=True
                    )
                yield self._conn
            except psycopg.errors.UndefinedTable as exc:
                raise SourceUnavailableError(
                    "The election schema does not exist yet: trigger election_schema."
                ) from exc
            except psycopg.Error as exc:
                self.close()
                db = self.settings.dashboard_db
                reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise SourceUnavailableError(f"PostgreSQL is unreachable at {db.host}:{db.port}: {reason}") from exc

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _frame(conn: psycopg.Connection, name: str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
    cursor = conn.execute(read_sql(name), params)
    return pd.DataFrame(cursor.fetchall(), columns=[column.name for column in cursor.description or []])


def read_elections(database: ReadOnlyDatabase) -> pd.DataFrame:
    """Every election, newest first (ELECTION_COLUMNS)."""
    with database.connection() as conn:
        return _frame(conn, "dashboard/elections.sql")


def read_reference(database: ReadOnlyDatabase, election_id: int) -> Reference:
    scope = {"election_id": election_id}
    with database.connection() as conn:
        certified = _frame(conn, "dashboard/certified.sql", scope)
        return Reference(
            candidates=_frame(conn, "dashboard/candidates.sql", scope),
            regions=_frame(conn, "dashboard/regions.sql", scope),
            votes_recorded=int(conn.execute(read_sql("dashboard/votes_recorded.sql"), scope).fetchone()[0]),
            certified=None if certified.empty else certified,
        )


# -- Streamlit caching ---------------------------------------------------------------------------------------------


@st.cache_resource(show_spinner=False)
def aggregate_feed() -> AggregateFeed:
    """The server's one feed, shared by every browser session."""
    settings = get_settings()
    return AggregateFeed(
        kafka_config=settings.kafka_client_config(settings.kafka_dashboard),
        topics=dimension_topics(settings.topics),
        dead_letter_topic=settings.topics.votes_dead_letter,
    )


@st.cache_resource(show_spinner=False)
def read_only_database() -> ReadOnlyDatabase:
    """The server's one read-only connection to PostgreSQL, shared by every browser session."""
    return ReadOnlyDatabase(get_settings())


def elections(ttl_seconds: float) -> pd.DataFrame:
    """The elections, at most `ttl_seconds` old."""
    return _cached_elections(_ttl_bucket(ttl_seconds))


def reference(election_id: int, ttl_seconds: float) -> Reference:
    """PostgreSQL's view of one election, at most `ttl_seconds` old (the refresh interval)."""
    return _cached_reference(election_id, _ttl_bucket(ttl_seconds))


def _ttl_bucket(ttl_seconds: float) -> int:
    """A cache key that changes every `ttl_seconds`: a TTL chosen at run time (st.cache_data's is fixed)."""
    return int(time.time() // max(ttl_seconds, 0.5))


@st.cache_data(ttl=dt.timedelta(minutes=1), max_entries=4, show_spinner=False)
def _cached_elections(bucket: int) -> pd.DataFrame:
    del bucket  # only a cache key
    return read_elections(read_only_database())


@st.cache_data(ttl=dt.timedelta(minutes=1), max_entries=16, show_spinner=False)
def _cached_reference(election_id: int, bucket: int) -> Reference:
    del bucket
    return read_reference(read_only_database(), election_id)


def stream_state(ttl_seconds: float) -> Heartbeat | None:
    """The vote stream's latest heartbeat, at most `ttl_seconds` old (None: it never beat; raises
    SourceUnavailableError when Kafka cannot be asked)."""
    return _cached_stream_state(_ttl_bucket(ttl_seconds))


@st.cache_data(ttl=dt.timedelta(minutes=1), max_entries=4, show_spinner=False)
def _cached_stream_state(bucket: int) -> Heartbeat | None:
    del bucket
    settings = get_settings()
    try:
        return stream_heartbeat(
            settings.kafka_client_config(settings.kafka_dashboard),
            settings.topics.stream_heartbeat,
            group_prefix="election-dashboard-heartbeat-",  # within the dashboard principal's group prefix
        )
    except KafkaException as exc:
        raise SourceUnavailableError(f"cannot read the stream's heartbeat: {exc}") from None


@dataclass(frozen=True)
class Sources:
    """Where the page reads from: the live sources in production, fixtures in the page's tests."""

    feed: Callable[[], FeedState]
    elections: Callable[[float], pd.DataFrame]  # argument: maximum age in seconds (the refresh interval)
    reference: Callable[[int, float], Reference]  # arguments: the election, the maximum age in seconds
    stream: Callable[[float], Heartbeat | None] | None = None  # the stream's heartbeat (None: not watched)


def live_sources() -> Sources:
    """The page's sources in production: the shared Kafka feed and the cached PostgreSQL reads."""
    return Sources(
        feed=lambda: aggregate_feed().refresh(), elections=elections, reference=reference, stream=stream_state
    )
