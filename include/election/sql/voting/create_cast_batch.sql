-- The choices of one batch (voter, candidate), COPYed in, gone at commit.
CREATE TEMP TABLE IF NOT EXISTS cast_batch (voter_id uuid NOT NULL, candidate_id uuid NOT NULL) ON COMMIT DELETE ROWS;
