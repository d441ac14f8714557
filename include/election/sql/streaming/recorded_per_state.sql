-- The votes PostgreSQL recorded per state of the closed elections: what remains to be counted after a close.
SELECT r.election_id, r.state_code, r.votes
FROM results.votes_recorded_per_state r
WHERE r.election_id = ANY(%(closed)s::bigint[]);
