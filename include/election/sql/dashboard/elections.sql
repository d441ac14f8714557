-- Every election, newest first: what the election selector offers.
SELECT election_id, name, status, created_at, closed_at, certified_at
FROM results.elections
ORDER BY election_id DESC;
