-- An election and everything that belongs to it (parties, candidates, voters, votes, outbox, counts, results).
DELETE FROM elections WHERE election_id = %(election_id)s;
