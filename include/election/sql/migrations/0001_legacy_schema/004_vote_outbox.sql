-- Transactional outbox of the vote caster. Each batch of votes recorded in `votes` writes, in the same
-- transaction, one row listing its voters; the row is deleted once Kafka acknowledged every vote of the batch.
-- A crash in between leaves the row here, and the next run publishes those votes first (their records rebuilt
-- from the tables). So every vote in the database reaches votes_topic, however the caster stops; the outbox
-- stays tiny (16 bytes per vote in flight).
CREATE TABLE IF NOT EXISTS vote_outbox (
    batch_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    voter_ids  uuid[] NOT NULL CHECK (cardinality(voter_ids) > 0),
    created_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO schema_migrations (version) VALUES ('004_vote_outbox') ON CONFLICT DO NOTHING;
