-- The election's certified count per candidate (no row before certification).
SELECT candidate_id::text AS candidate_id, votes AS total_votes
FROM results.certified_results
WHERE election_id = %(election_id)s;
