//! How much of the executor's stack is left.
//!
//! Calls nest in one executor (a body's SPI query calls another function
//! of the same principal, which runs on the executor's own stack, inside
//! the first call's upcall), so a deep recursion through SQL uses the
//! executor's stack level by level.  Before each call starts, the executor
//! checks that at least [`MARGIN`] bytes are left and otherwise answers
//! with an error instead of running the body (serve.rs).
//!
//! The bounds are measured once, when serving starts and before SEAL
//! (`getrlimit` is a `prlimit64` system call, which the strict seccomp
//! filter forbids): the main thread's stack grows down from just above
//! `serve`'s frame to at most RLIMIT_STACK's soft limit below the top of
//! the stack mapping (the kernel refuses to grow it further; with the
//! default mmap layout nothing is mapped that close to it).  The executor
//! never changes RLIMIT_STACK (rlimits.rs), so it is what the worker
//! inherited from PostgreSQL.  After SEAL a check is pointer arithmetic
//! only.
//!
//! What the measure does not see lies above `serve`'s frame: the frames of
//! `main` and of the runtime that called it, the auxiliary vector and the
//! (empty) environment, and the kernel's random offset of the first stack
//! pointer (under 8 KiB): together some KiB to perhaps 16 KiB, which the
//! measure counts as free.  [`MARGIN`] is far larger.
//!
//! RLIMIT_AS (the principal's `plrust.executor_memory_limit`) also bounds
//! the stack, since its pages count as address space: an executor that is
//! out of address space cannot grow its stack either.  That is not checked
//! here; it kills the executor (SIGSEGV) as any other exhaustion does.

use std::io;

/// Stack that must be left when a call starts.
///
/// It must hold everything that runs between a check that passed and the
/// next check (the next nested call) or the end of the call: the body's
/// own frames, trusted-api's glue around them (argument decoding, the
/// reply's encoding, `catch_unwind`, and the unwinder when the body
/// panics, which alone takes some tens of KiB), the upcall path and the
/// dispatch of the next nested call up to its check, plus what the measure
/// cannot see (above).  A level of nesting itself costs the executor a few
/// hundred bytes (serve.rs's tests measure it: 544 bytes a level with a
/// trivial body), a typical body some KiB, so 256 KiB leaves a body about
/// 200 KiB of stack of its own.  A body that needs more
/// than that between two calls (a deep recursion inside one body, a huge
/// local array) still overflows the stack, which kills the executor
/// (SIGSEGV) and fails the call as a crash; the next call gets a new
/// executor.  A larger margin would cost every executor that much of the
/// depth it can nest to (256 KiB is 3% of a default 8 MiB stack).
pub const MARGIN: usize = 256 << 10;

/// The stack assumed when RLIMIT_STACK is unlimited: then the kernel lets
/// the stack grow until it meets another mapping, but 8 MiB (the usual
/// default limit) is known to be there.
pub const DEFAULT_LIMIT: usize = 8 << 20;

/// The lowest address a thread's stack may reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stack {
    low: usize,
}

impl Stack {
    /// The calling (main) thread's stack, measured from the caller's frame
    /// down by RLIMIT_STACK's soft limit.  Call it early in the thread's
    /// life, and before SEAL.
    pub fn main_thread() -> io::Result<Stack> {
        let limit = soft_limit()?;
        Ok(Stack::below(here(), limit))
    }

    /// A stack of `size` bytes whose top is at `top` (tests: a thread
    /// spawned with a known stack size).
    pub fn below(top: usize, size: usize) -> Stack {
        Stack {
            low: top.saturating_sub(size),
        }
    }

    /// Bytes left below the caller's frame (0 if it is already past the end).
    pub fn remaining(&self) -> usize {
        here().saturating_sub(self.low)
    }
}

/// The address of a local in a frame just below the caller's: how deep
/// the stack is right now.
#[inline(never)]
pub fn here() -> usize {
    let marker = 0u8;
    std::ptr::from_ref(std::hint::black_box(&marker)).addr()
}

/// RLIMIT_STACK's soft limit, in bytes ([`DEFAULT_LIMIT`] when unlimited).
pub fn soft_limit() -> io::Result<usize> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct we pass, which we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_STACK, &mut lim) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(limit_from(lim.rlim_cur))
}

fn limit_from(soft: libc::rlim_t) -> usize {
    if soft == libc::RLIM_INFINITY {
        DEFAULT_LIMIT
    } else {
        usize::try_from(soft).unwrap_or(usize::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hint::black_box;

    const FRAME: usize = 16 << 10;

    /// Recurse with frames of at least FRAME bytes while more than `keep`
    /// bytes are left; returns the depth reached and the smallest
    /// remaining seen.  Every page of every frame is touched (the compiler
    /// probes large frames page by page), so a stack smaller than measured
    /// crashes the test.
    #[inline(never)]
    fn descend(stack: &Stack, keep: usize, depth: usize) -> (usize, usize) {
        let mut pad = [0u8; FRAME];
        pad[0] = 1;
        pad[FRAME - 1] = 1;
        black_box(&mut pad);
        let left = stack.remaining();
        if left <= keep + 2 * FRAME {
            return (depth, left);
        }
        let r = descend(stack, keep, depth + 1);
        black_box(&pad);
        r
    }

    #[test]
    fn remaining_shrinks_with_depth() {
        let stack = Stack::main_thread().unwrap();
        #[inline(never)]
        fn nested(stack: &Stack, levels: usize, seen: &mut Vec<usize>) {
            let mut pad = [0u8; FRAME];
            black_box(&mut pad);
            seen.push(stack.remaining());
            if levels > 0 {
                nested(stack, levels - 1, seen);
            }
            black_box(&pad);
        }
        let mut seen = Vec::new();
        nested(&stack, 4, &mut seen);
        assert_eq!(seen.len(), 5);
        for w in seen.windows(2) {
            assert!(w[0] >= w[1] + FRAME, "{seen:?}");
            assert!(w[0] < w[1] + 4 * FRAME, "{seen:?}");
        }
    }

    #[test]
    fn a_thread_stack_is_measured_within_the_margin() {
        // A thread of 1 MiB: the measure must neither overstate what is
        // left (descending to 64 KiB would crash) nor lose much of it.
        const SIZE: usize = 1 << 20;
        let (depth, left) = std::thread::Builder::new()
            .stack_size(SIZE)
            .spawn(|| {
                let stack = Stack::below(here(), SIZE);
                let start = stack.remaining();
                assert!(start <= SIZE && start > SIZE - 1024, "{start}");
                descend(&stack, 64 << 10, 0)
            })
            .unwrap()
            .join()
            .unwrap();
        assert!(left <= (64 << 10) + 2 * FRAME, "{left}");
        assert!(
            depth * FRAME >= SIZE - (64 << 10) - 8 * FRAME,
            "only {depth} frames"
        );
    }

    #[test]
    fn past_the_end_is_nothing_left() {
        let stack = Stack::below(here(), 0);
        assert_eq!(stack.remaining(), 0);
        let stack = Stack::below(0, 1 << 20);
        assert!(stack.remaining() > 0);
    }

    #[test]
    fn limits() {
        assert_eq!(limit_from(libc::RLIM_INFINITY), DEFAULT_LIMIT);
        assert_eq!(limit_from(16 << 20), 16 << 20);
        let soft = soft_limit().unwrap();
        assert!(soft >= MARGIN, "{soft}");
    }
}
