-- The election a given election_seed run created (a retry of the run finds it).
SELECT election_id, name, status, random_seed, num_voters, num_candidates, election_date, seed_run, created_at,
       published_at, voter_offsets, closed_at, certified_at
FROM elections
WHERE seed_run = %(seed_run)s;
