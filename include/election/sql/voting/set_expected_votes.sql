-- The exact number of votes the simulation casts in each state of election %(election_id)s: the expected vote the
-- stream reports against; with one turnout for the whole election (%(turnout)s not NULL), also each state's
-- expected turnout, else the seeded one is kept.
INSERT INTO election_states AS s (election_id, state_code, expected_turnout, expected_votes)
SELECT %(election_id)s, v.state_code, %(turnout)s, v.votes
FROM unnest(%(states)s::text[], %(votes)s::bigint[]) AS v (state_code, votes)
ON CONFLICT (election_id, state_code) DO UPDATE
SET expected_votes = EXCLUDED.expected_votes,
    expected_turnout = coalesce(EXCLUDED.expected_turnout, s.expected_turnout);
