-- The states where election %(election_id)s has voters: how many, the expected turnout the seed drew for each, and
-- whether its polls closed.
SELECT r.state_code, r.registered_voters, s.expected_turnout, s.polls_closed_at IS NOT NULL AS polls_closed
FROM registered_voters_per_state r
LEFT JOIN election_states s USING (election_id, state_code)
WHERE r.election_id = %(election_id)s AND r.registered_voters > 0
ORDER BY r.state_code;
