-- 0006 vote counts: how many votes each election holds, kept by the database as votes are recorded, so readers
-- (the dashboard's reconciliation line, every refresh) read a handful of rows instead of counting every vote.
-- Sharded by the recording backend (pg_backend_pid() % 8): concurrent recorders update different rows and never
-- wait for each other's commit; the count is the sum of an election's rows. Exact: the trigger runs in the
-- inserting transaction.

CREATE TABLE votes_recorded_counts (
    election_id bigint NOT NULL REFERENCES elections ON DELETE CASCADE,
    slot        smallint NOT NULL CHECK (slot BETWEEN 0 AND 7),
    votes       bigint NOT NULL,
    PRIMARY KEY (election_id, slot)
);

CREATE FUNCTION votes_recorded_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO votes_recorded_counts AS c (election_id, slot, votes)
    SELECT election_id, pg_backend_pid() % 8, count(*) FROM new_votes GROUP BY election_id
    ON CONFLICT (election_id, slot) DO UPDATE SET votes = c.votes + EXCLUDED.votes;
    RETURN NULL;
END
$$;

CREATE FUNCTION votes_recorded_remove() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- an election being deleted may already have lost its rows (cascade): then there is nothing to update
    INSERT INTO votes_recorded_counts AS c (election_id, slot, votes)
    SELECT o.election_id, pg_backend_pid() % 8, -count(*)
    FROM old_votes o
    WHERE EXISTS (SELECT FROM elections e WHERE e.election_id = o.election_id)
    GROUP BY o.election_id
    ON CONFLICT (election_id, slot) DO UPDATE SET votes = c.votes + EXCLUDED.votes;
    RETURN NULL;
END
$$;

CREATE TRIGGER votes_recorded_on_insert AFTER INSERT ON votes
    REFERENCING NEW TABLE AS new_votes FOR EACH STATEMENT EXECUTE FUNCTION votes_recorded_add();
CREATE TRIGGER votes_recorded_on_delete AFTER DELETE ON votes
    REFERENCING OLD TABLE AS old_votes FOR EACH STATEMENT EXECUTE FUNCTION votes_recorded_remove();

-- The votes already recorded (the lock keeps the count and the trigger's first additions apart).
LOCK TABLE votes IN SHARE MODE;
INSERT INTO votes_recorded_counts (election_id, slot, votes)
SELECT election_id, 0, count(*) FROM votes GROUP BY election_id;

-- The readers' view keeps its columns: the count per election, now a sum of at most eight rows.
CREATE OR REPLACE VIEW results.votes_recorded AS
SELECT election_id, sum(votes)::bigint AS votes
FROM public.votes_recorded_counts
GROUP BY election_id;
