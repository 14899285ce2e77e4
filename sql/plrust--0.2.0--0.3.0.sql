-- plrust 0.2.0 -> 0.3.0
\echo Use "ALTER EXTENSION plrust UPDATE TO '0.3.0'" to load this file. \quit

-- The plrust schema becomes a member of the extension, so that pg_dump
-- leaves it to CREATE EXTENSION (a non-superuser's restore failed on it)
-- and DROP EXTENSION takes it.  An extension cannot own the schema it
-- lives in, so the extension moves to pg_catalog first, where a fresh
-- 0.3.0 lives (as PL/pgSQL does).  ALTER EXTENSION SET SCHEMA would move
-- its members too; only the extension's own row and its dependency on
-- the schema change (pg_catalog is pinned: no dependency is recorded).
UPDATE pg_catalog.pg_extension SET extnamespace = 'pg_catalog'::pg_catalog.regnamespace
    WHERE extname OPERATOR(pg_catalog.=) 'plrust';
DELETE FROM pg_catalog.pg_depend
    WHERE classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
    AND objid OPERATOR(pg_catalog.=) (SELECT oid FROM pg_catalog.pg_extension
                                      WHERE extname OPERATOR(pg_catalog.=) 'plrust')
    AND refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_namespace'::pg_catalog.regclass;
ALTER EXTENSION plrust ADD SCHEMA plrust;
COMMENT ON SCHEMA plrust IS 'plrust: compiled code, the executor pool and their views';

-- The views become readable by every role, each seeing its own rows (their
-- columns are 0.2.0's: CREATE OR REPLACE keeps views users built on them).
-- What follows is 0.3.0's own definition of these objects, as in
-- plrust--0.3.0.sql: a full script and an update script each state every
-- object they make, as PostgreSQL's contrib modules do.
GRANT USAGE ON SCHEMA plrust TO PUBLIC;

-- Rebuild code that the current definitions lack (a new plrust or kit, a
-- catalog from before plrust compiled at CREATE FUNCTION), for every
-- function (superuser) or one (its owner); with force, build it again.
CREATE FUNCTION plrust.recompile(fn regprocedure DEFAULT NULL, force boolean DEFAULT false)
    RETURNS integer
    AS 'MODULE_PATHNAME', 'plrust_recompile_wrapper' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION plrust.recompile(regprocedure, boolean) IS
    'compile plrust functions whose current definition has no stored code (all of them: superuser; one: its owner); force rebuilds; returns how many objects were built';

-- DROP of functions removes the code nothing names any more.
CREATE FUNCTION plrust.drop_code() RETURNS event_trigger
    AS 'MODULE_PATHNAME', 'plrust_drop_code' LANGUAGE C;
REVOKE ALL ON FUNCTION plrust.drop_code() FROM PUBLIC;
CREATE EVENT TRIGGER plrust_drop_code ON sql_drop EXECUTE FUNCTION plrust.drop_code();

-- One row per pool slot that serves the current role's functions (every
-- slot for superusers and pg_read_all_stats; plrust.worker_status filters).
CREATE OR REPLACE VIEW plrust.workers AS
    SELECT w.slot, w.executor_pid, w.generation,
           d.datname AS database, r.rolname AS function_owner,
           w.sealed, w.functions_loaded, w.busy_backend_pid, w.memory_limit_mb
    FROM plrust.worker_status() w
    LEFT JOIN pg_catalog.pg_database d ON d.oid OPERATOR(pg_catalog.=) w.database_oid
    LEFT JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) w.role_oid;
GRANT SELECT ON plrust.workers TO PUBLIC;
COMMENT ON VIEW plrust.workers IS
    'plrust executor pool: one row per slot serving your functions (all slots for superusers and pg_read_all_stats)';
COMMENT ON COLUMN plrust.workers.slot IS 'pool slot number, 0 to plrust.workers - 1';
COMMENT ON COLUMN plrust.workers.executor_pid IS 'process id of the slot''s sandboxed executor (NULL while none runs)';
COMMENT ON COLUMN plrust.workers.generation IS 'how many executors the slot has started; a new one is a new generation';
COMMENT ON COLUMN plrust.workers.database IS 'database of the principal the executor serves (NULL while unbound)';
COMMENT ON COLUMN plrust.workers.function_owner IS 'function owner of the principal the executor serves (NULL while unbound)';
COMMENT ON COLUMN plrust.workers.sealed IS 'whether the executor has loaded its code and sealed itself (seccomp) for its principal';
COMMENT ON COLUMN plrust.workers.functions_loaded IS 'how many compiled objects the executor loaded';
COMMENT ON COLUMN plrust.workers.busy_backend_pid IS 'backend using the executor now (NULL while idle)';
COMMENT ON COLUMN plrust.workers.memory_limit_mb IS 'address-space limit the executor was bound with, in MB';

-- Every plrust function the current role owns (every one for superusers):
-- whether its current definition has compiled code, and when it was built.
CREATE OR REPLACE VIEW plrust.functions WITH (security_barrier) AS
    SELECT p.oid AS fn_oid, p.oid::pg_catalog.regprocedure AS function, r.rolname AS owner,
           a.built_at, pg_catalog.length(a.object) AS object_bytes
    FROM pg_catalog.pg_proc p
    JOIN pg_catalog.pg_language l ON l.oid OPERATOR(pg_catalog.=) p.prolang
        AND l.lanname OPERATOR(pg_catalog.=) 'plrust'
    JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) p.proowner
    LEFT JOIN plrust.artifacts a ON a.hash OPERATOR(pg_catalog.=) plrust.code_hash(p.oid)
    WHERE pg_catalog.pg_has_role(p.proowner, 'USAGE');
GRANT SELECT ON plrust.functions TO PUBLIC;
COMMENT ON VIEW plrust.functions IS
    'plrust functions you own (all for superusers) and whether their current definition has compiled code';
COMMENT ON COLUMN plrust.functions.fn_oid IS 'the function''s oid (pg_proc.oid)';
COMMENT ON COLUMN plrust.functions.function IS 'the function''s signature';
COMMENT ON COLUMN plrust.functions.owner IS 'the function''s owner, whose executors run it';
COMMENT ON COLUMN plrust.functions.built_at IS 'when the code of its current definition was compiled; NULL if it has none (see plrust.recompile)';
COMMENT ON COLUMN plrust.functions.object_bytes IS 'size of its compiled object in bytes, shared with functions of the same owner, body and signature';

-- 0.3.0 names code by its determinants and then by owner: no row of 0.2.0
-- is named so.  Build every function's code now, so that no call finds
-- a function without code (and none ever compiles).
DELETE FROM plrust.artifacts;
SELECT plrust.recompile();
