-- Registered voters per state (index voters_address_state_idx), for turnout.
SELECT address_state, count(*) FROM voters GROUP BY address_state;
