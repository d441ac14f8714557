-- Registered voters of the election (kept by the database: registered_voters_per_state).
SELECT coalesce(sum(registered_voters), 0)::bigint FROM registered_voters_per_state;
