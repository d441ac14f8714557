-- Records the votes of cast_batch, cast at %(voting_time)s, and their outbox row, in one statement of the caller's
-- transaction.
-- One vote per voter is the votes table's primary key: ON CONFLICT DO NOTHING skips a voter who already voted
-- (a re-delivered voter message, a re-run), who is then neither counted nor re-published.
-- Returns, for the votes recorded, the registry's facts their records carry, one tab-separated line per vote:
-- voter, state, gender, age on the day of the vote (one text value: nothing to parse in the recording thread).
WITH batch AS (
    SELECT b.voter_id, b.candidate_id, v.address_state, v.gender,
           date_part('year', age(%(voting_time)s::date, v.date_of_birth))::int AS age,
           v.voter_id IS NOT NULL AS known
    FROM cast_batch b LEFT JOIN voters v USING (voter_id)
), inserted AS (
    INSERT INTO votes (voter_id, candidate_id, voting_time)
    SELECT voter_id, candidate_id, %(voting_time)s FROM batch WHERE known
    ON CONFLICT (voter_id) DO NOTHING
    RETURNING voter_id
), outbox AS (
    INSERT INTO vote_outbox (voter_ids)
    SELECT array_agg(voter_id) FROM inserted HAVING count(*) > 0
    RETURNING batch_id
)
SELECT (SELECT count(*) FROM batch WHERE NOT known) AS unknown_voters,
       (SELECT count(*) FROM batch WHERE known) AS known_voters,
       (SELECT batch_id FROM outbox) AS batch_id,
       string_agg(concat_ws(E'\t', i.voter_id, b.address_state, b.gender, b.age), E'\n') AS recorded
FROM inserted i JOIN batch b USING (voter_id);
