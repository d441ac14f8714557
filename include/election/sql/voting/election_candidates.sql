-- The election's candidates, in party order, with the labels every vote record carries.
SELECT candidate_id::text, candidate_name, party_name, photo_url
FROM candidates JOIN parties USING (election_id, party_id)
WHERE election_id = %(election_id)s
ORDER BY party_id;
