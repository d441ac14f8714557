-- 0003 least privilege: the dashboard and the stream read through views that hold no personal data and no link
-- between a voter and a candidate (ballot secrecy); every grant is here.
--
--   results   what anyone showing results may read: elections, candidates, regions, registered and recorded
--             counts, certified results. The dashboard's role and the stream's role.
--   registry  what the stream checks votes against: the voter roll (election, voter, state, gender, age on the
--             election's day) without name, address, birth date or contact. The stream's role only.
--
-- The two roles are created, with their passwords, by whoever holds the server's superuser (`make up`, Compose's
-- init): the application's role cannot create roles. Their names reach this file as settings of the migration's
-- transaction (election.migrations.upgrade sets them with bound parameters).

DO $$
DECLARE
    wanted text;
BEGIN
    FOREACH wanted IN ARRAY ARRAY[current_setting('election.dashboard_role', true),
                                 current_setting('election.stream_role', true)] LOOP
        IF wanted IS NULL OR wanted = '' THEN
            RAISE EXCEPTION 'the readers'' role names are not set: run the migrations through election.migrations';
        END IF;
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = wanted) THEN
            RAISE EXCEPTION 'role % does not exist: `make up` (or Compose''s airflow-init) creates it', wanted;
        END IF;
    END LOOP;
END
$$;

-- The single-election design let the application create the dashboard's role; it no longer may.
DROP FUNCTION IF EXISTS grant_read_only(text, text);

CREATE SCHEMA results;
CREATE SCHEMA registry;

CREATE VIEW results.elections AS
SELECT election_id, name, status, election_date, num_voters, num_candidates, created_at, published_at, closed_at,
       certified_at
FROM public.elections;

CREATE VIEW results.candidates AS
SELECT c.election_id, c.candidate_id, c.candidate_name, p.party_id, p.party_name, p.color AS party_color, c.photo_url
FROM public.candidates c
JOIN public.parties p USING (election_id, party_id);

CREATE VIEW results.regions AS
SELECT state_code, state_name, latitude, longitude, population, tile_row, tile_col
FROM public.regions;

CREATE VIEW results.registered_voters AS
SELECT election_id, state_code, registered_voters
FROM public.registered_voters_per_state;

-- How many votes each election holds: a count, no voter.
CREATE VIEW results.votes_recorded AS
SELECT election_id, count(*) AS votes
FROM public.votes
GROUP BY election_id;

CREATE VIEW results.certified_results AS
SELECT election_id, candidate_id, votes
FROM public.certified_results;

CREATE VIEW registry.voter_roll AS
SELECT v.election_id, v.voter_id, v.address_state AS registered_state, v.gender,
       date_part('year', age(e.election_date, v.date_of_birth))::int AS age
FROM public.voters v
JOIN public.elections e USING (election_id);

-- Nobody but the owner sees the tables; each reader sees its views, and later views of its schemas too.
REVOKE ALL ON SCHEMA public FROM PUBLIC;
DO $$
DECLARE
    dashboard text := current_setting('election.dashboard_role');
    stream text := current_setting('election.stream_role');
BEGIN
    -- the single-election design granted the dashboard's role SELECT on every table, now and to come
    EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA public FROM %I, %I', dashboard, stream);
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM %I, %I', dashboard, stream);
    EXECUTE format('REVOKE CONNECT, TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I, %I', current_database(), dashboard, stream);
    EXECUTE format('GRANT USAGE ON SCHEMA results TO %I, %I', dashboard, stream);
    EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA results TO %I, %I', dashboard, stream);
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA results GRANT SELECT ON TABLES TO %I, %I', dashboard, stream);
    EXECUTE format('GRANT USAGE ON SCHEMA registry TO %I', stream);
    EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA registry TO %I', stream);
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA registry GRANT SELECT ON TABLES TO %I', stream);
END
$$;
