//! Round-trip latency of the channel between two processes (fork), the
//! floor under every plrust call.   cargo run --release -p plrust-ipc --example pingpong
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use plrust_ipc::channel::{Outcome, WaitPolicy};
use plrust_ipc::{memfd, Channel};

const N: u32 = 1_000_000;
const POLICY: WaitPolicy = WaitPolicy { spin: Duration::from_micros(200), slice: Duration::from_millis(10) };

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
            ch.reply_area()[..4].copy_from_slice(&ch.request_bytes(4)[..4]);
            ch.publish_reply(0, r.len);
        }
    }
    ch.wait_ready(POLICY, || Ok::<(), ()>(())).unwrap();
    let t = Instant::now();
    for i in 0..N {
        ch.request_area()[..4].copy_from_slice(&i.to_le_bytes());
        ch.publish_request(3, 1, 4);
        let out = ch.wait_reply(POLICY, || Ok::<(), ()>(())).unwrap();
        assert!(matches!(out, Outcome::Reply { .. }));
    }
    let ns = t.elapsed().as_nanos() as f64 / N as f64;
    println!("round trip: {ns:.0} ns");
    // SAFETY: killing our own child.
    unsafe { libc::kill(pid, libc::SIGKILL) };
}
