-- The candidates of the election being loaded, as the candidates suite sees them: ids as text (the suite checks
-- their format).
SELECT election_id, candidate_id::text AS candidate_id, candidate_name, party_id, biography, campaign_platform,
       photo_url
FROM candidates
WHERE election_id = current_setting('election.loading')::bigint
