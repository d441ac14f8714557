-- Votes PostgreSQL recorded for the election: what the streamed totals are reconciled against.
SELECT count(*) AS votes_recorded FROM votes WHERE election_id = %(election_id)s;
