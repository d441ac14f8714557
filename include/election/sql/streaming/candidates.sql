-- The candidates of the elections the stream counts, with the labels the per-candidate totals carry.
SELECT c.election_id, c.candidate_id::text, c.candidate_name, p.party_name, c.photo_url
FROM candidates c
JOIN parties p USING (election_id, party_id)
JOIN elections e USING (election_id)
WHERE e.status <> 'certified' AND (%(only)s::bigint[] IS NULL OR e.election_id = ANY(%(only)s::bigint[]))
ORDER BY c.election_id, p.party_id;
