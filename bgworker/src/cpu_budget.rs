//! A call's CPU budget (`plrust.call_cpu_limit`), checked by the waiting
//! backend between wait slices, i.e. only for calls that already took
//! longer than a spin.
//!
//! Reading the executor's CPU time costs a /proc read, so the first one
//! waits until the call has run for BASELINE_AFTER, counting that stretch
//! as if it were all CPU time: a call is stopped at most that much early,
//! never late.  One budget covers the whole call, across its upcalls, so a
//! body cannot reset it by logging; the backend's own work while it serves
//! an upcall is not counted (the baseline is taken when the first upcall
//! starts).

use std::time::{Duration, Instant};

pub const BASELINE_AFTER: Duration = Duration::from_millis(10);

/// Reads a process's CPU time (user + system); None once it is gone.
pub type CpuReader = fn(i32) -> Option<Duration>;

#[derive(Debug)]
pub struct CpuBudget {
    pub limit: Duration,
    pid: i32,
    read: CpuReader,
    first_check: Option<Instant>,
    /// When `due_and_exceeded` last read the CPU time.
    last_check: Option<Instant>,
    /// (wall time since first_check, executor CPU time) when measured.
    baseline: Option<(Duration, Duration)>,
}

impl CpuBudget {
    pub fn new(limit: Duration, pid: i32, read: CpuReader) -> CpuBudget {
        CpuBudget {
            limit,
            pid,
            read,
            first_check: None,
            last_check: None,
            baseline: None,
        }
    }

    /// Take the baseline now if it is not taken yet.
    pub fn take_baseline(&mut self) {
        self.take_baseline_at(Instant::now());
    }

    fn take_baseline_at(&mut self, now: Instant) {
        if self.baseline.is_none() {
            let wall = now - *self.first_check.get_or_insert(now);
            self.baseline = (self.read)(self.pid).map(|cpu| (wall, cpu));
        }
    }

    /// `exceeded`, at most once per BASELINE_AFTER of wall time (each check
    /// reads /proc); the limit when it is exceeded.
    pub fn due_and_exceeded(&mut self) -> Option<Duration> {
        let now = Instant::now();
        if self.last_check.is_some_and(|t| now - t < BASELINE_AFTER) {
            return None;
        }
        self.last_check = Some(now);
        self.exceeded_at(now).then_some(self.limit)
    }

    pub fn exceeded(&mut self) -> bool {
        self.exceeded_at(Instant::now())
    }

    fn exceeded_at(&mut self, now: Instant) -> bool {
        let wall = now - *self.first_check.get_or_insert(now);
        let Some((wall0, cpu0)) = self.baseline else {
            if wall >= BASELINE_AFTER {
                self.baseline = (self.read)(self.pid).map(|cpu| (wall, cpu));
            }
            return false;
        };
        wall >= self.limit
            && (self.read)(self.pid)
                .is_some_and(|cpu| wall0 + cpu.saturating_sub(cpu0) >= self.limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    // The fake executor's CPU time, in ms, per test (pids keep tests apart).
    static CPU_MS: [AtomicU64; 4] = [const { AtomicU64::new(0) }; 4];

    fn fake(pid: i32) -> Option<Duration> {
        Some(Duration::from_millis(
            CPU_MS[pid as usize].load(Ordering::Relaxed),
        ))
    }

    #[test]
    fn nothing_is_read_before_the_baseline_time() {
        let mut b = CpuBudget::new(Duration::from_millis(5), 0, fake);
        let t0 = Instant::now();
        assert!(!b.exceeded_at(t0));
        assert!(!b.exceeded_at(t0 + Duration::from_millis(5)));
        assert!(b.baseline.is_none());
    }

    #[test]
    fn cpu_time_past_the_limit_is_exceeded() {
        let mut b = CpuBudget::new(Duration::from_millis(50), 1, fake);
        let t0 = Instant::now();
        b.exceeded_at(t0);
        CPU_MS[1].store(100, Ordering::Relaxed);
        // Baseline at 10 ms of wall time: 10 ms counted, CPU 100 ms.
        assert!(!b.exceeded_at(t0 + BASELINE_AFTER));
        CPU_MS[1].store(130, Ordering::Relaxed);
        assert!(!b.exceeded_at(t0 + Duration::from_millis(40)));
        CPU_MS[1].store(141, Ordering::Relaxed);
        assert!(b.exceeded_at(t0 + Duration::from_millis(60)));
    }

    #[test]
    fn an_idle_executor_never_exceeds() {
        let mut b = CpuBudget::new(Duration::from_millis(20), 2, fake);
        let t0 = Instant::now();
        b.exceeded_at(t0);
        b.take_baseline_at(t0 + Duration::from_millis(1));
        // Waiting on the backend (an upcall) costs the executor no CPU.
        assert!(!b.exceeded_at(t0 + Duration::from_secs(10)));
    }
}
