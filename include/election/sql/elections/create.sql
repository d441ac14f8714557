-- A new election, open; its id.
INSERT INTO elections (name, random_seed, num_voters, num_candidates, election_date, seed_run, turnout_min, turnout_max)
VALUES (%(name)s, %(random_seed)s, %(num_voters)s, %(num_candidates)s, %(election_date)s, %(seed_run)s,
        %(turnout_min)s, %(turnout_max)s)
RETURNING election_id;
