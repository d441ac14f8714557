"""Casting an election's votes: voters_topic -> PostgreSQL `votes` -> votes_topic, fast and crash-safe.

The caster of election E reads E's voters (where the seed recorded them on each partition of voters_topic) in
its own consumer group, `<ELECTION_VOTE_CASTER_GROUP>-<E>`: its committed offsets are E's progress, its outbox rows
are E's. Per batch of voter messages:

1. decide who votes and for whom (`preferences`: one hash per voter, independent of batches and runs);
2. one transaction: COPY the choices into a temporary table, insert them into `votes` (ON CONFLICT DO NOTHING:
   one vote per voter, enforced by the primary key) and write the outbox row holding the vote records;
3. produce the records to votes_topic (idempotent producer, acks=all) and wait for every acknowledgement;
4. delete the outbox row, then commit the consumer offsets of the batch.

`kill -9` at any point loses nothing and duplicates nothing: before (2) commits, the voters are simply read
again; after it, the outbox row is re-published by the next run before anything else (a vote published twice is
deduplicated downstream by voter_id) and the voters read again find their vote already there. Offsets never pass
a vote that is not both committed and acknowledged.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg
from confluent_kafka import OFFSET_INVALID, Consumer, KafkaException, Producer, TopicPartition

from election import elections
from election.kafka_io import consumer as kafka_consumer
from election.kafka_io import produce_all, reliable_producer, watermarks
from election.progress import Progress
from election.records import CandidateLabel, vote_key
from election.sql import read_sql
from election.voting.outbox import publish_pending, vote_records
from election.voting.preferences import (
    DEFAULT_REGIONAL_VARIATION,
    Preferences,
    build_preferences,
    voter_hash,
)
from election.voting.voter_messages import BadMessageError, parse_voter

log = logging.getLogger(__name__)

BATCH_SIZE = 100_000  # larger batches: fewer transactions (measured: 45k votes/s at 20k, 62k at 100k)
BAD_MESSAGE_SAMPLES = 5


class ElectionNotOpenError(RuntimeError):
    """The election does not accept votes (closed or certified)."""


@dataclass(frozen=True)
class CastRequest:
    election_id: int
    turnout: float = 0.7
    max_votes: int | None = None
    votes_per_second: float = 0.0  # 0: as fast as possible
    random_seed: int = 2026
    candidate_weights: tuple[float, ...] | None = None
    regional_variation: float = DEFAULT_REGIONAL_VARIATION
    batch_size: int = BATCH_SIZE

    def __post_init__(self) -> None:
        if not 0 <= self.turnout <= 1:
            raise ValueError(f"turnout must be between 0 and 1, got {self.turnout}")
        if self.max_votes is not None and self.max_votes < 0:
            raise ValueError(f"max_votes must be positive, got {self.max_votes}")
        if self.votes_per_second < 0:
            raise ValueError(f"votes_per_second must be 0 (as fast as possible) or more, got {self.votes_per_second}")


@dataclass
class CastReport:
    votes_cast: int = 0
    already_voted: int = 0
    abstained: int = 0
    bad_messages: int = 0
    unknown_voters: int = 0
    other_elections: int = 0
    republished: int = 0
    messages_read: int = 0
    seconds: float = 0.0
    bad_samples: list[str] = field(default_factory=list)
    stage_seconds: dict[str, float] = field(default_factory=dict)  # busy time of each pipeline stage

    @property
    def votes_per_second(self) -> float:
        return self.votes_cast / self.seconds if self.seconds else 0.0

    def summary(self) -> str:
        return (
            f"{self.votes_cast:,} votes cast in {self.seconds:.1f}s ({self.votes_per_second:,.0f} votes/s, "
            f"committed and acknowledged); {self.messages_read:,} voter messages read, {self.abstained:,} abstained, "
            f"{self.already_voted:,} had already voted, {self.bad_messages:,} bad messages skipped, "
            f"{self.unknown_voters:,} unknown voters skipped, {self.other_elections:,} voters of other elections "
            f"skipped, {self.republished:,} votes re-published from the outbox"
        )


@dataclass(frozen=True)
class Electorate:
    """What the run decides with: how many vote (exactly), where the turnout order stops, the preferences, and
    the candidates' labels the vote records carry."""

    election_id: int
    registered: int
    voting: int
    threshold: str | None  # selection key of the last voter who votes; None: nobody votes
    preferences: Preferences
    labels: dict[str, CandidateLabel]
    # partition -> (first, last) offset of the election's voters on voters_topic (None: the whole topic)
    voter_offsets: dict[int, tuple[int, int]] | None


def load_electorate(conn: psycopg.Connection, request: CastRequest) -> Electorate:
    election = elections.require(conn, request.election_id)
    if not election.is_open:
        raise ElectionNotOpenError(f"{election.describe()} accepts no more votes")
    if election.published_at is None:
        raise RuntimeError(f"{election.describe()} has not been published yet: wait for its election_seed run")
    scope = {"election_id": election.election_id}
    # the expected vote the stream reports against (registered × turnout per state): this run's turnout
    conn.execute(read_sql("elections/set_expected_turnout.sql"), {**scope, "turnout": request.turnout})
    rows = conn.execute(read_sql("voting/election_candidates.sql"), scope).fetchall()
    labels = {cid: CandidateLabel(name, party, photo) for cid, name, party, photo in rows}
    candidates = list(labels)
    per_state = conn.execute(read_sql("voting/voters_per_state.sql"), scope).fetchall()
    states = [state for state, _ in per_state]
    registered = sum(int(n) for _, n in per_state)
    voting = round(registered * request.turnout)
    threshold = None
    if voting:
        row = conn.execute(
            read_sql("voting/turnout_threshold.sql"), {**scope, "seed": str(request.random_seed), "k": voting}
        )
        threshold = row.fetchone()[0]
    conn.commit()
    preferences = build_preferences(
        candidates, states, request.random_seed, request.candidate_weights, request.regional_variation
    )
    offsets = None
    if election.voter_offsets is not None:
        offsets = {int(partition): (span[0], span[1]) for partition, span in election.voter_offsets.items()}
    return Electorate(election.election_id, registered, voting, threshold, preferences, labels, offsets)


def caster_group(group_prefix: str, election_id: int) -> str:
    """The consumer group of an election's caster: its committed offsets are the election's progress."""
    return f"{group_prefix}-{election_id}"


def caster_consumer(base_config: dict[str, object], group: str) -> Consumer:
    """The caster's consumer: its own group; offsets committed only by the caster, after acknowledgement."""
    return kafka_consumer(base_config, **{"group.id": group, "enable.auto.commit": False})


@dataclass
class Batch:
    """One batch through the pipeline: the choices made, the offsets they cover, then what was recorded."""

    sequence: int  # batches are published, and their offsets committed, in this order
    choices: dict[str, str]  # voter -> candidate
    copy_rows: str  # the choices as COPY text
    voting_time: dt.datetime  # when the batch's votes are cast
    offsets: dict[int, int]  # partition -> next offset to read once this batch is done
    batch_id: int | None = None
    recorded: str = ""  # the votes recorded (voters who had not voted yet): cast_votes.sql's lines


_DONE = object()  # end of a stage's input

RECORDERS = 2  # concurrent PostgreSQL transactions: the database's work spreads over the cores


class VoteCaster:
    """A pipeline of threads, so this process's CPU and PostgreSQL's work overlap:

    - *decide* (the calling thread): read voter messages, decide who votes and for whom;
    - *record* (RECORDERS threads, a connection each): one transaction per batch, the votes and their outbox row;
    - *publish*: in batch order, produce the records, wait for every acknowledgement, commit the batch's offsets.

    Bounded queues keep a few batches in flight. Offsets are committed in order, each only after its votes are
    committed and acknowledged. The outbox rows of acknowledged batches are deleted by the recorders in their
    next transaction (or at the end of the run).
    """

    def __init__(
        self,
        connect: Callable[[], psycopg.Connection],
        consumer: Consumer,
        producer: Producer,
        *,
        voters_topic: str,
        votes_topic: str,
        request: CastRequest,
        recorders: int = RECORDERS,
        on_batch: Callable[[CastReport], None] | None = None,
    ) -> None:
        self.connect, self.consumer, self.producer = connect, consumer, producer
        self.voters_topic, self.votes_topic = voters_topic, votes_topic
        self.request = request
        self.recorders = recorders
        self.on_batch = on_batch
        self.report = CastReport()
        self._acknowledged: list[int] = []  # outbox rows whose votes Kafka acknowledged
        self._lock = threading.Lock()
        self._failure: BaseException | None = None
        self._electorate: Electorate | None = None

    def _open(self) -> psycopg.Connection:
        conn = self.connect()
        conn.execute("SET TIME ZONE 'UTC'")
        conn.execute(read_sql("voting/create_cast_batch.sql"))
        conn.commit()
        return conn

    # -- outbox ------------------------------------------------------------------------------------
    def republish_pending(self, conn: psycopg.Connection, electorate: Electorate) -> int:
        """Publish what a previous run recorded but could not get acknowledged, before anything else."""
        published = publish_pending(conn, self.producer, electorate.election_id, self.votes_topic, electorate.labels)
        self.report.republished += published
        return published

    def _delete_acknowledged(self, conn: psycopg.Connection) -> None:
        with self._lock:
            done, self._acknowledged = self._acknowledged, []
        for batch_id in done:
            conn.execute(read_sql("voting/delete_outbox.sql"), {"batch_id": batch_id})

    # -- the stages --------------------------------------------------------------------------------
    def _record(self, conn: psycopg.Connection, batch: Batch) -> None:
        """One transaction: the votes of the batch and their outbox row (plus earlier acknowledged rows gone)."""
        with conn.transaction():
            self._delete_acknowledged(conn)
            if batch.choices:
                with conn.cursor() as cur, cur.copy("COPY cast_batch FROM STDIN") as copy:
                    copy.write(batch.copy_rows)
                assert self._electorate is not None
                unknown, known, batch.batch_id, recorded = conn.execute(
                    read_sql("voting/cast_votes.sql"),
                    {"election_id": self._electorate.election_id, "voting_time": batch.voting_time},
                ).fetchone()
                batch.recorded = recorded or ""  # string_agg over no row is NULL: nothing recorded
                with self._lock:
                    self.report.already_voted += known - (batch.recorded.count("\n") + 1 if batch.recorded else 0)
                    self.report.unknown_voters += unknown
                if unknown:
                    log.warning("skipped %d voter messages naming no registered voter", unknown)

    def _publish(self, batch: Batch) -> None:
        voter_ids: list[str] = []
        if batch.recorded:
            candidates, states, genders, ages = [], [], [], []
            for line in batch.recorded.split("\n"):
                voter_id, state, gender, age = line.split("\t")
                voter_ids.append(voter_id)
                candidates.append(batch.choices[voter_id])
                states.append(state)
                genders.append(gender)
                ages.append(int(age))
            times = [batch.voting_time.isoformat()] * len(voter_ids)
            electorate = self._electorate
            assert electorate is not None
            records = vote_records(
                electorate.election_id, electorate.labels, voter_ids, candidates, times, states, genders, ages
            )
            keys = (vote_key(electorate.election_id, voter_id) for voter_id in voter_ids)
            produce_all(self.producer, self.votes_topic, zip(keys, records, strict=True))
        if batch.offsets:
            # Only now: every vote of these messages is committed in PostgreSQL and acknowledged by Kafka.
            self.consumer.commit(
                offsets=[TopicPartition(self.voters_topic, p, o) for p, o in batch.offsets.items()], asynchronous=False
            )
        with self._lock:
            if batch.batch_id is not None:
                self._acknowledged.append(batch.batch_id)
            self.report.votes_cast += len(voter_ids)

    def _recorder(self, inbox: queue.Queue, outbox: queue.Queue) -> None:
        try:
            with self._open() as conn:
                while (batch := inbox.get()) is not _DONE:
                    if self._failure is None:
                        began = time.perf_counter()
                        self._record(conn, batch)
                        self._busy("record", began)
                        outbox.put(batch)
        except BaseException as error:  # noqa: BLE001 - handed to the deciding thread, which raises it
            self._fail(error, inbox)
        finally:
            outbox.put(_DONE)

    def _publisher(self, inbox: queue.Queue, upstream: int) -> None:
        """Publishes batches in sequence order, whatever order the recorders finish them in."""
        waiting: dict[int, Batch] = {}
        following = 0
        try:
            while upstream:
                batch = inbox.get()
                if batch is _DONE:
                    upstream -= 1
                    continue
                waiting[batch.sequence] = batch
                while self._failure is None and following in waiting:
                    began = time.perf_counter()
                    self._publish(waiting.pop(following))
                    self._busy("publish", began)
                    following += 1
        except BaseException as error:  # noqa: BLE001 - handed to the deciding thread, which raises it
            self._fail(error, inbox, upstream)

    def _fail(self, error: BaseException, inbox: queue.Queue, ends: int = 1) -> None:
        self._failure = self._failure or error
        while ends:  # keep draining, so no other thread blocks on a full queue
            if inbox.get() is _DONE:
                ends -= 1

    def _busy(self, stage: str, began: float) -> None:
        with self._lock:
            seconds = self.report.stage_seconds
            seconds[stage] = seconds.get(stage, 0.0) + time.perf_counter() - began

    # -- the run -----------------------------------------------------------------------------------
    def _start_positions(self, electorate: Electorate) -> tuple[dict[int, int], dict[int, int]]:
        """Where this election's group stands in each partition, and where the election's voters end there.

        The seed recorded the first and last offset of the election's voters on each partition: a new group starts
        at the first, and the run stops after the last (other elections' voters around them are never read).
        """
        metadata = self.consumer.list_topics(self.voters_topic, timeout=30).topics[self.voters_topic]
        if metadata.error is not None:
            raise KafkaException(metadata.error)
        spans = electorate.voter_offsets
        partitions = [
            TopicPartition(self.voters_topic, p) for p in sorted(metadata.partitions) if spans is None or p in spans
        ]
        committed = self.consumer.committed(partitions, timeout=30) if partitions else []
        start, end = {}, {}
        for tp in committed:
            low, high = watermarks(self.consumer, self.voters_topic, tp.partition, timeout=30)
            first, stop = (spans[tp.partition][0], spans[tp.partition][1] + 1) if spans is not None else (low, high)
            if low > first:
                log.warning(
                    "partition %d: the election's voters from offset %d were deleted by the topic's retention; "
                    "starting at %d",
                    tp.partition,
                    first,
                    low,
                )
                first = low
            start[tp.partition] = tp.offset if tp.offset != OFFSET_INVALID and first <= tp.offset <= stop else first
            end[tp.partition] = max(start[tp.partition], min(stop, high))
        self.consumer.assign([TopicPartition(self.voters_topic, p, offset) for p, offset in start.items()])
        return start, end

    def _decide(
        self, sequence: int, messages: list, electorate: Electorate, room: int | None, end: dict[int, int]
    ) -> Batch:
        request, report = self.request, self.report
        seed, prefs, threshold = request.random_seed, electorate.preferences, electorate.threshold
        batch = Batch(sequence, choices={}, copy_rows="", voting_time=dt.datetime.now(dt.UTC), offsets={})
        choices, rows = batch.choices, []
        for message in messages:
            if room is not None and len(choices) >= room:
                break  # the rest is not processed: its offsets are not committed, the next run reads it again
            if message.error() is not None:
                raise KafkaException(message.error())
            if message.offset() >= end.get(message.partition(), 0):
                continue  # past the election's voters (fetched ahead): not read, not committed
            batch.offsets[message.partition()] = message.offset() + 1
            report.messages_read += 1
            try:
                voter = parse_voter(message.value())
            except BadMessageError as reason:
                report.bad_messages += 1
                if len(report.bad_samples) < BAD_MESSAGE_SAMPLES:
                    report.bad_samples.append(f"partition {message.partition()} offset {message.offset()}: {reason}")
                    log.warning("skipped bad voter message (%s)", report.bad_samples[-1])
                continue
            if voter.election_id != electorate.election_id:  # another election's voter published alongside
                report.other_elections += 1
                continue
            key, draw = voter_hash(seed, voter.voter_id)
            if threshold is None or key > threshold:
                report.abstained += 1
                continue
            if voter.voter_id in choices:  # re-delivered within the batch: the first message counts
                report.already_voted += 1
                continue
            candidate = choices[voter.voter_id] = prefs.choose(voter.address_state, draw)
            rows.append(f"{voter.voter_id}\t{candidate}\n")
        batch.copy_rows = "".join(rows)
        return batch

    def run(self, electorate: Electorate) -> CastReport:
        request, report = self.request, self.report
        started = time.perf_counter()
        self._electorate = electorate
        with self._open() as conn:
            self.republish_pending(conn, electorate)
        positions, end = self._start_positions(electorate)
        log.info(
            "%s registered voters, %s will vote (turnout %.1f%%); %s voter messages to read",
            f"{electorate.registered:,}",
            f"{electorate.voting:,}",
            100 * request.turnout,
            f"{sum(max(0, end[p] - positions[p]) for p in end):,}",
        )
        batch_size = request.batch_size
        if request.votes_per_second:
            batch_size = max(1, min(batch_size, int(request.votes_per_second / 5)))  # about five batches a second
        progress = Progress(log, "votes cast", electorate.voting or None, unit="votes")
        to_record: queue.Queue = queue.Queue(maxsize=self.recorders)
        to_publish: queue.Queue = queue.Queue()
        threads = [
            *(
                threading.Thread(target=self._recorder, args=(to_record, to_publish), name=f"record-{i}")
                for i in range(self.recorders)
            ),
            threading.Thread(target=self._publisher, args=(to_publish, self.recorders), name="publish"),
        ]
        for thread in threads:
            thread.start()
        decided = sequence = 0
        try:
            while self._failure is None and not all(positions[p] >= end[p] for p in end):
                if request.max_votes is not None and decided >= request.max_votes:
                    break
                began = time.perf_counter()
                messages = self.consumer.consume(num_messages=batch_size, timeout=1.0)
                room = None if request.max_votes is None else request.max_votes - decided
                batch = self._decide(sequence, messages, electorate, room, end)
                self._busy("decide", began)
                sequence += 1
                decided += len(batch.choices)
                positions.update(batch.offsets)
                to_record.put(batch)
                report.seconds = time.perf_counter() - started
                progress.update(report.votes_cast)
                if self.on_batch is not None:
                    self.on_batch(report)
                if request.votes_per_second and decided:
                    ahead = decided / request.votes_per_second - (time.perf_counter() - started)
                    if ahead > 0:
                        time.sleep(ahead)
        finally:
            for _ in range(self.recorders):
                to_record.put(_DONE)
            for thread in threads:
                thread.join()
        if self._failure is not None:
            raise self._failure
        with self._open() as conn, conn.transaction():
            self._delete_acknowledged(conn)
        report.seconds = time.perf_counter() - started
        progress.update(report.votes_cast, force=True)
        log.info("%s", report.summary())
        return report


def cast_election(
    connect: Callable[[], psycopg.Connection],
    kafka_config: dict[str, object],
    request: CastRequest,
    *,
    voters_topic: str,
    votes_topic: str,
    group_prefix: str,
    producer: Producer | None = None,
) -> CastReport:
    """Cast the votes of `request.election_id`: the electorate read from PostgreSQL, then the caster's run in the
    election's own consumer group (what the DAG's task and `python -m election.voting cast` both do)."""
    with connect() as conn:
        electorate = load_electorate(conn, request)
    consumer = caster_consumer(kafka_config, caster_group(group_prefix, request.election_id))
    try:
        caster = VoteCaster(
            connect,
            consumer,
            producer or reliable_producer(kafka_config),
            voters_topic=voters_topic,
            votes_topic=votes_topic,
            request=request,
        )
        return caster.run(electorate)
    finally:
        consumer.close()
