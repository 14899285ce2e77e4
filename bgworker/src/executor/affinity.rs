//! Running on the CPU the backend asks for.
//!
//! Under load, neither side of a call spins, and each hand-over wakes the
//! other side through the futex.  A wake-up on another CPU costs an
//! interrupt of that CPU (a VM exit on this hardware); one on the waker's
//! own CPU, which the waker is about to give up, costs a plain context
//! switch.  So when the backend says it will not spin, the executor moves
//! to the backend's CPU, and back to any CPU when it says it will.  The
//! seccomp filter allows sched_setaffinity for this process only.

use std::cell::Cell;

/// Where this process last asked to run: None for anywhere.
#[derive(Debug, Default)]
pub struct Affinity {
    current: Cell<Option<u16>>,
}

impl Affinity {
    /// Run on `cpu` (or anywhere).  Only asks the kernel when it changes,
    /// which is rare: a backend seldom moves between CPUs.  A failure (an
    /// offline CPU, say) leaves the process where it was, which is only
    /// slower.
    pub fn follow(&self, cpu: Option<u16>) {
        if self.current.get() == cpu {
            return;
        }
        if set(cpu).is_ok() {
            self.current.set(cpu);
        }
    }
}

fn set(cpu: Option<u16>) -> std::io::Result<()> {
    // SAFETY: cpu_set_t is plain bits; all-zero is a valid empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    match cpu {
        // SAFETY: CPU_SET writes one bit inside `set` (bounds checked by
        // the libc crate's implementation against the set's size).
        Some(c) => unsafe { libc::CPU_SET(usize::from(c), &mut set) },
        None => {
            for c in 0..libc::CPU_SETSIZE as usize {
                // SAFETY: as above, for every valid CPU number.
                unsafe { libc::CPU_SET(c, &mut set) };
            }
        }
    }
    // SAFETY: sched_setaffinity of this process (pid 0) with a set of the
    // size we pass; it only reads the set.
    let r = unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) };
    if r != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed() -> Vec<usize> {
        // SAFETY: as in `set`; sched_getaffinity writes the set we pass.
        unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            assert_eq!(
                libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set),
                0
            );
            (0..libc::CPU_SETSIZE as usize)
                .filter(|&c| libc::CPU_ISSET(c, &set))
                .collect()
        }
    }

    #[test]
    fn follows_a_cpu_and_lets_go_again() {
        // On a thread of its own: affinity is per thread.
        std::thread::spawn(|| {
            let before = allowed();
            let first = before[0] as u16;
            let a = Affinity::default();
            a.follow(Some(first));
            assert_eq!(allowed(), vec![usize::from(first)]);
            a.follow(None);
            assert_eq!(allowed(), before);
        })
        .join()
        .unwrap();
    }
}
