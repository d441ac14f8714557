-- The voter roll of the elections the stream counts: who may vote, where, and what they are counted as (age on the
-- election's day). No name, address, birth date or contact: the registry.voter_roll view. CSV for Arrow.
COPY (
    SELECT v.election_id, v.voter_id::text, v.registered_state, v.gender, v.age
    FROM registry.voter_roll v
    JOIN results.elections e USING (election_id)
    WHERE e.status <> 'certified' AND (%(only)s::bigint[] IS NULL OR e.election_id = ANY(%(only)s::bigint[]))
) TO STDOUT (FORMAT csv, HEADER true)
