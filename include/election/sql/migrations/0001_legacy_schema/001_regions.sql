-- The reference table of regions: the 50 US states and DC (rows loaded from include/election/data/us_states.csv).
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    text PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS regions (
    state_code text PRIMARY KEY CHECK (state_code ~ '^[A-Z]{2}$'),
    state_name text NOT NULL UNIQUE CHECK (state_name <> ''),
    latitude   double precision NOT NULL CHECK (latitude BETWEEN -90 AND 90),
    longitude  double precision NOT NULL CHECK (longitude BETWEEN -180 AND 180),
    population bigint NOT NULL CHECK (population > 0),
    -- the state's cell in the dashboard's tile-grid map
    tile_row   smallint NOT NULL CHECK (tile_row >= 0),
    tile_col   smallint NOT NULL CHECK (tile_col >= 0),
    UNIQUE (tile_row, tile_col)
);

INSERT INTO schema_migrations (version) VALUES ('001_regions') ON CONFLICT DO NOTHING;
