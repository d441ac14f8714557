-- The election's batches recorded but not yet acknowledged by Kafka (a previous run stopped in between), oldest
-- first, with everything their records carry, from the tables.
SELECT o.batch_id,
       array_agg(v.voter_id::text) AS voter_ids,
       array_agg(v.candidate_id::text) AS candidate_ids,
       array_agg(v.voting_time) AS voting_times,
       array_agg(r.address_state) AS states,
       array_agg(r.gender) AS genders,
       array_agg(date_part('year', age(v.voting_time::date, r.date_of_birth))::int) AS ages
FROM vote_outbox o
CROSS JOIN LATERAL unnest(o.voter_ids) AS pending(voter_id)
JOIN votes v ON v.election_id = o.election_id AND v.voter_id = pending.voter_id
JOIN voters r ON r.election_id = v.election_id AND r.voter_id = v.voter_id
WHERE o.election_id = %(election_id)s
GROUP BY o.batch_id
ORDER BY o.batch_id;
