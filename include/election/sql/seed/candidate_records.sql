-- The election's candidates as published to candidates_topic: with their party's name and colour.
SELECT c.election_id, c.candidate_id::text, c.candidate_name, c.party_id, p.party_name AS party,
       p.party_name AS party_affiliation, p.color AS party_color, c.biography, c.campaign_platform, c.photo_url
FROM candidates c JOIN parties p USING (election_id, party_id)
WHERE c.election_id = %(election_id)s
ORDER BY p.party_id;
