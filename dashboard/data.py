"""Where the dashboard's numbers come from, and nothing else.

- **Kafka**: the streaming job's compacted `aggregated_*` topics hold one full current value per key. One
  long-lived `AggregateFeed` per server process (`st.cache_resource`, shared by every browser session) reads
  them from the beginning once, then only the new messages at each refresh, keeping the latest value per key.
  (The original project created a consumer from `earliest` at every refresh and showed whatever had arrived
  within its poll: partial, slow, and a new consumer group per page view.)
- **PostgreSQL**, through the dashboard's read-only role: candidates, regions with registered voters, and the
  votes recorded (the reconciliation figure), cached with `st.cache_data` for at most one refresh interval.

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
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import psycopg
import streamlit as st
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, TopicCollection, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec, TopicDescription

from election.compacted import LatestByKey
from election.config import Settings, get_settings
from election.sql import read_sql

# The feed's dimensions, named after what they aggregate; `Topics` maps them to topic names.
DIMENSIONS = ("candidate", "party", "state", "demographic", "minute")

# Columns of each dimension's frame (the fields of the streaming job's messages), so an empty frame has them.
COLUMNS: dict[str, list[str]] = {
    "candidate": ["candidate_id", "candidate_name", "party", "photo_url", "total_votes", "updated_at"],
    "party": ["party", "total_votes", "updated_at"],
    "state": ["state", "total_votes", "registered_voters", "turnout_pct", "updated_at"],
    "demographic": ["gender", "age_band", "total_votes", "updated_at"],
    "minute": ["window_start", "window_end", "candidate_id", "votes", "updated_at"],
}


class SourceUnavailableError(RuntimeError):
    """A data source cannot be read; the message is what the page shows."""


def dimension_topics(settings: Settings) -> dict[str, str]:
    topics = settings.topics
    return {
        "candidate": topics.votes_per_candidate,
        "party": topics.votes_per_party,
        "state": topics.turnout_by_location,
        "demographic": topics.votes_by_demographics,
        "minute": topics.votes_over_time,
    }


@dataclass(frozen=True)
class FeedState:
    """What the feed knows after a refresh."""

    frames: dict[str, pd.DataFrame]
    read_at: dt.datetime | None  # when Kafka last answered
    error: str | None = None  # why the last refresh failed (the frames are then the last good values)
    caught_up: bool = True  # False while a large backlog is still being read
    dead_letters: int = 0

    @property
    def last_update(self) -> pd.Timestamp | None:
        """When the streaming job last published a value (its `updated_at`), None before any vote."""
        stamps = [frame["updated_at"].max() for frame in self.frames.values() if not frame.empty]
        return max(stamps) if stamps else None


def frame_of(dimension: str, values: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(list(values), columns=COLUMNS[dimension])
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


@dataclass
class AggregateFeed:
    """A consumer that stays assigned to the aggregated topics for the life of the server.

    It has no consumer group membership (partitions are assigned, offsets never committed): every dashboard
    process reads the full current state, and browser sessions share this one reader through `refresh()`.
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
    _topic_ids: dict[str, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _state: FeedState | None = None
    _versions: tuple[int, ...] = ()
    _refreshed: float = 0.0

    def __post_init__(self) -> None:
        self.latest = {dimension: LatestByKey() for dimension in self.topics}

    def refresh(self) -> FeedState:
        with self._lock:
            if self._state is not None and time.monotonic() - self._refreshed < self.min_refresh_seconds:
                return self._state
            try:
                caught_up, dead_letters = self._read_new()
                error, read_at = None, dt.datetime.now(dt.UTC)
            except KafkaException as exc:
                caught_up, dead_letters = True, self._state.dead_letters if self._state else 0
                error = f"Kafka is unreachable at {self.kafka_config.get('bootstrap.servers')}: {_reason(exc)}"
                read_at = self._state.read_at if self._state else None
            self._refreshed = time.monotonic()
            self._state = FeedState(self._frames(), read_at, error, caught_up, dead_letters)
            return self._state

    def close(self) -> None:
        with self._lock:
            if self._consumer is not None:
                self._consumer.close()
                self._consumer = None
            self._admin = None

    # -- reading ---------------------------------------------------------------------------------------------

    def _read_new(self) -> tuple[bool, int]:
        # Metadata and offsets go through an admin client: on the consumer's own connection they would queue
        # behind its long-polling fetch (measured: 0.5 s per request).
        consumer, admin = self._ensure_clients()
        described = _describe(admin, [*self.topics.values(), self.dead_letter_topic])
        self._follow_topics(consumer, described)
        dead_letter_topic = described[self.dead_letter_topic]
        dead_letters = [
            TopicPartition(self.dead_letter_topic, p.id)
            for p in (dead_letter_topic.partitions if dead_letter_topic else [])
        ]
        latest = _offsets(admin, [TopicPartition(*ident) for ident in self._partitions] + dead_letters, "latest")
        earliest = _offsets(admin, dead_letters, "earliest")
        targets: dict[tuple[str, int], int] = {}
        for ident, part in self._partitions.items():
            high = latest[ident]
            if high < part.next_offset:  # the topic was emptied or re-created: start over
                self._restart_topic(consumer, part.topic)
            if high > part.next_offset:
                targets[ident] = high
        deadline = time.monotonic() + self.max_read_seconds
        dimension_of = {topic: dimension for dimension, topic in self.topics.items()}
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
        dead = sum(max(latest[(tp.topic, tp.partition)] - earliest[(tp.topic, tp.partition)], 0) for tp in dead_letters)
        return not targets, dead

    def _ensure_clients(self) -> tuple[Consumer, AdminClient]:
        if self._admin is None:
            self._admin = AdminClient({**self.kafka_config, **_QUIET})
        if self._consumer is None:
            self._consumer = Consumer(
                {
                    **self.kafka_config,
                    "group.id": f"election-dashboard-{uuid.uuid4().hex}",  # required by the client, never joined
                    "enable.auto.commit": False,
                    "enable.partition.eof": False,
                    **_QUIET,
                }
            )
        return self._consumer, self._admin

    def _follow_topics(self, consumer: Consumer, described: dict[str, TopicDescription | None]) -> None:
        """Assign the partitions of the aggregated topics that exist; start a topic over when it was deleted or
        re-created (a new topic id: a new election's values, not more of the old ones)."""
        new: list[TopicPartition] = []
        for dimension, topic in self.topics.items():
            description = described[topic]
            topic_id = str(description.topic_id) if description else None
            if self._topic_ids.get(topic) != topic_id:
                held = [ident for ident in self._partitions if ident[0] == topic]
                if held:
                    consumer.incremental_unassign([TopicPartition(*ident) for ident in held])
                    for ident in held:
                        del self._partitions[ident]
                self.latest[dimension].clear()
                self._topic_ids.pop(topic, None)
            if description is None:
                continue
            self._topic_ids[topic] = topic_id
            for info in description.partitions:
                if (topic, info.id) not in self._partitions:
                    self._partitions[(topic, info.id)] = _Partition(topic, info.id)
                    new.append(TopicPartition(topic, info.id, OFFSET_BEGINNING))
        if new:
            consumer.incremental_assign(new)

    def _restart_topic(self, consumer: Consumer, topic: str) -> None:
        """The topic was emptied under the same id (e.g. records deleted): read it again from its start."""
        for ident, part in self._partitions.items():
            if ident[0] == topic:
                part.next_offset = 0
                consumer.seek(TopicPartition(*ident, OFFSET_BEGINNING))
        self.latest[next(d for d, t in self.topics.items() if t == topic)].clear()

    def _frames(self) -> dict[str, pd.DataFrame]:
        versions = tuple(self.latest[d].version for d in self.topics)
        if self._state is None or versions != self._versions:
            self._versions = versions
            return {d: frame_of(d, self.latest[d].values()) for d in self.topics}
        return self._state.frames


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


@dataclass(frozen=True)
class Reference:
    """The election as PostgreSQL has it."""

    candidates: pd.DataFrame  # candidate_id, candidate_name, party, party_color, photo_url
    regions: pd.DataFrame  # state_code, state_name, tile_row, tile_col, registered_voters
    votes_recorded: int | None  # None: unknown (PostgreSQL is down and this is the fallback)

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


def read_reference(database: ReadOnlyDatabase) -> Reference:
    with database.connection() as conn:
        return Reference(
            candidates=_frame(conn, "dashboard/candidates.sql"),
            regions=_frame(conn, "dashboard/regions.sql"),
            votes_recorded=int(conn.execute(read_sql("dashboard/votes_recorded.sql")).fetchone()[0]),
        )


def read_candidate_votes_in_states(database: ReadOnlyDatabase, states: tuple[str, ...]) -> pd.DataFrame:
    with database.connection() as conn:
        return _frame(conn, "dashboard/candidate_votes_in_states.sql", {"states": list(states)})


# -- Streamlit caching ---------------------------------------------------------------------------------------------


@st.cache_resource(show_spinner=False)
def aggregate_feed() -> AggregateFeed:
    """The server's one feed, shared by every browser session."""
    settings = get_settings()
    return AggregateFeed(
        kafka_config=settings.kafka_client_config(),
        topics=dimension_topics(settings),
        dead_letter_topic=settings.topics.votes_dead_letter,
    )


@st.cache_resource(show_spinner=False)
def read_only_database() -> ReadOnlyDatabase:
    """The server's one read-only connection to PostgreSQL, shared by every browser session."""
    return ReadOnlyDatabase(get_settings())


def reference(ttl_seconds: float) -> Reference:
    """PostgreSQL's view, at most `ttl_seconds` old (the refresh interval)."""
    return _cached_reference(_ttl_bucket(ttl_seconds))


def candidate_votes_in_states(states: tuple[str, ...], ttl_seconds: float) -> pd.DataFrame:
    return _cached_candidate_votes_in_states(states, _ttl_bucket(ttl_seconds))


def _ttl_bucket(ttl_seconds: float) -> int:
    """A cache key that changes every `ttl_seconds`: a TTL chosen at run time (st.cache_data's is fixed)."""
    return int(time.time() // max(ttl_seconds, 0.5))


@st.cache_data(ttl=dt.timedelta(minutes=1), max_entries=4, show_spinner=False)
def _cached_reference(bucket: int) -> Reference:
    del bucket  # only a cache key
    return read_reference(read_only_database())


@st.cache_data(ttl=dt.timedelta(minutes=1), max_entries=16, show_spinner=False)
def _cached_candidate_votes_in_states(states: tuple[str, ...], bucket: int) -> pd.DataFrame:
    del bucket
    return read_candidate_votes_in_states(read_only_database(), states)


@dataclass(frozen=True)
class Sources:
    """Where the page reads from: the live sources in production, fixtures in the page's tests."""

    feed: Callable[[], FeedState]
    reference: Callable[[float], Reference]  # argument: maximum age in seconds (the refresh interval)
    candidate_votes_in_states: Callable[[tuple[str, ...], float], pd.DataFrame]


def live_sources() -> Sources:
    """The page's sources in production: the shared Kafka feed and the cached PostgreSQL reads."""
    return Sources(
        feed=lambda: aggregate_feed().refresh(),
        reference=reference,
        candidate_votes_in_states=candidate_votes_in_states,
    )
