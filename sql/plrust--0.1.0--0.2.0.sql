-- plrust 0.1.0 -> 0.2.0
\echo Use "ALTER EXTENSION plrust UPDATE TO '0.2.0'" to load this file. \quit

-- There is no plrust--0.2.0.sql: CREATE EXTENSION runs plrust--0.1.0.sql
-- and then this script, as PostgreSQL does when a version has no script of
-- its own, so a new database and an updated one get the same objects from
-- one definition.

-- Compiled code is now addressed by the hash of what determines it (body,
-- signature, compiler kit), not by function oid.  0.1.0's hashes included
-- the oid and its kit is gone, so no row of the old table can be used:
-- each function is compiled again at its first call.
DROP VIEW plrust.functions;
DROP TABLE plrust.artifacts;
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

-- Which plrust functions exist and whether their current definition has
-- compiled code (built_at is NULL when it has none yet).
CREATE VIEW plrust.functions AS
    SELECT p.oid AS fn_oid, p.oid::regprocedure AS function, r.rolname AS owner,
           a.built_at, pg_catalog.length(a.object) AS object_bytes
    FROM pg_catalog.pg_proc p
    JOIN pg_catalog.pg_language l ON l.oid = p.prolang AND l.lanname = 'plrust'
    JOIN pg_catalog.pg_roles r ON r.oid = p.proowner
    LEFT JOIN plrust.artifacts a ON a.hash = plrust.code_hash(p.oid);
