-- One race call of a certified election, as the stream published it.
INSERT INTO certified_race_calls
    (election_id, state, candidate_id, tie, votes, margin, remaining, electoral_votes, called_at)
VALUES (%(election_id)s, %(state)s, %(candidate_id)s, %(tie)s, %(votes)s, %(margin)s, %(remaining)s,
        %(electoral_votes)s, %(called_at)s);
