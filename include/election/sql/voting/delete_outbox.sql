DELETE FROM vote_outbox WHERE batch_id = %(batch_id)s;
