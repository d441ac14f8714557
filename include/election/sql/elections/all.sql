-- Every election, newest first.
SELECT election_id, name, status, random_seed, num_voters, num_candidates, election_date, seed_run, created_at,
       published_at, voter_offsets, closed_at, certified_at
FROM elections
ORDER BY election_id DESC;
