-- The parties of the election being loaded (election.loading, set by the load), as the parties suite sees them.
SELECT election_id, party_id, party_name, color
FROM parties
WHERE election_id = current_setting('election.loading')::bigint
