-- The newest election still accepting votes.
SELECT election_id, name, status, random_seed, num_voters, num_candidates, election_date, seed_run, created_at,
       published_at, voter_offsets, closed_at, certified_at
FROM elections
WHERE status = 'open'
ORDER BY election_id DESC
LIMIT 1;
