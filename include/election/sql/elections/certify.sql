UPDATE elections SET status = 'certified', certified_at = now()
WHERE election_id = %(election_id)s AND status = 'closed';
