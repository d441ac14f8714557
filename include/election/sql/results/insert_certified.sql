-- The certified count of one candidate.
INSERT INTO certified_results (election_id, candidate_id, votes)
VALUES (%(election_id)s, %(candidate_id)s, %(votes)s);
