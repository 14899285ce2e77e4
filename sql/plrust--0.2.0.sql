-- plrust 0.2.0
\echo Use "CREATE EXTENSION plrust" to load this file. \quit

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
-- function's body, signature and compiler kit, never its oid, so that
-- pg_upgrade (which renumbers functions) and every major the kit serves
-- find the code already built.  Functions with the same hash share a row.
-- Only plrust itself reads and writes this table (as the bootstrap
-- superuser); users have no privileges on it.
CREATE TABLE plrust.artifacts (
    hash     bytea PRIMARY KEY,
    key      bigint NOT NULL,
    object   bytea NOT NULL,
    built_at timestamptz NOT NULL DEFAULT pg_catalog.now()
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

-- One row per pool slot: its executor, the principal it serves (and the
-- address-space limit it was bound with), what it has loaded, and the
-- backend using it right now.
CREATE VIEW plrust.workers AS
    SELECT w.slot, w.executor_pid, w.generation,
           d.datname AS database, r.rolname AS function_owner,
           w.sealed, w.functions_loaded, w.busy_backend_pid, w.memory_limit_mb
    FROM plrust.worker_status() w
    LEFT JOIN pg_catalog.pg_database d ON d.oid = w.database_oid
    LEFT JOIN pg_catalog.pg_roles r ON r.oid = w.role_oid;

-- Which plrust functions exist and whether their current definition has
-- compiled code (built_at is NULL when it has none yet).
CREATE VIEW plrust.functions AS
    SELECT p.oid AS fn_oid, p.oid::regprocedure AS function, r.rolname AS owner,
           a.built_at, pg_catalog.length(a.object) AS object_bytes
    FROM pg_catalog.pg_proc p
    JOIN pg_catalog.pg_language l ON l.oid = p.prolang AND l.lanname = 'plrust'
    JOIN pg_catalog.pg_roles r ON r.oid = p.proowner
    LEFT JOIN plrust.artifacts a ON a.hash = plrust.code_hash(p.oid);
