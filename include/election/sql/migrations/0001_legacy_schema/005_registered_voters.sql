-- Registered voters per state, kept by the database itself as voters are inserted (COPY included), updated,
-- deleted or truncated: statement-level triggers over transition tables, so a million-row COPY costs one
-- GROUP BY of the rows it added. Readers that need the counts at every refresh (the dashboard, the streaming
-- job's turnout) read 51 rows instead of counting every voter.
CREATE TABLE IF NOT EXISTS registered_voters_per_state (
    state_code        text PRIMARY KEY REFERENCES regions (state_code),
    registered_voters bigint NOT NULL CHECK (registered_voters >= 0)
);

CREATE OR REPLACE FUNCTION registered_voters_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO registered_voters_per_state AS r (state_code, registered_voters)
    SELECT address_state, count(*) FROM added_voters GROUP BY address_state
    ON CONFLICT (state_code) DO UPDATE SET registered_voters = r.registered_voters + excluded.registered_voters;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION registered_voters_remove() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE registered_voters_per_state AS r
    SET registered_voters = r.registered_voters - removed.n
    FROM (SELECT address_state, count(*) AS n FROM removed_voters GROUP BY address_state) AS removed
    WHERE r.state_code = removed.address_state;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION registered_voters_reset() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM registered_voters_per_state;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER voters_registered_on_insert AFTER INSERT ON voters
    REFERENCING NEW TABLE AS added_voters FOR EACH STATEMENT EXECUTE FUNCTION registered_voters_add();
CREATE OR REPLACE TRIGGER voters_registered_on_delete AFTER DELETE ON voters
    REFERENCING OLD TABLE AS removed_voters FOR EACH STATEMENT EXECUTE FUNCTION registered_voters_remove();
-- An update (a voter moving state) is a removal of the old rows and an addition of the new ones.
CREATE OR REPLACE TRIGGER voters_registered_on_update_old AFTER UPDATE ON voters
    REFERENCING OLD TABLE AS removed_voters FOR EACH STATEMENT EXECUTE FUNCTION registered_voters_remove();
CREATE OR REPLACE TRIGGER voters_registered_on_update_new AFTER UPDATE ON voters
    REFERENCING NEW TABLE AS added_voters FOR EACH STATEMENT EXECUTE FUNCTION registered_voters_add();
CREATE OR REPLACE TRIGGER voters_registered_on_truncate AFTER TRUNCATE ON voters
    FOR EACH STATEMENT EXECUTE FUNCTION registered_voters_reset();

-- Voters loaded before this migration: counted once, when it is first applied (in its transaction).
INSERT INTO registered_voters_per_state (state_code, registered_voters)
SELECT address_state, count(*) FROM voters
WHERE NOT EXISTS (SELECT FROM schema_migrations WHERE version = '005_registered_voters')
GROUP BY address_state
ON CONFLICT (state_code) DO NOTHING;

INSERT INTO schema_migrations (version) VALUES ('005_registered_voters') ON CONFLICT DO NOTHING;
