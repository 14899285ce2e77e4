-- plrust 0.4.0
\echo Use "CREATE EXTENSION plrust" to load this file. \quit

-- The schema belongs to the extension (pg_dump leaves it to CREATE
-- EXTENSION, DROP EXTENSION takes it); the extension itself lives in
-- pg_catalog, as PL/pgSQL does, so that the schema can be its member.
CREATE SCHEMA plrust;
COMMENT ON SCHEMA plrust IS 'plrust: compiled code, the executor pool and their views';

-- Without shared_preload_libraries there is no executor pool: refuse early,
-- with an error that says what to set.
CREATE FUNCTION plrust.ensure_preloaded() RETURNS void
    AS 'MODULE_PATHNAME', 'plrust_ensure_preloaded' LANGUAGE C;
SELECT plrust.ensure_preloaded();

CREATE FUNCTION plrust.call_handler() RETURNS language_handler
    AS 'MODULE_PATHNAME', 'plrust_call_handler' LANGUAGE C;
CREATE FUNCTION plrust.validator(oid) RETURNS void
    AS 'MODULE_PATHNAME', 'plrust_validator' LANGUAGE C STRICT;
CREATE FUNCTION plrust.inline_handler(internal) RETURNS void
    AS 'MODULE_PATHNAME', 'plrust_inline_handler' LANGUAGE C STRICT;

CREATE TRUSTED LANGUAGE plrust
    HANDLER plrust.call_handler
    INLINE plrust.inline_handler
    VALIDATOR plrust.validator;
COMMENT ON LANGUAGE plrust IS
    'trusted procedural language for Rust; bodies run in sandboxed executor processes';

-- Compiled code, addressed by what determines it: the hash of a
-- function's body, signature and compiler kit (and its owner, whose copy
-- a row is), never its oid, so that pg_upgrade (which renumbers
-- functions) and every major the kit serves find the code already built.
-- An owner's functions with the same code share a row.
-- Only plrust itself reads and writes this table (as the bootstrap
-- superuser); users have no privileges on it.
CREATE TABLE plrust.artifacts (
    hash     bytea PRIMARY KEY,
    key      bigint NOT NULL,
    object   bytea NOT NULL,
    built_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    -- The crates the code was built with: {"regex": "1.13.2", ...}.
    dependencies jsonb NOT NULL DEFAULT '{}'
);
REVOKE ALL ON plrust.artifacts FROM PUBLIC;

-- The hash that names the compiled code of a plrust function's current
-- definition; NULL for anything else.
CREATE FUNCTION plrust.code_hash(fn oid) RETURNS bytea
    AS 'MODULE_PATHNAME', 'plrust_code_hash_wrapper' LANGUAGE C STABLE STRICT;

CREATE FUNCTION plrust.worker_status(
    OUT slot int, OUT executor_pid int, OUT generation bigint,
    OUT database_oid oid, OUT role_oid oid, OUT sealed bool,
    OUT functions_loaded int, OUT busy_backend_pid int, OUT memory_limit_mb int)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'worker_status_wrapper' LANGUAGE C;

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
CREATE VIEW plrust.workers AS
    SELECT w.slot, w.executor_pid, w.generation,
           d.datname AS database, r.rolname AS function_owner,
           w.sealed, w.functions_loaded, w.busy_backend_pid, w.memory_limit_mb
    FROM plrust.worker_status() w
    LEFT JOIN pg_catalog.pg_database d ON d.oid OPERATOR(pg_catalog.=) w.database_oid
    LEFT JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) w.role_oid;
GRANT SELECT ON plrust.workers TO PUBLIC;
COMMENT ON VIEW plrust.workers IS
    'plrust executor pool: one row per slot serving your functions (all slots for superusers and pg_read_all_stats)';
COMMENT ON COLUMN plrust.workers.slot IS 'pool slot number, 0 to plrust.max_executors - 1';
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
CREATE VIEW plrust.functions WITH (security_barrier) AS
    SELECT p.oid AS fn_oid, p.oid::pg_catalog.regprocedure AS function, r.rolname AS owner,
           a.built_at, pg_catalog.length(a.object) AS object_bytes, a.dependencies
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
COMMENT ON COLUMN plrust.functions.dependencies IS 'the crates its code was built with and their exact versions, {"name": "version"}';

-- The crates bodies may name in [dependencies], from the allow-list that
-- plrust.allowed_dependencies names, as PL/Rust's function lists them;
-- prepared_version is the version the kit compiled for the entry.
CREATE FUNCTION plrust.allowed_dependencies(
    OUT name text, OUT version text, OUT features text[], OUT default_features boolean,
    OUT prepared_version text)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'plrust_allowed_dependencies_wrapper' LANGUAGE C STABLE;
COMMENT ON FUNCTION plrust.allowed_dependencies() IS
    'crates plrust function bodies may depend on (plrust.allowed_dependencies), with the version prepared for each; NULL prepared_version: not prepared';
