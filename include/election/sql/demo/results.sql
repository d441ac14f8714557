-- Votes recorded per candidate (every candidate, with 0 before their first vote).
SELECT c.candidate_id::text, c.candidate_name, p.party_name, count(v.voter_id) AS votes
FROM candidates c
JOIN parties p USING (party_id)
LEFT JOIN votes v USING (candidate_id)
GROUP BY c.candidate_id, c.candidate_name, p.party_name;
