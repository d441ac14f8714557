-- Each state of the elections the stream counts: its expected vote (what the per-state messages report against)
-- and whether its polls closed.
SELECT s.election_id, s.state_code, s.expected_votes, s.polls_closed_at IS NOT NULL AS polls_closed
FROM results.election_states s
WHERE %(only)s::bigint[] IS NULL OR s.election_id = ANY(%(only)s::bigint[]);
