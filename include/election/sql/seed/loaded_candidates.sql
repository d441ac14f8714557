-- The candidates table as the candidates suite sees it: ids as text (the suite checks their format).
SELECT candidate_id::text AS candidate_id, candidate_name, party_id, biography, campaign_platform, photo_url
FROM candidates
