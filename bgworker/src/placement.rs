//! Which pool slot a call gets: the pool's fairness rules as pure logic.
//!
//! The backend builds a snapshot of the slots as one waiting call sees them
//! (under the pool lock) and asks [`pick`]; [`grant`] serves every waiting
//! call in arrival order.  Keeping the rules here, without PostgreSQL,
//! lets them be tested in milliseconds.
//!
//! The rules (README.md, "The pool"):
//! - A free executor bound to the call's tenant (database + function owner)
//!   that has the function loaded is always the first choice: no start,
//!   no load.
//! - A tenant holds at most `ceiling` executors.  Below it, a call may take
//!   a fresh executor, an empty slot (the supervisor starts one there), or
//!   the least recently used idle executor of another tenant (which is
//!   replaced).  At its ceiling, it may only replace one of its own idle
//!   executors that lacks the function; otherwise it waits for its own.
//! - When nothing is free the pool is full, and waiting calls are served in
//!   arrival order across tenants: a later call never takes a slot that an
//!   earlier one could use.  A call that waits for its own tenant's
//!   executors (at its ceiling) does not hold up later calls of others.

/// What a slot holds, as a waiting call of one tenant sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State<T> {
    /// No executor runs in the slot.
    Empty,
    /// A started executor that no tenant has bound yet.
    Fresh,
    /// An executor that is being killed or has broken: the slot comes back
    /// empty.
    Dying,
    /// An executor bound to tenant `T`.
    Bound(T),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot<T> {
    /// No backend holds the slot.
    pub free: bool,
    pub state: State<T>,
    /// When the slot was last given back (any monotonic unit).
    pub last_used: u64,
}

/// A call waiting for a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Waiter<T> {
    pub tenant: T,
    /// Most executors its tenant may hold (plrust.max_executors_per_principal).
    pub ceiling: usize,
}

/// How the chosen slot is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    /// Bound to the tenant, with the function loaded: call at once.
    Ready,
    /// A fresh executor: bind and load it.
    Fresh,
    /// An empty slot: the supervisor starts an executor in it.
    Start,
    /// Replace the executor in it (another tenant's idle one, one of the
    /// tenant's own that lacks the function, or a dying one).
    Replace,
}

/// Why a call must wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The tenant holds `held` executors, its whole share, all busy.
    OwnShare { held: usize },
    /// Every slot of the pool is busy.
    PoolFull,
}

/// The slot for waiter `w`, if any.  `ready(i)` says whether slot `i`,
/// bound to the waiter's tenant, has the function loaded under the
/// waiter's limits.
pub fn pick<T: Eq + Copy>(
    slots: &[Slot<T>],
    w: &Waiter<T>,
    ready: impl Fn(usize) -> bool,
) -> Result<(usize, Pick), Refusal> {
    let ours = |s: &Slot<T>| s.state == State::Bound(w.tenant);
    let free = || slots.iter().enumerate().filter(|(_, s)| s.free);
    if let Some((i, _)) = free().find(|&(i, s)| ours(s) && ready(i)) {
        return Ok((i, Pick::Ready));
    }
    let held = slots.iter().filter(|s| ours(s)).count();
    // One of our own that cannot serve this call: replacing it keeps the
    // tenant's count, so it is allowed even at the ceiling.
    let own_unfit = free().find(|(_, s)| ours(s)).map(|(i, _)| i);
    if held >= w.ceiling.max(1) {
        return match own_unfit {
            Some(i) => Ok((i, Pick::Replace)),
            None => Err(Refusal::OwnShare { held }),
        };
    }
    if let Some((i, _)) = free().find(|(_, s)| s.state == State::Fresh) {
        return Ok((i, Pick::Fresh));
    }
    if let Some((i, _)) = free().find(|(_, s)| s.state == State::Empty) {
        return Ok((i, Pick::Start));
    }
    if let Some(i) = own_unfit {
        return Ok((i, Pick::Replace));
    }
    if let Some((i, _)) = free().find(|(_, s)| s.state == State::Dying) {
        return Ok((i, Pick::Replace));
    }
    let lru = free()
        .filter(|(_, s)| matches!(s.state, State::Bound(_)))
        .min_by_key(|(_, s)| s.last_used);
    match lru {
        Some((i, _)) => Ok((i, Pick::Replace)),
        None => Err(Refusal::PoolFull),
    }
}

/// Serve `waiters` (in arrival order) from `slots`: entry `k` of the result
/// is waiter `k`'s slot, or None if it keeps waiting.  `ready(i, k)` is
/// [`pick`]'s `ready` for waiter `k`.  Slots given out are marked taken in
/// `slots`, bound to the waiter's tenant, so that later waiters see them.
pub fn grant<T: Eq + Copy>(
    slots: &mut [Slot<T>],
    waiters: &[Waiter<T>],
    ready: impl Fn(usize, usize) -> bool,
) -> Vec<Option<(usize, Pick)>> {
    let mut out = Vec::with_capacity(waiters.len());
    for (k, w) in waiters.iter().enumerate() {
        match pick(slots, w, |i| ready(i, k)) {
            Ok((i, p)) => {
                slots[i].free = false;
                slots[i].state = State::Bound(w.tenant);
                out.push(Some((i, p)));
            }
            Err(_) => out.push(None),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(free: bool, state: State<u32>, last_used: u64) -> Slot<u32> {
        Slot {
            free,
            state,
            last_used,
        }
    }

    fn w(tenant: u32, ceiling: usize) -> Waiter<u32> {
        Waiter { tenant, ceiling }
    }

    #[test]
    fn a_ready_executor_of_the_tenant_comes_first() {
        let slots = [
            slot(true, State::Fresh, 0),
            slot(true, State::Bound(7), 5),
            slot(true, State::Bound(7), 3),
        ];
        assert_eq!(pick(&slots, &w(7, 4), |i| i == 2), Ok((2, Pick::Ready)));
    }

    #[test]
    fn below_the_ceiling_fresh_then_empty_then_own_then_lru_of_others() {
        let mut slots = vec![
            slot(true, State::Bound(1), 9),
            slot(true, State::Empty, 0),
            slot(true, State::Bound(2), 4),
            slot(true, State::Fresh, 0),
        ];
        let me = w(3, 8);
        assert_eq!(pick(&slots, &me, |_| false), Ok((3, Pick::Fresh)));
        slots[3].free = false;
        assert_eq!(pick(&slots, &me, |_| false), Ok((1, Pick::Start)));
        slots[1].free = false;
        assert_eq!(pick(&slots, &me, |_| false), Ok((2, Pick::Replace)));
        slots.push(slot(true, State::Bound(3), 1));
        assert_eq!(pick(&slots, &me, |_| false), Ok((4, Pick::Replace)));
    }

    #[test]
    fn at_its_ceiling_a_tenant_waits_for_its_own() {
        let slots = [
            slot(false, State::Bound(1), 0),
            slot(false, State::Bound(1), 0),
            slot(true, State::Fresh, 0),
            slot(true, State::Empty, 0),
        ];
        assert_eq!(
            pick(&slots, &w(1, 2), |_| false),
            Err(Refusal::OwnShare { held: 2 })
        );
        // Another tenant proceeds.
        assert_eq!(pick(&slots, &w(2, 2), |_| false), Ok((2, Pick::Fresh)));
    }

    #[test]
    fn at_its_ceiling_a_tenant_may_replace_its_own_unfit_executor() {
        let slots = [
            slot(false, State::Bound(1), 0),
            slot(true, State::Bound(1), 0),
        ];
        assert_eq!(pick(&slots, &w(1, 2), |_| false), Ok((1, Pick::Replace)));
        assert_eq!(pick(&slots, &w(1, 2), |i| i == 1), Ok((1, Pick::Ready)));
    }

    #[test]
    fn a_busy_pool_is_full() {
        let slots = [
            slot(false, State::Bound(1), 0),
            slot(false, State::Bound(2), 0),
        ];
        assert_eq!(pick(&slots, &w(3, 2), |_| false), Err(Refusal::PoolFull));
    }

    #[test]
    fn a_ceiling_of_zero_still_allows_one() {
        let slots = [slot(true, State::Fresh, 0)];
        assert_eq!(pick(&slots, &w(1, 0), |_| false), Ok((0, Pick::Fresh)));
    }

    #[test]
    fn waiters_are_served_in_arrival_order_across_tenants() {
        // One slot frees up (another tenant's idle executor): the earliest
        // waiter gets it, whatever its tenant.
        let mut slots = vec![
            slot(false, State::Bound(1), 0),
            slot(true, State::Bound(1), 0),
        ];
        let waiters = [w(5, 2), w(1, 2), w(6, 2)];
        let got = grant(&mut slots, &waiters, |i, k| i == 1 && k == 1);
        assert_eq!(got, vec![Some((1, Pick::Replace)), None, None]);
        assert_eq!(slots[1].state, State::Bound(5));
        assert!(!slots[1].free);
    }

    #[test]
    fn a_waiter_at_its_share_does_not_hold_up_later_waiters() {
        let mut slots = vec![slot(false, State::Bound(1), 0), slot(true, State::Fresh, 0)];
        let waiters = [w(1, 1), w(2, 1)];
        let got = grant(&mut slots, &waiters, |_, _| false);
        assert_eq!(got, vec![None, Some((1, Pick::Fresh))]);
    }

    #[test]
    fn slots_granted_in_a_round_count_toward_the_tenants_share() {
        let mut slots = vec![
            slot(true, State::Fresh, 0),
            slot(true, State::Empty, 0),
            slot(true, State::Empty, 0),
        ];
        let waiters = [w(1, 2), w(1, 2), w(1, 2), w(2, 2)];
        let got = grant(&mut slots, &waiters, |_, _| false);
        assert_eq!(
            got,
            vec![
                Some((0, Pick::Fresh)),
                Some((1, Pick::Start)),
                None,
                Some((2, Pick::Start))
            ]
        );
    }
}
