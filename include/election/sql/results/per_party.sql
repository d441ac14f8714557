-- Votes per party of the election (every party, 0 included).
SELECT p.party_name AS key, count(v.voter_id) AS postgres
FROM parties p
JOIN candidates c USING (election_id, party_id)
LEFT JOIN votes v ON v.election_id = c.election_id AND v.candidate_id = c.candidate_id
WHERE p.election_id = %(election_id)s
GROUP BY p.party_name;
