//! Whether a waiting side may spin: spinning saves a futex wake-up (40-55 µs
//! on this hardware when the peer's CPU is idle) but takes a whole CPU while
//! it lasts, which under load is a CPU that a runnable backend needed
//! (FINDINGS.md: with 8 clients, spinning made each call cost ~40 µs of CPU
//! more than PL/pgSQL).  So a side spins only when the machine has a CPU to
//! spare: few processes runnable, and few plrust calls in flight.

use std::time::Duration;

/// How long a backend spins for its executor's reply before sleeping.
pub const BACKEND_SPIN: Duration = Duration::from_micros(200);
/// How long an executor spins for its next request: longer than a client's
/// round trip to its backend (~50-70 µs here), so that a client issuing one
/// statement after another finds its executor awake.
pub const EXECUTOR_SPIN: Duration = Duration::from_micros(300);

/// What the pool knows of the machine's load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Load {
    /// Processes runnable on the whole machine (sampled; includes the
    /// sampler itself).
    pub runnable: u32,
    /// plrust calls in flight, this one included.
    pub in_flight: u32,
    pub cpus: u32,
}

/// Spin budgets for one call: the backend's wait for replies, and the
/// executor's wait for its next request (told to it through the channel).
/// When neither spins, the executor is asked to run on its backend's CPU:
/// the two take turns, never run at once, and a wake-up on the waker's own
/// CPU costs no interrupt of another (measured: 1.4 µs more per round trip
/// with 8 busy pairs on 2 CPUs, against 5.7 µs when the scheduler places
/// them freely).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub backend: Duration,
    /// How long the backend then yields its CPU between polls.
    pub backend_yield: Duration,
    pub executor: Duration,
}

impl Budget {
    /// Whether the executor should follow its backend's CPU.
    pub fn colocate(&self) -> bool {
        self.backend.is_zero()
    }
}

/// Spin only while every spinner can have a CPU of its own: one call in
/// flight needs two (its backend and its executor take turns, and the one
/// waiting spins), and the rest of the machine must not be queued up.
pub fn budget(load: Load) -> Budget {
    let cpus = load.cpus.max(1);
    let calls_fit = load.in_flight.saturating_mul(2) <= cpus.max(2);
    // The sampler itself and its executor may be two of the runnable.
    let machine_idle_enough = load.runnable <= cpus + 1;
    if calls_fit && machine_idle_enough {
        Budget {
            backend: BACKEND_SPIN,
            backend_yield: Duration::ZERO,
            executor: EXECUTOR_SPIN,
        }
    } else {
        Budget {
            backend: Duration::ZERO,
            backend_yield: BACKEND_SPIN,
            executor: Duration::ZERO,
        }
    }
}

/// The number of runnable processes from /proc/loadavg's fourth field
/// (`running/total`).
pub fn parse_loadavg(text: &str) -> Option<u32> {
    let field = text.split_ascii_whitespace().nth(3)?;
    field.split('/').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(runnable: u32, in_flight: u32, cpus: u32) -> Load {
        Load {
            runnable,
            in_flight,
            cpus,
        }
    }

    #[test]
    fn one_stream_on_an_idle_machine_spins() {
        assert_eq!(budget(load(2, 1, 2)).backend, BACKEND_SPIN);
        assert_eq!(budget(load(1, 1, 2)).executor, EXECUTOR_SPIN);
        assert!(!budget(load(1, 1, 2)).colocate());
    }

    #[test]
    fn a_busy_machine_does_not_spin() {
        assert_eq!(budget(load(5, 1, 2)).backend, Duration::ZERO);
        assert_eq!(budget(load(5, 1, 2)).executor, Duration::ZERO);
        assert!(budget(load(5, 1, 2)).colocate());
    }

    #[test]
    fn more_calls_than_cpu_pairs_do_not_spin() {
        assert_eq!(budget(load(2, 2, 2)).backend, Duration::ZERO);
        assert_eq!(budget(load(3, 1, 2)).backend, BACKEND_SPIN);
        assert_eq!(budget(load(4, 1, 2)).backend, Duration::ZERO);
        assert_eq!(budget(load(4, 2, 4)).backend, BACKEND_SPIN);
        assert_eq!(budget(load(4, 3, 4)).backend, Duration::ZERO);
    }

    #[test]
    fn reads_the_running_count() {
        assert_eq!(parse_loadavg("0.52 0.58 0.59 3/1234 56789\n"), Some(3));
        assert_eq!(parse_loadavg("garbage"), None);
    }
}
