-- Votes per state and candidate of the election (the voter's registered state): what each state's call is checked
-- against at certification.
SELECT w.address_state AS state, v.candidate_id::text AS candidate_id, count(*) AS votes
FROM votes v
JOIN voters w USING (election_id, voter_id)
WHERE v.election_id = %(election_id)s
GROUP BY w.address_state, v.candidate_id;
