//! plrust.workers: the pool as a view, one row per slot.  Every role may
//! read it, and sees the slots serving its own functions (of roles whose
//! privileges it has); superusers and pg_read_all_stats see every slot, as
//! in pg_stat_activity.

use std::sync::atomic::Ordering;

use pgrx::prelude::*;

use crate::pool;

#[allow(clippy::type_complexity)]
#[pg_extern]
fn worker_status() -> TableIterator<
    'static,
    (
        name!(slot, i32),
        name!(executor_pid, Option<i32>),
        name!(generation, i64),
        name!(database_oid, Option<pg_sys::Oid>),
        name!(role_oid, Option<pg_sys::Oid>),
        name!(sealed, bool),
        name!(functions_loaded, i32),
        name!(busy_backend_pid, Option<i32>),
        name!(memory_limit_mb, Option<i32>),
    ),
> {
    // SAFETY: catalog checks on the current user and a built-in role.
    let (user, sees_all) = unsafe {
        let user = pg_sys::GetUserId();
        let stats = pg_sys::Oid::from(pg_sys::ROLE_PG_READ_ALL_STATS);
        (
            user,
            pg_sys::superuser_arg(user) || pg_sys::has_privs_of_role(user, stats),
        )
    };
    let rows: Vec<_> = (0..pool::slot_count())
        .filter(|&i| {
            let s = pool::slot(i);
            // SAFETY: a catalog check on two role oids.
            sees_all
                || (s.is_bound()
                    && unsafe {
                        pg_sys::has_privs_of_role(
                            user,
                            pg_sys::Oid::from(s.bound_role.load(Ordering::Relaxed)),
                        )
                    })
        })
        .map(|i| {
            let s = pool::slot(i);
            let g = s.generation.load(Ordering::Acquire);
            let pid = s.executor_pid.load(Ordering::Acquire);
            // A slot whose executor died keeps its binding until the
            // supervisor starts the next one: it serves nobody meanwhile.
            let bound = s.is_bound() && pid != 0;
            let owner = s.owner.load(Ordering::Acquire);
            (
                i as i32,
                (pid != 0).then_some(pid),
                g as i64,
                bound.then(|| pg_sys::Oid::from(s.bound_database.load(Ordering::Relaxed))),
                bound.then(|| pg_sys::Oid::from(s.bound_role.load(Ordering::Relaxed))),
                bound && s.sealed_generation.load(Ordering::Acquire) == g,
                if bound {
                    s.loaded_len.load(Ordering::Relaxed) as i32
                } else {
                    0
                },
                // (RETIRING, -1, is the supervisor's, not a backend's.)
                (owner > 0).then_some(owner),
                bound.then(|| s.bound_memory_mb.load(Ordering::Relaxed) as i32),
            )
        })
        .collect();
    TableIterator::new(rows)
}
