-- Every state with its tile-grid cell, electoral votes and the election's registered voters there (kept by the
-- database).
SELECT r.state_code,
       r.state_name,
       r.tile_row,
       r.tile_col,
       coalesce(r.electoral_votes, 0) AS electoral_votes,
       coalesce(c.registered_voters, 0) AS registered_voters
FROM results.regions r
LEFT JOIN results.registered_voters c ON c.state_code = r.state_code AND c.election_id = %(election_id)s
ORDER BY r.state_code;
