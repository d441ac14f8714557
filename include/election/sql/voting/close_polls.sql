-- Closes the polls of the states %(states)s in election %(election_id)s (still open): from then on the trigger
-- votes_only_while_open refuses any vote there. The election's row is locked for update first, so the close waits
-- for the votes being recorded (they hold it for share); returns the states closed now.
WITH election AS (
    SELECT election_id FROM elections WHERE election_id = %(election_id)s AND status = 'open' FOR UPDATE
)
UPDATE election_states s
SET polls_closed_at = now()
FROM election
WHERE s.election_id = election.election_id AND s.state_code = ANY(%(states)s::text[]) AND s.polls_closed_at IS NULL
RETURNING s.state_code;
