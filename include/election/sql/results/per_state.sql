-- Votes per state of the election (every state with registered voters, 0 included).
SELECT r.state_code AS key, count(v.voter_id) AS postgres
FROM registered_voters_per_state r
LEFT JOIN voters w ON w.election_id = r.election_id AND w.address_state = r.state_code
LEFT JOIN votes v ON v.election_id = w.election_id AND v.voter_id = w.voter_id
WHERE r.election_id = %(election_id)s
GROUP BY r.state_code;
