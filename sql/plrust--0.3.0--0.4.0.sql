-- plrust 0.3.0 -> 0.4.0
\echo Use "ALTER EXTENSION plrust UPDATE TO '0.4.0'" to load this file. \quit

-- Crate dependencies.  Code records the crates it was built with; code
-- built before has none.
ALTER TABLE plrust.artifacts ADD COLUMN dependencies jsonb NOT NULL DEFAULT '{}';

-- The column is added at the end: CREATE OR REPLACE keeps views users
-- built on this one.
CREATE OR REPLACE VIEW plrust.functions WITH (security_barrier) AS
    SELECT p.oid AS fn_oid, p.oid::pg_catalog.regprocedure AS function, r.rolname AS owner,
           a.built_at, pg_catalog.length(a.object) AS object_bytes, a.dependencies
    FROM pg_catalog.pg_proc p
    JOIN pg_catalog.pg_language l ON l.oid OPERATOR(pg_catalog.=) p.prolang
        AND l.lanname OPERATOR(pg_catalog.=) 'plrust'
    JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) p.proowner
    LEFT JOIN plrust.artifacts a ON a.hash OPERATOR(pg_catalog.=) plrust.code_hash(p.oid)
    WHERE pg_catalog.pg_has_role(p.proowner, 'USAGE');
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

-- The pool's size has been plrust.max_executors since 0.3.0.
COMMENT ON COLUMN plrust.workers.slot IS 'pool slot number, 0 to plrust.max_executors - 1';

-- plrust's version is among the determinants that name code: build every
-- function's code for this one, so that no call finds a function without
-- code (and none ever compiles).  0.3.0's rows are collected afterwards.
SELECT plrust.recompile();
