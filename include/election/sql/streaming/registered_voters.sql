-- Registered voters per state of the elections the stream counts, for turnout.
SELECT r.election_id, r.state_code, r.registered_voters
FROM results.registered_voters r
JOIN results.elections e USING (election_id)
WHERE e.status <> 'certified' AND (%(only)s::bigint[] IS NULL OR e.election_id = ANY(%(only)s::bigint[]));
