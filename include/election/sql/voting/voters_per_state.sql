-- The states where the election has voters, with how many (kept by the database: registered_voters_per_state).
SELECT state_code, registered_voters
FROM registered_voters_per_state
WHERE election_id = %(election_id)s AND registered_voters > 0
ORDER BY state_code;
