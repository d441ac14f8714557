INSERT INTO election_registry (random_seed, num_voters, num_candidates, election_date)
VALUES (%(random_seed)s, %(num_voters)s, %(num_candidates)s, %(election_date)s);
