-- The election's data model: the original project's tables and column names, with proper types and constraints.
-- The database enforces integrity (keys, references, enumerations, one vote per voter); plausibility checks
-- (voting age, e-mail format, picture URLs) are the data-quality suites' job (include/election/quality/).

CREATE TABLE IF NOT EXISTS parties (
    party_id   integer PRIMARY KEY CHECK (party_id > 0),
    party_name text NOT NULL UNIQUE CHECK (party_name <> ''),
    color      text NOT NULL CHECK (color ~ '^#[0-9a-f]{6}$')
);

CREATE TABLE IF NOT EXISTS candidates (
    candidate_id      uuid PRIMARY KEY,
    candidate_name    text NOT NULL CHECK (candidate_name <> ''),
    -- UNIQUE: one candidate per party
    party_id          integer NOT NULL UNIQUE REFERENCES parties (party_id),
    biography         text NOT NULL,
    campaign_platform text NOT NULL,
    photo_url         text NOT NULL
);

CREATE TABLE IF NOT EXISTS voters (
    voter_id            uuid PRIMARY KEY,
    voter_name          text NOT NULL CHECK (voter_name <> ''),
    date_of_birth       date NOT NULL,
    gender              text NOT NULL CHECK (gender IN ('female', 'male', 'nonbinary')),
    nationality         text NOT NULL,
    registration_number text NOT NULL UNIQUE,
    address_street      text NOT NULL,
    address_city        text NOT NULL,
    address_state       text NOT NULL REFERENCES regions (state_code),
    address_country     text NOT NULL,
    address_postcode    text NOT NULL,
    email               text NOT NULL,
    phone_number        text,
    cell_number         text,
    picture             text NOT NULL,
    -- years since registration (the original's randomuser `registered.age`)
    registered_age      integer NOT NULL CHECK (registered_age >= 0)
);
-- registered voters per state: turnout
CREATE INDEX IF NOT EXISTS voters_address_state_idx ON voters (address_state);

CREATE TABLE IF NOT EXISTS votes (
    -- PRIMARY KEY: one vote per voter, enforced by the database (casting uses ON CONFLICT DO NOTHING)
    voter_id     uuid PRIMARY KEY REFERENCES voters (voter_id),
    candidate_id uuid NOT NULL REFERENCES candidates (candidate_id),
    voting_time  timestamptz NOT NULL DEFAULT now(),
    vote         integer NOT NULL DEFAULT 1 CHECK (vote = 1)
);
-- the reconciliation of the streaming job's totals (SELECT candidate_id, count(*) ... GROUP BY 1) and the
-- dashboard's per-candidate reads; the per-minute series comes from Kafka, so voting_time needs no index
CREATE INDEX IF NOT EXISTS votes_candidate_id_idx ON votes (candidate_id);

-- What election_seed loaded, so a re-run with the same parameters is a no-op and a different one is refused.
CREATE TABLE IF NOT EXISTS election_registry (
    singleton      boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    random_seed    bigint NOT NULL,
    num_voters     integer NOT NULL CHECK (num_voters > 0),
    num_candidates integer NOT NULL CHECK (num_candidates >= 2),
    election_date  date NOT NULL,
    loaded_at      timestamptz NOT NULL DEFAULT now(),
    published_at   timestamptz
);

INSERT INTO schema_migrations (version) VALUES ('002_election') ON CONFLICT DO NOTHING;
