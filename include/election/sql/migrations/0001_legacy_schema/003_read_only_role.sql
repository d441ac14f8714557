-- grant_read_only(role, password): a login role that can only read this database (the dashboard's).
-- Called with bound parameters; role names and passwords never appear in SQL text.
CREATE OR REPLACE FUNCTION grant_read_only(role_name text, role_password text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = role_name) THEN
        EXECUTE format('CREATE ROLE %I LOGIN PASSWORD %L', role_name, role_password);
    ELSE
        EXECUTE format('ALTER ROLE %I LOGIN PASSWORD %L', role_name, role_password);
    END IF;
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), role_name);
    EXECUTE format('GRANT USAGE ON SCHEMA public TO %I', role_name);
    EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA public TO %I', role_name);
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO %I', role_name);
END
$$;

INSERT INTO schema_migrations (version) VALUES ('003_read_only_role') ON CONFLICT DO NOTHING;
