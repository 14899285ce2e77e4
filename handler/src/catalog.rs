//! plrust.artifacts: compiled code, stored so that a restart, another
//! backend or a replica loads it without compiling again.  Code is named by
//! the hash of what determines it (function.rs), not by function oid: after
//! pg_upgrade, which renumbers functions, and on every major the compiler
//! kit serves, a function finds the code it had.
//!
//! Users have no privileges on the table; plrust reads and writes it as the
//! bootstrap superuser, in a restricted security context, with every name
//! schema-qualified, so neither the caller's role nor its search_path can
//! change what these statements do.

use std::cell::Cell;

use pgrx::prelude::*;
use pgrx::spi::SpiError;

use crate::backend_local::BackendLocal;
use crate::errors::raise;

struct RestoreUser {
    user: pg_sys::Oid,
    context: i32,
}

impl Drop for RestoreUser {
    fn drop(&mut self) {
        // SAFETY: restores exactly what GetUserIdAndSecContext returned.
        unsafe { pg_sys::SetUserIdAndSecContext(self.user, self.context) };
    }
}

fn as_catalog_owner<R>(f: impl FnOnce() -> R) -> R {
    let mut user = pg_sys::Oid::INVALID;
    let mut context = 0i32;
    // SAFETY: plain getters/setters of the backend's current user; the
    // guard restores them however `f` ends (transaction abort would too).
    unsafe {
        pg_sys::GetUserIdAndSecContext(&mut user, &mut context);
        pg_sys::SetUserIdAndSecContext(
            pg_sys::Oid::from(pg_sys::BOOTSTRAP_SUPERUSERID),
            context
                | (pg_sys::SECURITY_LOCAL_USERID_CHANGE | pg_sys::SECURITY_RESTRICTED_OPERATION)
                    as i32,
        );
    }
    let _restore = RestoreUser { user, context };
    f()
}

/// One value of a read-only query.  pgrx's Spi::get_one opens a
/// connection that may write, which assigns a transaction id: on a hot
/// standby that fails ("cannot assign TransactionIds during recovery"),
/// and a call must run there.
fn read_one<T: FromDatum + IntoDatum>(
    query: &str,
    args: &[pgrx::datum::DatumWithOid],
) -> Result<Option<T>, SpiError> {
    Spi::connect(|client| client.select(query, Some(1), args)?.first().get_one::<T>())
}

fn spi_failed(what: &str, e: SpiError) -> ! {
    raise(
        PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
        format!("plrust: {what}: {e}"),
        None,
        Some("Is the plrust extension installed in this database?".into()),
    )
}

/// The extension's version in this database matches the library's (the
/// tables these statements read are that version's), checked once per
/// backend: a library installed before `ALTER EXTENSION plrust UPDATE` ran
/// says so rather than failing on a missing column.
///
/// Inside the extension's own scripts (ALTER EXTENSION UPDATE ends with
/// plrust.recompile()) the tables are the script's, whatever the row says.
///
/// The same check refuses a plrust.artifacts that Citus distributed: its
/// rows must be this node's, committed with this node's functions.
fn check_version() {
    static CHECKED: BackendLocal<Cell<bool>> = BackendLocal::new(Cell::new(false));
    // SAFETY: a global the backend sets while it runs an extension script.
    if CHECKED.get() || unsafe { pg_sys::creating_extension } {
        return;
    }
    let version = extension_version();
    let library = env!("CARGO_PKG_VERSION");
    match version {
        Some(v) if v == library => {
            refuse_distributed_artifacts();
            CHECKED.set(true)
        }
        Some(v) => raise(
            PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
            format!("the plrust extension in this database is version {v}, its library is version {library}"),
            None,
            Some("Run ALTER EXTENSION plrust UPDATE in this database.".into()),
        ),
        None => raise(
            PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
            "the plrust extension is not installed in this database".into(),
            None,
            Some("Run CREATE EXTENSION plrust.".into()),
        ),
    }
}

/// The plrust extension's version in this database, if it is installed.
fn extension_version() -> Option<String> {
    // A scalar subquery: one row, NULL when the extension is absent.
    read_one::<String>(
        "SELECT (SELECT extversion FROM pg_catalog.pg_extension \
         WHERE extname OPERATOR(pg_catalog.=) 'plrust')",
        &[],
    )
    .unwrap_or_else(|e| spi_failed("reading pg_extension", e))
}

/// Whether this database's extension is the library's version.
pub fn extension_is_current() -> bool {
    extension_version().as_deref() == Some(env!("CARGO_PKG_VERSION"))
}

/// Citus keeps its distributed and reference tables in pg_dist_partition.
/// Code in a distributed plrust.artifacts would be read from and written
/// to other nodes, inside distributed transactions: refuse to run.
fn refuse_distributed_artifacts() {
    let distributed = read_one::<bool>(
        "SELECT pg_catalog.to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL",
        &[],
    )
    .unwrap_or_else(|e| spi_failed("reading pg_class", e))
    .unwrap_or(false)
        && read_one::<bool>(
            "SELECT EXISTS (SELECT FROM pg_catalog.pg_dist_partition \
             WHERE logicalrelid OPERATOR(pg_catalog.=) 'plrust.artifacts'::pg_catalog.regclass)",
            &[],
        )
        .unwrap_or_else(|e| spi_failed("reading pg_dist_partition", e))
        .unwrap_or(false);
    if distributed {
        raise(
            PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
            "plrust.artifacts has been distributed by Citus".into(),
            Some(
                "Each node must keep its own compiled code, committed with its own functions."
                    .into(),
            ),
            Some("Run SELECT undistribute_table('plrust.artifacts') on the coordinator.".into()),
        );
    }
}

/// Whether code named `hash` is stored.
pub fn has_code(hash: &[u8]) -> bool {
    check_version();
    as_catalog_owner(|| {
        read_one::<bool>(
            "SELECT EXISTS (SELECT FROM plrust.artifacts WHERE hash OPERATOR(pg_catalog.=) $1)",
            &[hash.to_vec().into()],
        )
    })
    .unwrap_or_else(|e| spi_failed("reading plrust.artifacts", e))
    .unwrap_or(false)
}

/// Whether code named `hash` is stored, locking its row until the end of
/// the transaction (CREATE FUNCTION that uses a twin's code): a concurrent
/// collection skips a locked row, and a row it already took is seen gone
/// (its DELETE is waited for), so the definition committed with this
/// transaction never names code that went meanwhile.
pub fn has_code_locked(hash: &[u8]) -> bool {
    check_version();
    as_catalog_owner(|| {
        Spi::get_one_with_args::<bool>(
            "SELECT EXISTS (SELECT FROM plrust.artifacts \
             WHERE hash OPERATOR(pg_catalog.=) $1 FOR KEY SHARE)",
            &[hash.to_vec().into()],
        )
    })
    .unwrap_or_else(|e| spi_failed("reading plrust.artifacts", e))
    .unwrap_or(false)
}

/// Store code named `hash`.  A concurrent compile of the same definition
/// may have stored it first: the code is the same, so that one stays.
/// `dependencies` is the JSON object of the crates it was built with.
pub fn store(hash: &[u8], key: u64, object: Vec<u8>, dependencies: &str) {
    check_version();
    as_catalog_owner(|| {
        Spi::run_with_args(
            "INSERT INTO plrust.artifacts (hash, key, object, dependencies) \
             VALUES ($1, $2, $3, $4::pg_catalog.jsonb) \
             ON CONFLICT (hash) DO NOTHING",
            &[
                hash.to_vec().into(),
                (key as i64).into(),
                object.into(),
                dependencies.into(),
            ],
        )
    })
    .unwrap_or_else(|e| spi_failed("storing the compiled function", e))
}

/// Store the code named `from` under `to` too (an owner's copy of the same
/// code, for ALTER ... OWNER TO); false if there is none to copy.
pub fn copy_code(from: &[u8], to: &[u8]) -> bool {
    check_version();
    as_catalog_owner(|| {
        Spi::get_one_with_args::<bool>(
            "WITH copied AS (INSERT INTO plrust.artifacts \
                    (hash, key, object, built_at, dependencies) \
                SELECT $2, key, object, built_at, dependencies FROM plrust.artifacts \
                WHERE hash OPERATOR(pg_catalog.=) $1 \
                ON CONFLICT (hash) DO NOTHING RETURNING 1) \
             SELECT EXISTS (SELECT FROM plrust.artifacts WHERE hash OPERATOR(pg_catalog.=) $2) \
                OR EXISTS (SELECT FROM copied)",
            &[from.to_vec().into(), to.to_vec().into()],
        )
    })
    .unwrap_or_else(|e| spi_failed("copying compiled code", e))
    .unwrap_or(false)
}

/// Remove the code named `hash` (plrust.recompile with force).
pub fn forget(hash: &[u8]) {
    check_version();
    as_catalog_owner(|| {
        Spi::run_with_args(
            "DELETE FROM plrust.artifacts WHERE hash OPERATOR(pg_catalog.=) $1",
            &[hash.to_vec().into()],
        )
    })
    .unwrap_or_else(|e| spi_failed("removing compiled code", e))
}

/// Remove code that no function's current definition names any more: that
/// of replaced definitions, dropped functions, old owners and earlier kits.
/// Runs after every CREATE [OR REPLACE] FUNCTION and (an event trigger)
/// every DROP.  Only rows this statement sees can go, and a row is always
/// committed with (or after) the function that names it, so code of a
/// function being created elsewhere is never taken.
pub fn collect_garbage() {
    check_version();
    as_catalog_owner(|| {
        // Each definition is hashed once (a materialized CTE), not once
        // per stored row.  Rows a CREATE FUNCTION has locked (it uses
        // them, has_code_locked) are skipped.
        Spi::run(
            "WITH live AS MATERIALIZED ( \
                SELECT plrust.code_hash(p.oid) AS hash FROM pg_catalog.pg_proc p \
                JOIN pg_catalog.pg_language l ON l.oid OPERATOR(pg_catalog.=) p.prolang \
                WHERE l.lanname OPERATOR(pg_catalog.=) 'plrust') \
             DELETE FROM plrust.artifacts WHERE hash OPERATOR(pg_catalog.=) ANY (ARRAY( \
                SELECT a.hash FROM plrust.artifacts a \
                WHERE NOT EXISTS (SELECT FROM live WHERE live.hash OPERATOR(pg_catalog.=) a.hash) \
                FOR UPDATE SKIP LOCKED))",
        )
    })
    .unwrap_or_else(|e| spi_failed("removing unused compiled code", e))
}

/// The plrust functions with a row type (or an array of one) among their
/// arguments or result whose current definition has no stored code.
pub fn row_type_functions_without_code() -> Vec<pg_sys::Oid> {
    check_version();
    as_catalog_owner(|| {
        function_oids(
            "SELECT p.oid FROM pg_catalog.pg_proc p \
             JOIN pg_catalog.pg_language l ON l.oid OPERATOR(pg_catalog.=) p.prolang \
             WHERE l.lanname OPERATOR(pg_catalog.=) 'plrust' \
             AND EXISTS (SELECT FROM pg_catalog.pg_type t \
                LEFT JOIN pg_catalog.pg_type e ON e.oid OPERATOR(pg_catalog.=) t.typelem \
                WHERE t.oid OPERATOR(pg_catalog.=) ANY (p.proargtypes::pg_catalog.oid[] \
                    OPERATOR(pg_catalog.||) p.prorettype \
                    OPERATOR(pg_catalog.||) COALESCE(p.proallargtypes, '{}')) \
                AND (t.typtype OPERATOR(pg_catalog.=) 'c' OR e.typtype OPERATOR(pg_catalog.=) 'c')) \
             AND plrust.code_hash(p.oid) IS NOT NULL \
             AND NOT EXISTS (SELECT FROM plrust.artifacts a \
                WHERE a.hash OPERATOR(pg_catalog.=) plrust.code_hash(p.oid)) \
             ORDER BY p.oid",
            &[],
        )
    })
}

/// The plrust functions in this database: every one, or those `owner` owns.
pub fn functions(owner: Option<u32>) -> Vec<pg_sys::Oid> {
    // A NULL owner matches every function.
    let owner = owner.map(pg_sys::Oid::from);
    function_oids(
        "SELECT p.oid FROM pg_catalog.pg_proc p \
         JOIN pg_catalog.pg_language l ON l.oid OPERATOR(pg_catalog.=) p.prolang \
         WHERE l.lanname OPERATOR(pg_catalog.=) 'plrust' \
         AND ($1 IS NULL OR p.proowner OPERATOR(pg_catalog.=) $1) ORDER BY p.oid",
        &[owner.into()],
    )
}

/// The function oids a query of pg_proc returns.
fn function_oids(query: &str, args: &[pgrx::datum::DatumWithOid]) -> Vec<pg_sys::Oid> {
    Spi::connect(|client| {
        client
            .select(query, None, args)?
            .map(|row| row.get::<pg_sys::Oid>(1))
            .collect::<Result<Vec<_>, _>>()
    })
    .unwrap_or_else(|e| spi_failed("reading pg_proc", e))
    .into_iter()
    .flatten()
    .collect()
}

/// The stored code named by `hashes` (those that have any): (key, shared
/// object).  An executor bound to a principal loads its functions' code
/// before it is sealed.
pub fn objects(hashes: &[[u8; 32]]) -> Vec<(u64, Vec<u8>)> {
    check_version();
    let hashes: Vec<Vec<u8>> = hashes.iter().map(|h| h.to_vec()).collect();
    as_catalog_owner(|| {
        Spi::connect(|client| {
            let mut rows = client.select(
                "SELECT key, object FROM plrust.artifacts \
                 WHERE hash OPERATOR(pg_catalog.=) ANY ($1)",
                None,
                &[hashes.into()],
            )?;
            let mut out = Vec::new();
            while rows.next().is_some() {
                let key = rows.get_datum_by_ordinal(1)?;
                let object = rows.get_datum_by_ordinal(2)?;
                if let (Some(k), Some(o)) = (key, object) {
                    // SAFETY: column 2 is plrust.artifacts.object, a bytea.
                    out.push((k.value() as i64 as u64, unsafe { bytea_bytes(o) }));
                }
            }
            Ok::<_, SpiError>(out)
        })
    })
    .unwrap_or_else(|e| spi_failed("reading plrust.artifacts", e))
}

/// A bytea datum's bytes, detoasted in the current (SPI) memory context and
/// freed at once.  pgrx's own conversion detoasts into the parent of SPI's
/// context, which for a call inside a query is TopTransactionContext: a
/// statement that prepares many executors kept every object it loaded until
/// the transaction ended (hundreds of MB; the kernel's OOM killer then took
/// the backend, and the postmaster restarted the cluster).
///
/// # Safety
/// `datum` must be a non-null bytea datum valid for the current SPI call.
unsafe fn bytea_bytes(datum: pg_sys::Datum) -> Vec<u8> {
    let raw = datum.cast_mut_ptr::<pg_sys::varlena>();
    // SAFETY: the caller guarantees a bytea datum; detoasting allocates in
    // CurrentMemoryContext (SPI's procedure context).
    unsafe {
        let plain = pg_sys::pg_detoast_datum_packed(raw);
        let bytes = pgrx::varlena::varlena_to_byte_slice(plain).to_vec();
        if plain != raw {
            pg_sys::pfree(plain.cast());
        }
        bytes
    }
}
