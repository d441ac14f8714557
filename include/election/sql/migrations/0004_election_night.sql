-- 0004 election night: each state's electoral votes, an election's expected turnout, when PostgreSQL recorded
-- each vote (so a race call can be checked against what PostgreSQL held when it was made), and the race calls
-- certification keeps.

-- Filled by election_schema's load_regions from include/election/data/us_states.csv (2020 apportionment).
ALTER TABLE regions ADD COLUMN electoral_votes integer CHECK (electoral_votes >= 0);

-- The share of registered voters expected to vote: set by election_vote_simulation (it knows its turnout).
ALTER TABLE elections ADD COLUMN expected_turnout numeric(5, 4) CHECK (expected_turnout BETWEEN 0 AND 1);

-- When PostgreSQL stored the vote (its transaction's time), not the simulated voting_time. Votes recorded before
-- this migration keep NULL: nobody knows when they were stored.
ALTER TABLE votes ADD COLUMN recorded_at timestamptz;
ALTER TABLE votes ALTER COLUMN recorded_at SET DEFAULT now();

CREATE TABLE certified_race_calls (
    election_id     bigint NOT NULL REFERENCES elections ON DELETE CASCADE,
    state           text NOT NULL,          -- a state code, or 'national'
    candidate_id    uuid,                   -- the winner; NULL for a tie
    tie             boolean NOT NULL,
    votes           bigint NOT NULL CHECK (votes >= 0),
    margin          bigint NOT NULL CHECK (margin >= 0),
    remaining       bigint NOT NULL CHECK (remaining >= 0),
    electoral_votes integer,
    called_at       timestamptz NOT NULL,
    PRIMARY KEY (election_id, state),
    FOREIGN KEY (election_id, candidate_id) REFERENCES candidates ON DELETE CASCADE,
    CHECK (tie = (candidate_id IS NULL))
);

-- The readers' views gain the new columns (appended: the views keep their other columns as they were).
CREATE OR REPLACE VIEW results.elections AS
SELECT election_id, name, status, election_date, num_voters, num_candidates, created_at, published_at, closed_at,
       certified_at, expected_turnout
FROM public.elections;

CREATE OR REPLACE VIEW results.regions AS
SELECT state_code, state_name, latitude, longitude, population, tile_row, tile_col, electoral_votes
FROM public.regions;

-- How many votes each election holds per state (the voter's registered state): counts, no voter.
CREATE VIEW results.votes_recorded_per_state AS
SELECT w.election_id, w.address_state AS state_code, count(*) AS votes
FROM public.votes v
JOIN public.voters w USING (election_id, voter_id)
GROUP BY w.election_id, w.address_state;

CREATE VIEW results.certified_race_calls AS
SELECT election_id, state, candidate_id, tie, votes, margin, remaining, electoral_votes, called_at
FROM public.certified_race_calls;
