-- The candidates of the elections the stream counts, with the labels the per-candidate totals carry.
SELECT c.election_id, c.candidate_id::text, c.candidate_name, c.party_name, c.photo_url
FROM results.candidates c
JOIN results.elections e USING (election_id)
WHERE e.status <> 'certified' AND (%(only)s::bigint[] IS NULL OR e.election_id = ANY(%(only)s::bigint[]))
ORDER BY c.election_id, c.party_id;
