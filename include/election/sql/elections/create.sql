-- A new election, open; its id.
INSERT INTO elections (name, random_seed, num_voters, num_candidates, election_date, seed_run)
VALUES (%(name)s, %(random_seed)s, %(num_voters)s, %(num_candidates)s, %(election_date)s, %(seed_run)s)
RETURNING election_id;
