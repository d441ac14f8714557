-- Every voter and candidate of the election is on Kafka; where its voters sit on each partition of voters_topic.
UPDATE elections SET published_at = now(), voter_offsets = %(voter_offsets)s
WHERE election_id = %(election_id)s AND published_at IS NULL;
