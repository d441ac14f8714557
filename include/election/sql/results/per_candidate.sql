-- Votes per candidate of the election (every candidate, 0 included), with its label, in party order.
SELECT c.candidate_id::text AS key, c.candidate_name, p.party_name AS party, c.photo_url,
       count(v.voter_id) AS postgres
FROM candidates c
JOIN parties p USING (election_id, party_id)
LEFT JOIN votes v ON v.election_id = c.election_id AND v.candidate_id = c.candidate_id
WHERE c.election_id = %(election_id)s
GROUP BY c.candidate_id, c.candidate_name, p.party_name, c.photo_url, p.party_id
ORDER BY p.party_id;
