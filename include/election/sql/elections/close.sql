-- No more votes: waits for the votes being recorded (they hold the row share-locked), then refuses new ones.
UPDATE elections SET status = 'closed', closed_at = now() WHERE election_id = %(election_id)s AND status = 'open';
