-- Which election this transaction is loading: the loaded-row checks (loaded_*.sql) read it back.
SELECT set_config('election.loading', %(election_id)s::text, true);
