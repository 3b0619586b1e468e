-- Least-privilege roles for seek-sync's server backend (docs/operating.md, "Database roles").
--
-- Run as a role that may create roles and schemas (an administrator), with psql:
--
--   psql "$ADMIN_URL" -v ON_ERROR_STOP=1 -v schema=seek_sync \
--        -v owner=seek_owner -v runner=seek_run -v receiver=seek_receiver -f deploy/sql/roles.sql
--
-- then, as the owner role, `seek-sync db upgrade` (it creates the tables), then this script again:
-- the receiver's grants name tables and columns, which exist only once the schema is made. It is
-- idempotent; run it again after every `seek-sync db upgrade`.
--
--   owner     owns the schema and its tables: `seek-sync db upgrade` and nothing else
--   runner    sensor ticks, runs, `seek-sync sync`, poll, purge, export, workers; Dagster's
--             instance (it owns `<schema>_dagster`, whose tables Dagster creates and migrates)
--   receiver  `seek-sync receiver serve`: inserts events and callbacks, nothing else (below)
--
-- The roles log in without a password here: set one (`\password seek_receiver`), or use client
-- certificates or your cloud's IAM authentication, as your pg_hba.conf requires.

\set ON_ERROR_STOP 1
SELECT :'schema' || '_dagster' AS dagster_schema \gset

-- Roles --------------------------------------------------------------------------------------
SELECT NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'owner') AS missing \gset
\if :missing
CREATE ROLE :"owner" LOGIN;
\endif
SELECT NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'runner') AS missing \gset
\if :missing
CREATE ROLE :"runner" LOGIN;
\endif
SELECT NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'receiver') AS missing \gset
\if :missing
CREATE ROLE :"receiver" LOGIN;
\endif

-- Schemas: seek-sync's (the owner's) and Dagster's (the runner's) -----------------------------
CREATE SCHEMA IF NOT EXISTS :"schema" AUTHORIZATION :"owner";
CREATE SCHEMA IF NOT EXISTS :"dagster_schema" AUTHORIZATION :"runner";
GRANT CONNECT, TEMPORARY ON DATABASE :"DBNAME" TO :"runner";  -- TEMP: the warehouse's COPY batches
GRANT CONNECT ON DATABASE :"DBNAME" TO :"owner", :"receiver";
GRANT USAGE ON SCHEMA :"schema" TO :"runner", :"receiver";

-- The runner: read and write every table, now and after later upgrades ---------------------
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA :"schema" TO :"runner";
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA :"schema" TO :"runner";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA :"schema"
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"runner";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA :"schema"
    GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO :"runner";
-- A purge rewrites the tables it deleted from (VACUUM FULL). PostgreSQL 17 has a privilege for
-- that (MAINTAIN); before 17 only the table's owner may, so the runner becomes a member of the
-- owner role there (without it, PostgreSQL skips the rewrite with a warning, and seek-sync's
-- purge fails saying so rather than leaving deleted rows in the table files).
SELECT current_setting('server_version_num')::int >= 170000 AS has_maintain \gset
\if :has_maintain
GRANT MAINTAIN ON ALL TABLES IN SCHEMA :"schema" TO :"runner";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA :"schema" GRANT MAINTAIN ON TABLES TO :"runner";
\else
GRANT :"owner" TO :"runner";
\endif

-- The receiver: exactly what `seek-sync receiver serve` executes -----------------------------
SELECT to_regclass(format('%I.events', :'schema')) IS NOT NULL AS made \gset
\if :made
-- At start: the inbox schema's version.
GRANT SELECT ON :"schema".schema_versions TO :"receiver";
-- POST /webhooks/seek: INSERT ... ON CONFLICT (event_id) DO NOTHING. PostgreSQL needs SELECT on
-- the conflict target's columns; /healthz counts rows and those without a hirer (hirer_id).
GRANT INSERT (event_id, type_code, source, hirer_id, profile_id, candidate_id, created_at,
              raw_json, received_at) ON :"schema".events TO :"receiver";
GRANT SELECT (event_id, hirer_id) ON :"schema".events TO :"receiver";
-- POST /callbacks/onderwijsregio: INSERT ... ON CONFLICT (callback_id) DO NOTHING; /healthz.
GRANT INSERT (callback_id, target, hirer_id, idempotency_key, status, raw_json, received_at)
    ON :"schema".callbacks TO :"receiver";
GRANT SELECT (callback_id) ON :"schema".callbacks TO :"receiver";
-- Before storing an event: whether a purge's tombstone covers it (ids and times only).
GRANT SELECT (kind, id, purged_at) ON :"schema".tombstones TO :"receiver";
\else
\echo 'The tables do not exist yet: run seek-sync db upgrade as' :owner ', then this script again.'
\endif
