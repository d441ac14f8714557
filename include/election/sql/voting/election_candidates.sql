-- The candidates, in party order, with the labels every vote record carries.
SELECT candidate_id::text, candidate_name, party_name, photo_url
FROM candidates JOIN parties USING (party_id)
ORDER BY party_id;
