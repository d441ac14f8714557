-- The elections the stream counts: every election not yet certified (a certified election's count is final), or
-- only the listed ones when the job was given a list (the `only` parameter; null: all of them).
SELECT election_id
FROM results.elections
WHERE status <> 'certified' AND (%(only)s::bigint[] IS NULL OR election_id = ANY(%(only)s::bigint[]))
ORDER BY election_id;
