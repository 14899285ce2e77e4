//! plrust.artifacts: compiled functions, stored so that a restart, another
//! backend or a replica loads them without compiling again.
//!
//! Users have no privileges on the table; plrust reads and writes it as the
//! bootstrap superuser, in a restricted security context, with every name
//! schema-qualified, so neither the caller's role nor its search_path can
//! change what these statements do.

use pgrx::prelude::*;
use pgrx::spi::SpiError;

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

fn spi_failed(what: &str, e: SpiError) -> ! {
    raise(
        PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
        format!("plrust: {what}: {e}"),
        None,
        Some("Is the plrust extension installed in this database?".into()),
    )
}

/// The hash of the stored artifact of `fn_oid`, if there is one.
pub fn stored_hash(fn_oid: pg_sys::Oid) -> Option<Vec<u8>> {
    as_catalog_owner(|| {
        Spi::connect(|client| {
            let rows = client.select(
                "SELECT hash FROM plrust.artifacts WHERE fn_oid OPERATOR(pg_catalog.=) $1",
                None,
                &[fn_oid.into()],
            )?;
            let mut rows = rows;
            match rows.next() {
                Some(row) => row.get::<Vec<u8>>(1),
                None => Ok(None),
            }
        })
    })
    .unwrap_or_else(|e| spi_failed("reading plrust.artifacts", e))
}

pub fn store(fn_oid: pg_sys::Oid, hash: &[u8], key: u64, object: Vec<u8>) {
    as_catalog_owner(|| {
        Spi::run_with_args(
            "INSERT INTO plrust.artifacts (fn_oid, hash, key, object) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (fn_oid) DO UPDATE SET hash = excluded.hash, key = excluded.key, \
             object = excluded.object, built_at = pg_catalog.now()",
            &[
                fn_oid.into(),
                hash.to_vec().into(),
                (key as i64).into(),
                object.into(),
            ],
        )
    })
    .unwrap_or_else(|e| spi_failed("storing the compiled function", e))
}

/// Every compiled plrust function owned by `role` in this database:
/// (key, shared object).  An executor bound to that principal loads them
/// all before it is sealed.
pub fn objects_of(role: u32) -> Vec<(u64, Vec<u8>)> {
    as_catalog_owner(|| {
        Spi::connect(|client| {
            let mut rows = client.select(
                "SELECT a.key, a.object FROM plrust.artifacts a \
                 JOIN pg_catalog.pg_proc p ON p.oid OPERATOR(pg_catalog.=) a.fn_oid \
                 WHERE p.proowner OPERATOR(pg_catalog.=) $1",
                None,
                &[pg_sys::Oid::from(role).into()],
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
