-- The selection key of the k-th registered voter of the election in the seeded order (k = %(k)s >= 1): exactly the
-- voters whose key is at most this one vote. The key is md5('<seed>:<voter_id>'), computed the same way by the
-- caster.
SELECT md5(%(seed)s || ':' || voter_id::text) AS selection_key
FROM voters
WHERE election_id = %(election_id)s
ORDER BY selection_key
OFFSET %(k)s - 1
LIMIT 1;
