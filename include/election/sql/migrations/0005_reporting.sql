-- 0005 reporting: each state's expected turnout (drawn by the seed within the election's bounds) and expected vote
-- (fixed by the vote simulation, which knows it), and when each state's polls closed: a state whose polls closed
-- accepts no more votes, so its race can be called on the votes it holds.

ALTER TABLE elections
    ADD COLUMN turnout_min numeric(5, 4),
    ADD COLUMN turnout_max numeric(5, 4),
    ADD CONSTRAINT elections_turnout_bounds CHECK (0 <= turnout_min AND turnout_min <= turnout_max AND turnout_max <= 1);

CREATE TABLE election_states (
    election_id      bigint NOT NULL REFERENCES elections ON DELETE CASCADE,
    state_code       text NOT NULL REFERENCES regions (state_code),
    expected_turnout numeric(5, 4) CHECK (expected_turnout BETWEEN 0 AND 1),
    expected_votes   bigint CHECK (expected_votes >= 0),
    polls_closed_at  timestamptz,
    PRIMARY KEY (election_id, state_code)
);

-- Elections seeded before this migration: their states, with the election's one expected turnout if it had one.
INSERT INTO election_states (election_id, state_code, expected_turnout, expected_votes)
SELECT r.election_id, r.state_code, e.expected_turnout, round(r.registered_voters * e.expected_turnout)
FROM registered_voters_per_state r
JOIN elections e USING (election_id)
WHERE r.registered_voters > 0;

-- Votes are accepted only while their election is open and, in its states whose polls closed, not at all. The
-- election rows are share-locked first: closing an election, or a state's polls, takes the row's update lock,
-- so it waits for the votes being recorded, and a vote recorded after it commits sees it.
CREATE OR REPLACE FUNCTION votes_only_while_open() RETURNS trigger LANGUAGE plpgsql AS $$
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
    -- only when some state's polls closed: the usual statement pays one index probe, not a join
    IF EXISTS (SELECT FROM election_states
               WHERE election_id IN (SELECT DISTINCT election_id FROM new_votes) AND polls_closed_at IS NOT NULL) THEN
        SELECT s.election_id, s.state_code INTO refused
        FROM new_votes n
        JOIN voters v USING (election_id, voter_id)
        JOIN election_states s ON s.election_id = v.election_id AND s.state_code = v.address_state
        WHERE s.polls_closed_at IS NOT NULL
        LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'the polls of % closed in election %: it accepts no more votes there',
                refused.state_code, refused.election_id
                USING ERRCODE = 'check_violation', HINT = 'a state whose polls closed records no more votes';
        END IF;
    END IF;
    RETURN NULL;
END
$$;

-- The readers' views (no personal data).
CREATE OR REPLACE VIEW results.elections AS
SELECT election_id, name, status, election_date, num_voters, num_candidates, created_at, published_at, closed_at,
       certified_at, expected_turnout, turnout_min, turnout_max
FROM public.elections;

CREATE VIEW results.election_states AS
SELECT election_id, state_code, expected_turnout, expected_votes, polls_closed_at
FROM public.election_states;
