-- The votes PostgreSQL recorded per state of the elections %(elections)s (only the states %(states)s when not
-- NULL): what remains to be counted once an election, or a state's polls, closed.
SELECT r.election_id, r.state_code, r.votes
FROM results.votes_recorded_per_state r
WHERE r.election_id = ANY(%(elections)s::bigint[])
  AND (%(states)s::text[] IS NULL OR r.state_code = ANY(%(states)s::text[]));
