-- The certified results of an election, most votes first, with the candidates' labels.
SELECT r.candidate_id::text, c.candidate_name, p.party_name AS party, r.votes
FROM certified_results r
JOIN candidates c USING (election_id, candidate_id)
JOIN parties p USING (election_id, party_id)
WHERE r.election_id = %(election_id)s
ORDER BY r.votes DESC, c.candidate_name;
