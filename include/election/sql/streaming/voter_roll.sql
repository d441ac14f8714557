-- The voter roll of the elections the stream counts: who may vote, where, and what they are counted as (age on the
-- election's day). No name, address, birth date or contact. CSV for Arrow.
COPY (
    SELECT v.election_id, v.voter_id::text, v.address_state AS registered_state, v.gender,
           date_part('year', age(e.election_date, v.date_of_birth))::int AS age
    FROM voters v
    JOIN elections e USING (election_id)
    WHERE e.status <> 'certified' AND (%(only)s::bigint[] IS NULL OR e.election_id = ANY(%(only)s::bigint[]))
) TO STDOUT (FORMAT csv, HEADER true)
