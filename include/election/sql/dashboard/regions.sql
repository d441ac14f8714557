-- Every state with its tile-grid cell and registered voters (kept by the database: registered_voters_per_state).
SELECT r.state_code,
       r.state_name,
       r.tile_row,
       r.tile_col,
       coalesce(c.registered_voters, 0) AS registered_voters
FROM regions r
LEFT JOIN registered_voters_per_state c USING (state_code)
ORDER BY r.state_code;
