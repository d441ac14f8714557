-- Votes PostgreSQL holds for the election.
SELECT count(*) FROM votes WHERE election_id = %(election_id)s;
