-- The share of registered voters expected to vote, set by the vote simulation (it knows the turnout it casts).
UPDATE elections SET expected_turnout = %(turnout)s WHERE election_id = %(election_id)s AND status = 'open';
