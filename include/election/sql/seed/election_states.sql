-- The states of election %(election_id)s, just loaded: each one's expected turnout, drawn between the election's
-- bounds from md5('<seed>:<state>') (the same seed, the same turnouts), and its expected vote (registered voters
-- times that turnout; the vote simulation fixes it to the exact number it casts).
INSERT INTO election_states (election_id, state_code, expected_turnout, expected_votes)
SELECT r.election_id, r.state_code, t.turnout, round(r.registered_voters * t.turnout)
FROM registered_voters_per_state r
JOIN elections e USING (election_id)
CROSS JOIN LATERAL (
    SELECT round(e.turnout_min + (e.turnout_max - e.turnout_min)
                 * (('x' || substr(md5(e.random_seed::text || ':' || r.state_code), 1, 8))::bit(32)::bigint
                    / 4294967295.0), 4) AS turnout
) t
WHERE r.election_id = %(election_id)s AND r.registered_voters > 0;
