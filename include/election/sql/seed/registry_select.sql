SELECT random_seed, num_voters, num_candidates, election_date, published_at FROM election_registry;
