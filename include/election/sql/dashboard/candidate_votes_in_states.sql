-- Votes per candidate among voters of the selected states (the stream aggregates states and candidates
-- separately, so the state filter's per-candidate split is read here).
SELECT v.candidate_id::text AS candidate_id, count(*) AS total_votes
FROM votes v
JOIN voters r USING (voter_id)
WHERE r.address_state = ANY(%(states)s)
GROUP BY v.candidate_id;
