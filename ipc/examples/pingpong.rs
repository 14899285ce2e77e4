//! Round-trip latency of the channel between two processes (fork), the
//! floor under every plrust call.   cargo run --release -p plrust-ipc --example pingpong
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use plrust_ipc::channel::{Outcome, WaitPolicy};
use plrust_ipc::{memfd, Channel};

const N: u32 = 1_000_000;
const POLICY: WaitPolicy = WaitPolicy {
    spin: Duration::from_micros(200),
    yield_for: Duration::ZERO,
    slice: Duration::from_millis(10),
};

fn main() {
    let fd = memfd::create(c"pingpong").unwrap();
    let ch = Channel::new(memfd::map(fd.as_raw_fd()).unwrap());
    ch.reset();
    // SAFETY: single-threaded program; the child only uses the channel.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        ch.ready();
        loop {
            let r = ch.wait_request(POLICY);
            let echo: [u8; 4] = ch.request_bytes(r.len)[..4].try_into().unwrap();
            ch.publish_reply(0, &echo);
        }
    }
    ch.wait_ready(POLICY, || Ok::<(), ()>(())).unwrap();
    let work: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(0);
    let mut buf = Vec::new();
    let t = Instant::now();
    for i in 0..N {
        // Stand-in for the backend's own work between calls.
        let mut x = i as u64;
        for _ in 0..work {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
        }
        ch.publish_request(3, 1, &i.to_le_bytes());
        let out = ch.wait_reply(POLICY, || Ok::<(), ()>(())).unwrap();
        assert!(matches!(out, Outcome::Reply { .. }));
        ch.copy_reply(4, &mut buf);
    }
    let ns = t.elapsed().as_nanos() as f64 / N as f64;
    println!("round trip: {ns:.0} ns");
    // SAFETY: killing our own child.
    unsafe { libc::kill(pid, libc::SIGKILL) };
}
