-- The election's candidates with their party (one candidate per party), in ballot order.
SELECT c.candidate_id::text AS candidate_id,
       c.candidate_name,
       p.party_name         AS party,
       p.color              AS party_color,
       c.photo_url
FROM candidates c
JOIN parties p USING (election_id, party_id)
WHERE c.election_id = %(election_id)s
ORDER BY p.party_id;
