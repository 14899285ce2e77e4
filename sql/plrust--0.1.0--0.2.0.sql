-- plrust 0.1.0 -> 0.2.0
\echo Use "ALTER EXTENSION plrust UPDATE TO '0.2.0'" to load this file. \quit

-- Compiled code is now addressed by the hash of what determines it (body,
-- signature, compiler kit), not by function oid.  0.1.0's hashes included
-- the oid and its kit is gone, so no row of the old table can be used:
-- each function is compiled again at its first call.
DROP VIEW plrust.functions;
DROP TABLE plrust.artifacts;
CREATE TABLE plrust.artifacts (
    hash     bytea PRIMARY KEY,
    key      bigint NOT NULL,
    object   bytea NOT NULL,
    built_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
REVOKE ALL ON plrust.artifacts FROM PUBLIC;

CREATE FUNCTION plrust.code_hash(fn oid) RETURNS bytea
    AS 'MODULE_PATHNAME', 'plrust_code_hash_wrapper' LANGUAGE C STABLE STRICT;

CREATE VIEW plrust.functions AS
    SELECT p.oid AS fn_oid, p.oid::regprocedure AS function, r.rolname AS owner,
           a.built_at, pg_catalog.length(a.object) AS object_bytes
    FROM pg_catalog.pg_proc p
    JOIN pg_catalog.pg_language l ON l.oid = p.prolang AND l.lanname = 'plrust'
    JOIN pg_catalog.pg_roles r ON r.oid = p.proowner
    LEFT JOIN plrust.artifacts a ON a.hash = plrust.code_hash(p.oid);
