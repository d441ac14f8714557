-- Votes PostgreSQL recorded for the election: what the streamed totals are reconciled against.
SELECT coalesce((SELECT votes FROM results.votes_recorded WHERE election_id = %(election_id)s), 0) AS votes_recorded;
