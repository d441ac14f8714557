-- Every state with its tile-grid cell and registered voters (an index-only scan of voters_address_state_idx).
SELECT r.state_code,
       r.state_name,
       r.tile_row,
       r.tile_col,
       coalesce(v.registered, 0) AS registered_voters
FROM regions r
LEFT JOIN (SELECT address_state, count(*) AS registered FROM voters GROUP BY address_state) v
       ON v.address_state = r.state_code
ORDER BY r.state_code;
