-- Records the votes of cast_batch in election %(election_id)s, cast at %(voting_time)s, and their outbox row, in one
-- statement of the caller's transaction.
-- One vote per voter and election is the votes table's primary key: ON CONFLICT DO NOTHING skips a voter who
-- already voted (a re-delivered voter message, a re-run), who is then neither counted nor re-published. A closed
-- election refuses the insert (trigger votes_only_while_open).
-- Returns, for the votes recorded, the registry's facts their records carry, one tab-separated line per vote:
-- voter, state, gender, age on the day of the vote (one text value: nothing to parse in the recording thread).
WITH batch AS (
    SELECT b.voter_id, b.candidate_id, v.address_state, v.gender,
           date_part('year', age(%(voting_time)s::date, v.date_of_birth))::int AS age,
           v.voter_id IS NOT NULL AS known
    FROM cast_batch b
    LEFT JOIN voters v ON v.election_id = %(election_id)s AND v.voter_id = b.voter_id
), inserted AS (
    INSERT INTO votes (election_id, voter_id, candidate_id, voting_time)
    SELECT %(election_id)s, voter_id, candidate_id, %(voting_time)s FROM batch WHERE known
    ON CONFLICT (election_id, voter_id) DO NOTHING
    RETURNING voter_id
), outbox AS (
    INSERT INTO vote_outbox (election_id, voter_ids)
    SELECT %(election_id)s, array_agg(voter_id) FROM inserted HAVING count(*) > 0
    RETURNING batch_id
)
SELECT (SELECT count(*) FROM batch WHERE NOT known) AS unknown_voters,
       (SELECT count(*) FROM batch WHERE known) AS known_voters,
       (SELECT batch_id FROM outbox) AS batch_id,
       string_agg(concat_ws(E'\t', i.voter_id, b.address_state, b.gender, b.age), E'\n') AS recorded
FROM inserted i JOIN batch b USING (voter_id);
