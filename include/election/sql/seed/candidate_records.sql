-- Candidates as published to candidates_topic: with their party's name and colour.
SELECT c.candidate_id::text, c.candidate_name, c.party_id, p.party_name AS party, p.color AS party_color,
       c.biography, c.campaign_platform, c.photo_url
FROM candidates c JOIN parties p USING (party_id)
ORDER BY p.party_id;
