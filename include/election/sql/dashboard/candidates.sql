-- The election's candidates with their party (one candidate per party), in ballot order.
SELECT candidate_id::text AS candidate_id,
       candidate_name,
       party_name AS party,
       party_color,
       photo_url
FROM results.candidates
WHERE election_id = %(election_id)s
ORDER BY party_id;
