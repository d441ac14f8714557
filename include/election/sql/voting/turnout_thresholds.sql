-- Per state of election %(election_id)s, the selection key of its k-th registered voter in the seeded order (k: the
-- state's votes, %(votes)s, for the states %(states)s; states with k = 0 are not asked): exactly the voters whose
-- key is at most their state's threshold vote. The key is md5('<seed>:<voter_id>'), computed the same way by the
-- caster.
WITH keyed AS (
    SELECT address_state, md5(%(seed)s || ':' || voter_id::text) AS selection_key
    FROM voters
    WHERE election_id = %(election_id)s
), ranked AS (
    SELECT address_state, selection_key,
           row_number() OVER (PARTITION BY address_state ORDER BY selection_key) AS place
    FROM keyed
)
SELECT r.address_state, r.selection_key
FROM ranked r
JOIN unnest(%(states)s::text[], %(votes)s::bigint[]) AS k (state_code, votes)
  ON k.state_code = r.address_state AND r.place = k.votes;
