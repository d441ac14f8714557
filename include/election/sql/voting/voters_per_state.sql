SELECT address_state, count(*) FROM voters GROUP BY address_state;
