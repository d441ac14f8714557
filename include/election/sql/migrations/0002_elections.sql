-- 0002 elections: many elections side by side, each with its lifecycle (open -> closed -> certified).
--
-- Parties, candidates, voters, votes and the outbox belong to an election. One vote per voter *per election* is
-- the votes table's primary key (election_id, voter_id); a vote must name a voter and a candidate of its own
-- election (composite foreign keys); a vote for an election that is not open is refused by a trigger.
--
-- An installation made before elections existed holds one election: its registry row becomes election 1 and
-- every row it holds (voters, votes, outbox rows, counts) is kept, belonging to election 1.

CREATE TABLE elections (
    election_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name           text NOT NULL CHECK (name <> ''),
    status         text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed', 'certified')),
    -- what election_seed generated it with (same parameters, same voters and candidates)
    random_seed    bigint NOT NULL,
    num_voters     integer NOT NULL CHECK (num_voters > 0),
    num_candidates integer NOT NULL CHECK (num_candidates >= 2),
    election_date  date NOT NULL,
    -- the election_seed run that created it: a retry of that run finds it instead of creating another
    seed_run       text UNIQUE,
    created_at     timestamptz NOT NULL DEFAULT now(),
    published_at   timestamptz,
    -- where its voters sit on voters_topic, per partition: {"<partition>": [first offset, last offset]}
    voter_offsets  jsonb,
    closed_at      timestamptz,
    certified_at   timestamptz,
    CHECK ((status = 'open') = (closed_at IS NULL)),
    CHECK ((status = 'certified') = (certified_at IS NOT NULL))
);

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM election_registry)
       AND (EXISTS (SELECT FROM parties) OR EXISTS (SELECT FROM voters)) THEN
        RAISE EXCEPTION 'parties or voters hold rows that no election_seed run registered: '
            'this installation cannot be upgraded in place (move those rows away first)';
    END IF;
END
$$;

INSERT INTO elections (name, random_seed, num_voters, num_candidates, election_date, created_at, published_at)
SELECT format('Election of %s (seed %s)', election_date, random_seed),
       random_seed, num_voters, num_candidates, election_date, loaded_at, published_at
FROM election_registry;

-- The single-election keys go; composite keys replace them below.
ALTER TABLE votes DROP CONSTRAINT votes_voter_id_fkey, DROP CONSTRAINT votes_candidate_id_fkey,
    DROP CONSTRAINT votes_pkey;
ALTER TABLE candidates DROP CONSTRAINT candidates_party_id_fkey, DROP CONSTRAINT candidates_party_id_key,
    DROP CONSTRAINT candidates_pkey;
ALTER TABLE parties DROP CONSTRAINT parties_party_name_key, DROP CONSTRAINT parties_pkey;
ALTER TABLE voters DROP CONSTRAINT voters_registration_number_key, DROP CONSTRAINT voters_pkey;
ALTER TABLE registered_voters_per_state DROP CONSTRAINT registered_voters_per_state_pkey;
DROP INDEX voters_address_state_idx;
DROP INDEX votes_candidate_id_idx;

-- Rows already there belong to election 1 (the default exists only for them; no table is rewritten).
ALTER TABLE parties ADD COLUMN election_id bigint NOT NULL DEFAULT 1;
ALTER TABLE candidates ADD COLUMN election_id bigint NOT NULL DEFAULT 1;
ALTER TABLE voters ADD COLUMN election_id bigint NOT NULL DEFAULT 1;
ALTER TABLE votes ADD COLUMN election_id bigint NOT NULL DEFAULT 1;
ALTER TABLE vote_outbox ADD COLUMN election_id bigint NOT NULL DEFAULT 1;
ALTER TABLE registered_voters_per_state ADD COLUMN election_id bigint NOT NULL DEFAULT 1;
ALTER TABLE parties ALTER COLUMN election_id DROP DEFAULT;
ALTER TABLE candidates ALTER COLUMN election_id DROP DEFAULT;
ALTER TABLE voters ALTER COLUMN election_id DROP DEFAULT;
ALTER TABLE votes ALTER COLUMN election_id DROP DEFAULT;
ALTER TABLE vote_outbox ALTER COLUMN election_id DROP DEFAULT;
ALTER TABLE registered_voters_per_state ALTER COLUMN election_id DROP DEFAULT;

ALTER TABLE parties
    ADD PRIMARY KEY (election_id, party_id),
    ADD UNIQUE (election_id, party_name),
    ADD FOREIGN KEY (election_id) REFERENCES elections ON DELETE CASCADE;
ALTER TABLE candidates
    ADD PRIMARY KEY (election_id, candidate_id),
    -- one candidate per party
    ADD UNIQUE (election_id, party_id),
    ADD FOREIGN KEY (election_id, party_id) REFERENCES parties ON DELETE CASCADE;
ALTER TABLE voters
    ADD PRIMARY KEY (election_id, voter_id),
    ADD UNIQUE (election_id, registration_number),
    ADD FOREIGN KEY (election_id) REFERENCES elections ON DELETE CASCADE;
ALTER TABLE votes
    -- one vote per voter per election, enforced by the database (casting uses ON CONFLICT DO NOTHING)
    ADD PRIMARY KEY (election_id, voter_id),
    ADD FOREIGN KEY (election_id, voter_id) REFERENCES voters ON DELETE CASCADE,
    -- a vote names a candidate of its own election
    ADD FOREIGN KEY (election_id, candidate_id) REFERENCES candidates ON DELETE CASCADE;
ALTER TABLE vote_outbox ADD FOREIGN KEY (election_id) REFERENCES elections ON DELETE CASCADE;
ALTER TABLE registered_voters_per_state
    ADD PRIMARY KEY (election_id, state_code),
    ADD FOREIGN KEY (election_id) REFERENCES elections ON DELETE CASCADE;

-- Registered voters per election and state, still kept by the statement-level triggers of 0001.
CREATE OR REPLACE FUNCTION registered_voters_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO registered_voters_per_state AS r (election_id, state_code, registered_voters)
    SELECT election_id, address_state, count(*) FROM added_voters GROUP BY election_id, address_state
    ON CONFLICT (election_id, state_code)
    DO UPDATE SET registered_voters = r.registered_voters + excluded.registered_voters;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION registered_voters_remove() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE registered_voters_per_state AS r
    SET registered_voters = r.registered_voters - removed.n
    FROM (SELECT election_id, address_state, count(*) AS n FROM removed_voters GROUP BY 1, 2) AS removed
    WHERE r.election_id = removed.election_id AND r.state_code = removed.address_state;
    RETURN NULL;
END
$$;

-- An election's status only moves forward: open -> closed -> certified.
CREATE FUNCTION elections_status_moves_forward() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status IS DISTINCT FROM OLD.status
       AND NOT ((OLD.status, NEW.status) IN (('open', 'closed'), ('closed', 'certified'))) THEN
        RAISE EXCEPTION 'election % cannot go from % to %', OLD.election_id, OLD.status, NEW.status
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER elections_status_moves_forward BEFORE UPDATE OF status ON elections
    FOR EACH ROW EXECUTE FUNCTION elections_status_moves_forward();

-- Votes are accepted only while their election is open. The election rows are share-locked first, so closing an
-- election waits for the votes being recorded, and a vote recorded after a close commits sees `closed`.
CREATE FUNCTION votes_only_while_open() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    refused record;
BEGIN
    PERFORM FROM elections WHERE election_id IN (SELECT DISTINCT election_id FROM new_votes) FOR SHARE;
    SELECT election_id, status INTO refused
    FROM elections
    WHERE election_id IN (SELECT DISTINCT election_id FROM new_votes) AND status <> 'open'
    ORDER BY election_id
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'election % is %: it accepts no more votes', refused.election_id, refused.status
            USING ERRCODE = 'check_violation', HINT = 'votes are recorded only while an election is open';
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER votes_only_while_open AFTER INSERT ON votes
    REFERENCING NEW TABLE AS new_votes FOR EACH STATEMENT EXECUTE FUNCTION votes_only_while_open();

-- What election_certify writes once the stream's totals agree with this database: the final count per candidate.
CREATE TABLE certified_results (
    election_id  bigint NOT NULL,
    candidate_id uuid NOT NULL,
    votes        bigint NOT NULL CHECK (votes >= 0),
    PRIMARY KEY (election_id, candidate_id),
    FOREIGN KEY (election_id, candidate_id) REFERENCES candidates ON DELETE CASCADE
);

-- Votes recorded before this migration were published without an election id (the streaming job of this schema
-- sets such records aside as malformed). Queued in the outbox of election 1, they are published again, in the
-- election's format, by the next vote caster or certification of it (the stream counts each voter once).
INSERT INTO vote_outbox (election_id, voter_ids)
SELECT 1, array_agg(voter_id)
FROM (SELECT voter_id, (row_number() OVER (ORDER BY voter_id) - 1) / 50000 AS chunk FROM votes) AS recorded
GROUP BY chunk;

-- The singleton registry and the hand-rolled migration table are replaced by `elections` and Alembic.
DROP TABLE election_registry;
DROP TABLE schema_migrations;
