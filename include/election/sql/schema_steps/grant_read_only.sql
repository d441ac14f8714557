-- The dashboard's read-only role (grant_read_only() is defined by schema/003_read_only_role.sql).
SELECT grant_read_only(%(role)s, %(password)s);
