-- One row of the regions reference table; rewrites the row only when something changed.
INSERT INTO regions (state_code, state_name, latitude, longitude, population, tile_row, tile_col, electoral_votes)
VALUES (%(state_code)s, %(state_name)s, %(latitude)s, %(longitude)s, %(population)s, %(tile_row)s, %(tile_col)s,
        %(electoral_votes)s)
ON CONFLICT (state_code) DO UPDATE
SET state_name = EXCLUDED.state_name, latitude = EXCLUDED.latitude, longitude = EXCLUDED.longitude,
    population = EXCLUDED.population, tile_row = EXCLUDED.tile_row, tile_col = EXCLUDED.tile_col,
    electoral_votes = EXCLUDED.electoral_votes
WHERE (regions.state_name, regions.latitude, regions.longitude, regions.population, regions.tile_row,
       regions.tile_col, regions.electoral_votes)
      IS DISTINCT FROM
      (EXCLUDED.state_name, EXCLUDED.latitude, EXCLUDED.longitude, EXCLUDED.population, EXCLUDED.tile_row,
       EXCLUDED.tile_col, EXCLUDED.electoral_votes);
