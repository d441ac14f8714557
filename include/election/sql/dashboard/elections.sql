-- Every election, newest first: what the election selector offers.
SELECT election_id, name, status, created_at, closed_at, certified_at
FROM elections
ORDER BY election_id DESC;
