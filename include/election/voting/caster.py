"""Casting an election's votes: voters_topic -> PostgreSQL `votes` -> votes_topic, fast and crash-safe.

The caster of election E reads E's voters (where the seed recorded them on each partition of voters_topic) in
its own consumer group, `<ELECTION_VOTE_CASTER_GROUP>-<E>`: its committed offsets are E's progress, its outbox rows
are E's. Per batch of voter messages:

1. decide who votes and for whom (`preferences`: one hash per voter, independent of batches and runs);
   With `reporting_order` `east_to_west`, every voter is read and decided first, then the batches go out in waves
   by time zone, east first, and a wave's polls close once its batches are recorded and acknowledged
   (`reporting`); the consumer offsets are committed with the very last batch;
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

from election import elections, regions
from election.domain import REPORTING_ORDERS
from election.kafka_io import consumer as kafka_consumer
from election.kafka_io import produce_all, reliable_producer, watermarks
from election.progress import Progress
from election.records import CandidateLabel, vote_key
from election.sql import read_sql
from election.voting import reporting
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
    turnout: float | None = None  # None: each state's seeded expected turnout
    max_votes: int | None = None
    votes_per_second: float = 0.0  # 0: as fast as possible
    random_seed: int = 2026
    candidate_weights: tuple[float, ...] | None = None
    regional_variation: float = DEFAULT_REGIONAL_VARIATION
    reporting_order: str = "random"
    batch_size: int = BATCH_SIZE

    def __post_init__(self) -> None:
        if self.reporting_order not in REPORTING_ORDERS:
            orders = ", ".join(REPORTING_ORDERS)
            raise ValueError(f"reporting_order must be one of {orders}, got {self.reporting_order!r}")
        if self.turnout is not None and not 0 <= self.turnout <= 1:
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
    polls_closed: int = 0  # voters of states whose polls had closed: skipped
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
            f"skipped, {self.polls_closed:,} voters of states whose polls had closed skipped, "
            f"{self.republished:,} votes re-published from the outbox"
        )


@dataclass(frozen=True)
class Electorate:
    """What the run decides with: how many vote (exactly), where the turnout order stops, the preferences, and
    the candidates' labels the vote records carry."""

    election_id: int
    registered: int
    voting: int
    thresholds: dict[str, str]  # state -> selection key of its last voter who votes (no entry: nobody votes there)
    preferences: Preferences
    labels: dict[str, CandidateLabel]
    # partition -> (first, last) offset of the election's voters on voters_topic (None: the whole topic)
    voter_offsets: dict[int, tuple[int, int]] | None
    waves: list[tuple[str, ...]] | None = None  # the states in reporting order (None: all at once)
    closed_states: frozenset[str] = frozenset()  # states whose polls closed: their voters are not read again


def load_electorate(conn: psycopg.Connection, request: CastRequest) -> Electorate:
    election = elections.require(conn, request.election_id)
    if not election.is_open:
        raise ElectionNotOpenError(f"{election.describe()} accepts no more votes")
    if election.published_at is None:
        raise RuntimeError(f"{election.describe()} has not been published yet: wait for its election_seed run")
    scope = {"election_id": election.election_id}
    states = conn.execute(read_sql("voting/election_states.sql"), scope).fetchall()
    per_state = {state: int(voters) for state, voters, _, _ in states}
    closed = frozenset(state for state, _, _, polls_closed in states if polls_closed)
    try:
        votes = reporting.votes_per_state(
            per_state, request.turnout, {state: turnout for state, _, turnout, _ in states}
        )
        waves = reporting.waves(per_state, regions.time_zones(), request.reporting_order, election.election_date)
    except ValueError as error:
        raise ValueError(f"{election.describe()}: {error}") from None
    registered, voting = sum(per_state.values()), sum(votes.values())
    # the expected vote the stream reports against, per state: exactly what this run casts there
    voting_states = sorted(state for state, n in votes.items() if n)
    conn.execute(
        read_sql("voting/set_expected_votes.sql"),
        {**scope, "turnout": request.turnout, "states": list(votes), "votes": list(votes.values())},
    )
    conn.execute(
        read_sql("elections/set_expected_turnout.sql"), {**scope, "turnout": voting / registered if registered else 0}
    )
    rows = conn.execute(read_sql("voting/election_candidates.sql"), scope).fetchall()
    labels = {cid: CandidateLabel(name, party, photo) for cid, name, party, photo in rows}
    candidates = list(labels)
    thresholds: dict[str, str] = {}
    if voting_states:
        thresholds = dict(
            conn.execute(
                read_sql("voting/turnout_thresholds.sql"),
                {
                    **scope,
                    "seed": str(request.random_seed),
                    "states": voting_states,
                    "votes": [votes[state] for state in voting_states],
                },
            ).fetchall()
        )
    conn.commit()
    preferences = build_preferences(
        candidates, list(per_state), request.random_seed, request.candidate_weights, request.regional_variation
    )
    offsets = None
    if election.voter_offsets is not None:
        offsets = {int(partition): (span[0], span[1]) for partition, span in election.voter_offsets.items()}
    return Electorate(election.election_id, registered, voting, thresholds, preferences, labels, offsets, waves, closed)


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
    closes: tuple[str, ...] = ()  # states whose polls close once this batch is recorded and acknowledged


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
        if batch.closes:
            self.close_polls(batch.closes)

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
        self,
        sequence: int,
        messages: list,
        electorate: Electorate,
        room: int | None,
        end: dict[int, int],
        states: dict[str, str] | None = None,
    ) -> Batch:
        """A batch of voter messages -> the choices of those who vote (`states`, when given, gets each one's state)."""
        request, report = self.request, self.report
        seed, prefs, thresholds = request.random_seed, electorate.preferences, electorate.thresholds
        closed = electorate.closed_states
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
            if voter.address_state in closed:  # recorded before its polls closed (an earlier run)
                report.polls_closed += 1
                continue
            key, draw = voter_hash(seed, voter.voter_id)
            threshold = thresholds.get(voter.address_state)
            if threshold is None or key > threshold:
                report.abstained += 1
                continue
            if voter.voter_id in choices or (states is not None and voter.voter_id in states):
                report.already_voted += 1  # re-delivered within the batch (or the wave read): the first one counts
                continue
            candidate = choices[voter.voter_id] = prefs.choose(voter.address_state, draw)
            rows.append(f"{voter.voter_id}\t{candidate}\n")
            if states is not None:
                states[voter.voter_id] = voter.address_state
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
            "%s registered voters, %s will vote (%s); %s voter messages to read",
            f"{electorate.registered:,}",
            f"{electorate.voting:,}",
            "seeded turnout per state" if request.turnout is None else f"turnout {100 * request.turnout:.1f}%",
            f"{sum(max(0, end[p] - positions[p]) for p in end):,}",
        )
        batch_size = request.batch_size
        if request.votes_per_second:
            batch_size = max(1, min(batch_size, int(request.votes_per_second / 5)))  # about five batches a second
        self._progress = Progress(log, "votes cast", electorate.voting or None, unit="votes")
        self._started = self._paced_from = started
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
        try:
            if electorate.waves is None:
                self._cast_in_topic_order(electorate, positions, end, batch_size, to_record)
            else:
                self._cast_in_waves(electorate, electorate.waves, positions, end, batch_size, to_record)
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
        self._progress.update(report.votes_cast, force=True)
        log.info("%s", report.summary())
        return report

    def _send(self, batch: Batch, to_record: queue.Queue, decided: int) -> None:
        """Hand a batch to the recorders; then report, and wait as long as the pace asks."""
        to_record.put(batch)
        report, pace = self.report, self.request.votes_per_second
        report.seconds = time.perf_counter() - self._started
        self._progress.update(report.votes_cast)
        if self.on_batch is not None:
            self.on_batch(report)
        if pace and decided:
            ahead = decided / pace - (time.perf_counter() - self._paced_from)
            if ahead > 0:
                time.sleep(ahead)

    def _read(self, batch_size: int) -> list:
        began = time.perf_counter()
        messages = self.consumer.consume(num_messages=batch_size, timeout=1.0)
        self._busy("read", began)
        return messages

    def _cast_in_topic_order(
        self,
        electorate: Electorate,
        positions: dict[int, int],
        end: dict[int, int],
        batch_size: int,
        to_record: queue.Queue,
    ) -> None:
        """`random`: each batch of voter messages is decided, recorded and published as it is read."""
        max_votes = self.request.max_votes
        decided = sequence = 0
        while self._failure is None and not all(positions[p] >= end[p] for p in end):
            if max_votes is not None and decided >= max_votes:
                break
            messages = self._read(batch_size)
            began = time.perf_counter()
            room = None if max_votes is None else max_votes - decided
            batch = self._decide(sequence, messages, electorate, room, end)
            self._busy("decide", began)
            sequence += 1
            decided += len(batch.choices)
            positions.update(batch.offsets)
            self._send(batch, to_record, decided)

    def _cast_in_waves(
        self,
        electorate: Electorate,
        waves: list[tuple[str, ...]],
        positions: dict[int, int],
        end: dict[int, int],
        batch_size: int,
        to_record: queue.Queue,
    ) -> None:
        """`east_to_west`: every voter message is read and decided first; then the choices go out wave by wave, and
        a wave's polls close after its last batch. The offsets travel with the very last batch: a crash before it
        re-reads everything, and PostgreSQL's primary key (or the closed polls) skips who already voted."""
        max_votes = self.request.max_votes
        choices: dict[str, str] = {}
        states: dict[str, str] = {}
        while self._failure is None and not all(positions[p] >= end[p] for p in end):
            if max_votes is not None and len(choices) >= max_votes:
                break
            messages = self._read(batch_size)
            began = time.perf_counter()
            room = None if max_votes is None else max_votes - len(choices)
            batch = self._decide(0, messages, electorate, room, end, states)
            self._busy("decide", began)
            choices.update(batch.choices)
            positions.update(batch.offsets)
        complete = all(positions[p] >= end[p] for p in end)  # every voter read: the waves' polls may close
        wave_of = {state: number for number, wave in enumerate(waves) for state in wave}
        by_wave: list[list[str]] = [[] for _ in waves]
        for voter_id, state in states.items():
            by_wave[wave_of.get(state, len(waves) - 1)].append(voter_id)  # not on the roll: PostgreSQL skips it
        log.info(
            "%s voters decided; casting them in %d waves by time zone, east first%s",
            f"{len(choices):,}",
            len(waves),
            "" if complete else " (not every voter was read: no polls close in this run)",
        )
        decided = sequence = 0
        self._paced_from = time.perf_counter()  # the pace applies to the casting, not to reading every voter first
        for number, (wave, voters) in enumerate(zip(waves, by_wave, strict=True)):
            if self._failure is not None:
                return
            log.info("wave %d of %d: %s, %s votes", number + 1, len(waves), ", ".join(wave), f"{len(voters):,}")
            chunks = [voters[i : i + batch_size] for i in range(0, len(voters), batch_size)] or [[]]
            for i, chunk in enumerate(chunks):
                last = i == len(chunks) - 1
                batch = Batch(
                    sequence,
                    choices={voter_id: choices[voter_id] for voter_id in chunk},
                    copy_rows="".join(f"{voter_id}\t{choices[voter_id]}\n" for voter_id in chunk),
                    voting_time=dt.datetime.now(dt.UTC),
                    offsets=dict(positions) if complete and last and number == len(waves) - 1 else {},
                    closes=wave if complete and last else (),
                )
                sequence += 1
                decided += len(chunk)
                self._send(batch, to_record, decided)

    def close_polls(self, states: tuple[str, ...]) -> list[str]:
        """Close the polls of these states (after their votes are recorded and acknowledged); the ones closed now."""
        assert self._electorate is not None
        with self.connect() as conn, conn.transaction():
            closed = [
                state
                for (state,) in conn.execute(
                    read_sql("voting/close_polls.sql"),
                    {"election_id": self._electorate.election_id, "states": list(states)},
                )
            ]
        if closed:
            log.info("polls closed in %s: every vote there is recorded and published", ", ".join(sorted(closed)))
        return closed


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
