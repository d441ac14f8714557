-- What the race desk needs of the elections the stream counts, polled every few seconds: each one's status.
SELECT election_id, status
FROM results.elections
WHERE status <> 'certified' AND (%(only)s::bigint[] IS NULL OR election_id = ANY(%(only)s::bigint[]));
