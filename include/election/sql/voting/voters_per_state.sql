-- The states that have voters, with how many (kept by the database: registered_voters_per_state).
SELECT state_code, registered_voters FROM registered_voters_per_state WHERE registered_voters > 0;
