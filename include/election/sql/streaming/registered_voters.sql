-- Registered voters per state, for turnout (kept by the database: registered_voters_per_state).
SELECT state_code, registered_voters FROM registered_voters_per_state;
