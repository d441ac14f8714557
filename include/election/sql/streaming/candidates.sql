-- The election's candidates with the labels the per-candidate totals carry.
SELECT candidate_id::text, candidate_name, party_name, photo_url
FROM candidates JOIN parties USING (party_id)
ORDER BY party_id;
