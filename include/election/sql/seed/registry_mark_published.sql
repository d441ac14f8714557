UPDATE election_registry SET published_at = now()
WHERE random_seed = %(random_seed)s AND num_voters = %(num_voters)s AND num_candidates = %(num_candidates)s;
