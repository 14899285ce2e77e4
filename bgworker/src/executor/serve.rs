//! The executor's request loop.

use std::time::Duration;

use plrust_ipc::channel::WaitPolicy;
use plrust_ipc::limits::REPLY_AREA;
use plrust_ipc::message::{op, status, Host, Limits};
use plrust_ipc::wire;
use plrust_ipc::Channel;

use super::loader::{self, Functions};
use super::{rlimits, seccomp};

/// How long to spin for the next request before sleeping on the futex.
/// Waking a sleeping process costs 40-55 us on this hardware, a whole
/// core while spinning.  An executor serving isolated calls spins briefly
/// (back-to-back calls arrive within ~0.2 us); once requests keep arriving
/// while it spins, it is in a hot loop, where a single backend hiccup
/// (a spill to disk, a page fault) must not cost a wake-up per row, so it
/// spins longer.  It has nothing to check between slices, so a slice can
/// be long.
const COLD: WaitPolicy = WaitPolicy {
    spin: Duration::from_micros(20),
    slice: Duration::from_secs(10),
};
const HOT: WaitPolicy = WaitPolicy {
    spin: Duration::from_micros(500),
    slice: Duration::from_secs(10),
};
/// Requests in a row that came while spinning before the loop counts as hot.
const HOT_STREAK: u32 = 8;

fn reply_failed(ch: &Channel, msg: &str) {
    ch.publish_reply(status::FAILED, msg.as_bytes());
}

/// While the body waits for its backend (an upcall), it is not busy: the
/// backend may run a whole query meanwhile, so after a short spin it sleeps.
const UPCALL_WAIT: WaitPolicy = WaitPolicy {
    spin: Duration::from_micros(50),
    slice: Duration::from_secs(10),
};

/// `Host::upcall`: publish the upcall as a reply with status UPCALL, wait
/// for the backend's RESUME, and hand the body the answer where it lies in
/// the request area (the call's arguments were copied out before the body
/// ran, so overwriting them is fine).
unsafe extern "C" fn upcall(
    ctx: *mut std::ffi::c_void,
    req: *const u8,
    req_len: usize,
    answer_len: *mut usize,
) -> *const u8 {
    // SAFETY: ctx is the &Channel serve() put in the Host, alive for the call.
    let ch = unsafe { &*(ctx as *const Channel) };
    // SAFETY: trusted-api passes a buffer of req_len bytes it owns.
    let req = unsafe { std::slice::from_raw_parts(req, req_len) };
    ch.publish_reply(status::UPCALL, req);
    let next = ch.wait_request(UPCALL_WAIT);
    if next.op != op::RESUME {
        // The backend abandoned the call (it never does that without
        // killing us first): nothing sensible can go on.
        std::process::exit(9);
    }
    let answer = ch.request_bytes(next.len);
    // SAFETY: answer_len points at the caller's usize.
    unsafe { *answer_len = answer.len() };
    answer.as_ptr()
}

/// Serve requests until killed.
pub fn serve(ch: Channel) -> ! {
    let mut functions = Functions::default();
    let mut sealed = false;
    let mut limited = false;
    // Replies are written to private memory first (it stays in this CPU's
    // cache), then copied inline or into the reply area.  Pages are only
    // allocated when a large reply touches them.
    let mut scratch = vec![0u8; REPLY_AREA];
    // The call's arguments, copied out of the request area: an upcall's
    // answer lands there while the body still borrows its arguments.
    let mut args = Vec::new();
    let host = Host {
        ctx: &ch as *const Channel as *mut std::ffi::c_void,
        upcall,
    };
    let mut streak = 0u32;
    ch.ready();
    loop {
        let req = ch.wait_request(if streak >= HOT_STREAK { HOT } else { COLD });
        streak = if req.slept {
            0
        } else {
            streak.saturating_add(1)
        };
        match (req.op, sealed) {
            (op::CALL, true) => match functions.get(req.key) {
                Some(entry) => {
                    args.clear();
                    args.extend_from_slice(ch.request_bytes(req.len));
                    // SAFETY: `args` and `scratch` (REPLY_AREA bytes) are
                    // private and disjoint; `host` and the channel it points
                    // to outlive the call.
                    let n = unsafe {
                        entry(
                            &host,
                            args.as_ptr(),
                            args.len(),
                            scratch.as_mut_ptr(),
                            scratch.len(),
                        )
                    };
                    ch.publish_reply(status::OK, &scratch[..n.min(REPLY_AREA)]);
                }
                None => reply_failed(&ch, "function is not loaded in this executor"),
            },
            (op::LOAD, false) => match loader::load(ch.request_bytes(req.len)) {
                Ok((entry, file)) => {
                    functions.insert(req.key, entry, file);
                    ch.publish_reply(status::OK, &[]);
                }
                Err(e) => reply_failed(&ch, &e),
            },
            (op::LIMITS, false) => {
                match wire::decode_exact::<Limits>(ch.request_bytes(req.len))
                    .map_err(|e| e.to_string())
                    .and_then(|l| rlimits::bind(l).map_err(|e| e.to_string()))
                {
                    Ok(()) => {
                        limited = true;
                        ch.publish_reply(status::OK, &[]);
                    }
                    Err(e) => reply_failed(&ch, &format!("setting the limits: {e}")),
                }
            }
            (op::SEAL, false) if !limited => {
                reply_failed(&ch, "SEAL before LIMITS");
                std::process::exit(7);
            }
            (op::SEAL, false) => {
                functions.close_files();
                if let Err(e) = rlimits::seal() {
                    reply_failed(&ch, &format!("sealing the rlimits: {e}"));
                    std::process::exit(7);
                }
                match seccomp::install() {
                    Ok(()) => {
                        sealed = true;
                        ch.publish_reply(status::OK, &[]);
                    }
                    Err(e) => {
                        reply_failed(&ch, &format!("installing the seccomp filter: {e}"));
                        std::process::exit(7);
                    }
                }
            }
            _ => reply_failed(&ch, "request out of order"),
        }
    }
}
