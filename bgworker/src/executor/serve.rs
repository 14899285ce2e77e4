//! The executor's request loop, and the calls nested inside a call.
//!
//! A call's body may need its backend in the middle of the call (an
//! upcall: a message, an SPI query, rows of a set).  While it waits for the
//! answer, the backend may run SQL that calls another plrust function of
//! the same principal: that nested call comes to this executor, as a CALL
//! request on the same channel, and runs here, on this stack, inside the
//! first call's upcall; then the wait for the first call's answer (RESUME)
//! goes on.  Calls nest to any depth, each depth with its own buffers,
//! until the stack (`stack.rs`) or the address space for the buffers runs
//! short: then the call that would go deeper answers 54001 without running.
//!
//! All the state lives in one [`Executor`], which the upcall callback
//! reaches through the `Host`'s `ctx` pointer while `serve`'s own frame
//! is borrowed by the call in progress.  So it is only ever used through
//! shared references: what changes is in `Cell`s and `RefCell`s, and no
//! `RefCell` borrow is held while a body runs.

use std::alloc::{self, Layout};
use std::cell::{Cell, RefCell};
use std::ffi::c_void;
use std::ptr::NonNull;
use std::time::Duration;

use plrust_ipc::channel::{Request, WaitPolicy};
use plrust_ipc::limits::REPLY_AREA;
use plrust_ipc::message::{op, status, ErrorReport, Host, Limits};
use plrust_ipc::{wire, Channel, Reply};

use super::affinity::Affinity;
use super::loader::{self, Functions};
use super::stack::{self, Stack};
use super::{rlimits, seccomp};

/// How long to spin for the next request before sleeping on the futex, at
/// most: the backend, which sees how busy the machine is, advises less or
/// none (plrust_bgworker::spin, `Channel::wait_request`).  Waking a
/// sleeping process costs 40-55 us on this hardware when its CPU is idle;
/// spinning costs a whole CPU while it lasts.  The executor has nothing to
/// check between slices, so a slice can be long.
const NEXT_REQUEST: WaitPolicy = WaitPolicy {
    spin: Duration::from_micros(500),
    yield_for: Duration::ZERO,
    slice: Duration::from_secs(10),
};

/// While the body waits for its backend (an upcall), it is not busy: the
/// backend may run a whole query meanwhile, so after a short spin it sleeps.
/// The same holds between a nested call's reply and the next request.
const UPCALL_WAIT: WaitPolicy = WaitPolicy {
    spin: Duration::from_micros(50),
    yield_for: Duration::ZERO,
    slice: Duration::from_secs(10),
};

/// Exit code when the backend sends something other than RESUME or CALL
/// while a call waits for an answer.
const EXIT_PROTOCOL: i32 = 9;
/// Exit code when the stack's bounds cannot be read (rlimits).
const EXIT_RLIMITS: i32 = 5;

fn reply_failed(ch: &Channel, msg: &str) {
    ch.publish_reply(status::FAILED, msg.as_bytes());
}

/// A call's error as trusted-api encodes `Reply::Error`, as the reply of a
/// call (status OK) that did not run.
fn reply_error(ch: &Channel, sqlstate: [u8; 5], message: &str, detail: &str, hint: &str) {
    let reply = Reply::Error(ErrorReport {
        detail: Some(detail),
        hint: Some(hint),
        ..ErrorReport::new(Some(sqlstate), message)
    });
    ch.publish_reply(status::OK, &wire::encode_to_vec(&reply));
}

fn scratch_layout() -> Layout {
    Layout::from_size_align(REPLY_AREA, 1).expect("REPLY_AREA is a valid size")
}

/// REPLY_AREA zeroed bytes of private memory, where calls write their
/// replies.  They come from calloc, i.e. fresh zero pages from mmap that
/// are only allocated when a large reply touches them.  One buffer serves
/// every depth: an entry writes its `out` only after its body has returned
/// (trusted-api's `run`), i.e. after its last upcall, so a call nested in
/// an upcall has written and published its reply before the outer call
/// writes its own.  One per depth would make each level of recursion cost
/// 16 MiB of address space (plrust.executor_memory_limit).  A raw
/// allocation rather than a `Vec` or `Box`: entries only ever get a raw
/// pointer to it.
struct Scratch {
    ptr: NonNull<u8>,
}

impl Scratch {
    /// None when the address space (RLIMIT_AS) has no room for it.
    fn new() -> Option<Scratch> {
        // SAFETY: the layout's size, REPLY_AREA, is not zero.
        let p = unsafe { alloc::alloc_zeroed(scratch_layout()) };
        NonNull::new(p).map(|ptr| Scratch { ptr })
    }

    /// The first `n` bytes (at most REPLY_AREA).
    ///
    /// # Safety
    /// No call writing into this buffer may be running.
    unsafe fn bytes(&self, n: usize) -> &[u8] {
        // SAFETY: REPLY_AREA bytes, initialised (zeroed, then written by
        // calls), owned by self; the caller guarantees nobody writes them
        // while the slice lives.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), n.min(REPLY_AREA)) }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout, freed only here.
        unsafe { alloc::dealloc(self.ptr.as_ptr(), scratch_layout()) }
    }
}

/// One nesting depth's buffer, made when the depth is first reached and
/// reused by every later call at that depth.
struct Frame {
    /// The call's arguments, copied out of the request area: the answers
    /// to its upcalls and the arguments of nested calls land there while
    /// the body still borrows its own.
    args: Vec<u8>,
}

/// Which of a call's buffers the address space had no room for.
enum Short {
    /// The reply buffer of a depth reached for the first time.
    Scratch,
    /// The arguments.
    Args,
}

/// An executor's state.
struct Executor {
    ch: Channel,
    functions: RefCell<Functions>,
    limited: Cell<bool>,
    sealed: Cell<bool>,
    stack: Stack,
    /// Calls running now, which is also the index of the next call's frame.
    depth: Cell<usize>,
    /// Argument buffers by depth.  Frames move when a deeper one is added;
    /// their buffers (which running calls point into) do not.
    frames: RefCell<Vec<Frame>>,
    /// The reply buffer, written in private memory (it stays in this CPU's
    /// cache) and copied inline or into the reply area once; made at the
    /// first call.
    scratch: RefCell<Option<Scratch>>,
    /// Where the backend asked it to run.
    affinity: Affinity,
}

impl Executor {
    fn new(ch: Channel, stack: Stack) -> Executor {
        Executor {
            ch,
            functions: RefCell::new(Functions::default()),
            limited: Cell::new(false),
            sealed: Cell::new(false),
            stack,
            depth: Cell::new(0),
            frames: RefCell::new(Vec::new()),
            scratch: RefCell::new(None),
            affinity: Affinity::default(),
        }
    }

    /// Wait for the next top-level request and serve it.
    fn serve_next(&self) {
        let req = self.ch.wait_request(NEXT_REQUEST);
        self.affinity.follow(req.advice.cpu);
        let ch = &self.ch;
        match (req.op, self.sealed.get()) {
            (op::CALL, true) => self.call(req),
            (op::LOAD, false) => match loader::load(ch.request_bytes(req.len)) {
                Ok((entry, file)) => {
                    self.functions.borrow_mut().insert(req.key, entry, file);
                    ch.publish_reply(status::OK, &[]);
                }
                Err(e) => reply_failed(ch, &e),
            },
            (op::LIMITS, false) => {
                match wire::decode_exact::<Limits>(ch.request_bytes(req.len))
                    .map_err(|e| e.to_string())
                    .and_then(|l| rlimits::bind(l).map_err(|e| e.to_string()))
                {
                    Ok(()) => {
                        self.limited.set(true);
                        ch.publish_reply(status::OK, &[]);
                    }
                    Err(e) => reply_failed(ch, &format!("setting the limits: {e}")),
                }
            }
            (op::SEAL, false) if !self.limited.get() => {
                reply_failed(ch, "SEAL before LIMITS");
                std::process::exit(7);
            }
            (op::SEAL, false) => {
                self.functions.borrow_mut().close_files();
                if let Err(e) = rlimits::seal() {
                    reply_failed(ch, &format!("sealing the rlimits: {e}"));
                    std::process::exit(7);
                }
                match seccomp::install() {
                    Ok(()) => {
                        self.sealed.set(true);
                        ch.publish_reply(status::OK, &[]);
                    }
                    Err(e) => {
                        reply_failed(ch, &format!("installing the seccomp filter: {e}"));
                        std::process::exit(7);
                    }
                }
            }
            _ => reply_failed(ch, "request out of order"),
        }
    }

    /// Run one CALL, top-level or nested, and publish its reply.
    fn call(&self, req: Request) {
        let ch = &self.ch;
        let Some(entry) = self.functions.borrow_mut().get(req.key) else {
            return reply_failed(ch, "function is not loaded in this executor");
        };
        let left = self.stack.remaining();
        if left < stack::MARGIN {
            return reply_error(
                ch,
                *b"54001",
                "stack depth limit exceeded",
                &format!(
                    "plrust calls nest too deeply for the executor's stack ({} kB left)",
                    left / 1024
                ),
                "Reduce the depth of the recursion.",
            );
        }
        let depth = self.depth.get();
        let (args, args_len, out) = match self.buffers(depth, req.len) {
            Ok(buffers) => buffers,
            Err(short) => {
                let what = match short {
                    Short::Scratch => "the reply buffer".to_string(),
                    Short::Args => format!("the arguments of nesting level {depth}"),
                };
                return reply_error(
                    ch,
                    *b"53200",
                    "out of memory",
                    &format!(
                        "the executor has no room within plrust.executor_memory_limit for {what}"
                    ),
                    "Raise plrust.executor_memory_limit.",
                );
            }
        };
        let host = Host {
            ctx: std::ptr::from_ref(self).cast_mut().cast::<c_void>(),
            upcall,
        };
        self.depth.set(depth + 1);
        // SAFETY: `args` (args_len bytes) is this depth's private buffer
        // and `out` (REPLY_AREA bytes) the reply buffer, disjoint; nothing
        // touches `args` until the entry returns (calls nested inside it
        // use deeper frames, and adding a frame moves the `Frame`s, not
        // their buffers).  Nested calls write `out` only while this entry
        // waits in an upcall, before it writes `out` itself, and the entry
        // holds no reference into it meanwhile (trusted-api's `run` makes
        // its slice after the body returns).  `host` and the executor it
        // points to outlive the call.
        let n = unsafe { entry(&host, args, args_len, out, REPLY_AREA) };
        self.depth.set(depth);
        let scratch = self.scratch.borrow();
        // SAFETY: the call at this depth has returned and no deeper call
        // runs, so nothing writes this buffer while the reply is copied.
        let reply = unsafe { scratch.as_ref().expect("made by buffers()").bytes(n) };
        ch.publish_reply(status::OK, reply);
    }

    /// The frame of `depth` (made if it is new) with the request's bytes
    /// copied into its arguments: where the arguments are, how long, and
    /// where the reply goes.  An error when the memory for it cannot be had.
    fn buffers(&self, depth: usize, len: usize) -> Result<(*const u8, usize, *mut u8), Short> {
        let mut frames = self.frames.borrow_mut();
        debug_assert!(depth <= frames.len());
        let mut scratch = self.scratch.borrow_mut();
        if scratch.is_none() {
            *scratch = Some(Scratch::new().ok_or(Short::Scratch)?);
        }
        let out = scratch.as_ref().expect("made above").ptr.as_ptr();
        if depth >= frames.len() {
            frames.push(Frame { args: Vec::new() });
        }
        let f = &mut frames[depth];
        let bytes = self.ch.request_bytes(len);
        f.args.clear();
        f.args.try_reserve(bytes.len()).map_err(|_| Short::Args)?;
        f.args.extend_from_slice(bytes);
        // `as_ptr` takes no reference to the vector's contents, so calls
        // nested deeper, which borrow the frames, leave this pointer valid.
        Ok((f.args.as_ptr(), f.args.len(), out))
    }
}

/// `Host::upcall`: publish the upcall as a reply with status UPCALL, then
/// serve the backend until it RESUMEs: a CALL meanwhile is a nested call
/// (SQL the backend runs for this upcall called a function of this
/// executor), run at once like any call.  The answer is handed to the body
/// where it lies in the request area (the arguments of the call and of the
/// nested calls were copied out first, so overwriting them is fine).
unsafe extern "C" fn upcall(
    ctx: *mut c_void,
    req: *const u8,
    req_len: usize,
    answer_len: *mut usize,
) -> *const u8 {
    // SAFETY: ctx is the Executor whose `call` put it in the Host; that
    // call is still running (its entry called us), so it is alive, and it is only ever
    // used through shared references (its mutable state is in Cells and
    // RefCells, none borrowed while a body runs).
    let ex = unsafe { &*ctx.cast_const().cast::<Executor>() };
    // SAFETY: trusted-api passes a buffer of req_len bytes it owns.
    let req = unsafe { std::slice::from_raw_parts(req, req_len) };
    ex.ch.publish_reply(status::UPCALL, req);
    loop {
        let next = ex.ch.wait_request(UPCALL_WAIT);
        ex.affinity.follow(next.advice.cpu);
        match next.op {
            op::RESUME => {
                let answer = ex.ch.request_bytes(next.len);
                // SAFETY: answer_len points at the caller's usize.
                unsafe { *answer_len = answer.len() };
                return answer.as_ptr();
            }
            op::CALL if ex.sealed.get() => ex.call(next),
            // The backend abandoned the call (it never does that without
            // killing us first): nothing sensible can go on.
            _ => std::process::exit(EXIT_PROTOCOL),
        }
    }
}

/// Serve requests until killed.
pub fn serve(ch: Channel) -> ! {
    // The stack's bounds, measured here, near the top of the main thread's
    // stack, and now: getrlimit is not allowed after SEAL.
    let Ok(stack) = Stack::main_thread() else {
        std::process::exit(EXIT_RLIMITS);
    };
    let ex = Executor::new(ch, stack);
    ch.ready();
    loop {
        ex.serve_next();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plrust_ipc::channel::Outcome;
    use plrust_ipc::memfd;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Instant;

    use plrust_ipc::message::EntryFn;

    const RECURSE: u64 = 1;
    const DEEP: u64 = 2;
    const ASKS_UNKNOWN: u64 = 3;
    const UNKNOWN: u64 = 99;

    const POLICY: WaitPolicy = WaitPolicy {
        spin: Duration::from_micros(50),
        yield_for: Duration::ZERO,
        slice: Duration::from_millis(10),
    };

    fn channel() -> Channel {
        let fd = memfd::create(c"plrust-serve-test").unwrap();
        let ch = Channel::new(memfd::map(std::os::fd::AsRawFd::as_raw_fd(&fd)).unwrap());
        ch.reset();
        ch
    }

    /// An executor on a thread of `stack_size` bytes of stack, with these
    /// fake entries "loaded" and sealed (without the real seal: that would
    /// sandbox the test process), serving `requests` top-level requests.
    fn executor(
        ch: Channel,
        stack_size: usize,
        stack_left: Option<usize>,
        entries: &'static [(u64, EntryFn)],
        requests: usize,
    ) -> std::thread::JoinHandle<()> {
        std::thread::Builder::new()
            .stack_size(stack_size)
            .spawn(move || {
                let top = stack::here();
                let stack = match stack_left {
                    Some(left) => Stack::below(top, left),
                    None => Stack::below(top, stack_size),
                };
                let ex = Executor::new(ch, stack);
                for &(key, entry) in entries {
                    let file = std::fs::File::open("/dev/null").unwrap();
                    ex.functions.borrow_mut().insert(key, entry, file);
                }
                ex.sealed.set(true);
                ch.ready();
                for _ in 0..requests {
                    ex.serve_next();
                }
            })
            .unwrap()
    }

    fn wait(ch: &Channel) -> (u32, Vec<u8>) {
        let start = Instant::now();
        let out = ch
            .wait_reply(POLICY, || {
                if start.elapsed() > Duration::from_secs(60) {
                    Err(())
                } else {
                    Ok(())
                }
            })
            .expect("the executor did not answer");
        let Outcome::Reply { status, len } = out else {
            panic!("{out:?}");
        };
        let mut bytes = Vec::new();
        ch.copy_reply(len, &mut bytes);
        (status, bytes)
    }

    /// What the fake backend saw: every call's key, arguments, status and
    /// reply, innermost first.
    type Log = Vec<(u64, Vec<u8>, u32, Vec<u8>)>;

    /// The backend's side of one call, as handler/ serves it: wait for the
    /// reply, serving upcalls meanwhile.  A fake upcall is a key and
    /// arguments: the backend "runs SQL" that calls that function, which
    /// comes to the same executor as a nested CALL; its reply (status OK)
    /// or failure (prefixed with "FAILED:") is the upcall's answer.
    fn backend_call(ch: &Channel, key: u64, args: &[u8], log: &mut Log) -> (u32, Vec<u8>) {
        ch.publish_request(op::CALL, key, args);
        loop {
            let (status, bytes) = wait(ch);
            if status != status::UPCALL {
                log.push((key, args.to_vec(), status, bytes.clone()));
                return (status, bytes);
            }
            let (k, a) = bytes.split_at(8);
            let k = u64::from_le_bytes(k.try_into().unwrap());
            let (s, reply) = backend_call(ch, k, a, log);
            let answer = match s {
                status::OK => reply,
                status::FAILED => [&b"FAILED:"[..], &reply].concat(),
                other => panic!("status {other}"),
            };
            ch.publish_request(op::RESUME, 0, &answer);
        }
    }

    /// Ask the backend to call `key` with `args`; the answer.
    ///
    /// # Safety
    /// `host` is the Host the entry was given.
    unsafe fn ask(host: *const Host, key: u64, args: &[u8]) -> Vec<u8> {
        let req = [&key.to_le_bytes()[..], args].concat();
        let mut len = 0;
        // SAFETY: the executor's host for the call in progress (the
        // caller's promise); req and len are live.
        let answer = unsafe { ((*host).upcall)((*host).ctx, req.as_ptr(), req.len(), &mut len) };
        // SAFETY: the executor returns len readable bytes, valid until the
        // next upcall; they are copied at once.
        unsafe { std::slice::from_raw_parts(answer, len) }.to_vec()
    }

    /// Where each depth of RECURSE found the stack (by its argument; only
    /// `nested_calls_run_in_the_same_executor` calls it deep enough to run).
    static SP: [AtomicUsize; 8] = [const { AtomicUsize::new(0) }; 8];

    /// A body that calls itself through SQL: for argument `n`, it replies
    /// "R<n><", the answer of RECURSE(n - 1) while n > 0, then ">".  It
    /// checks that its arguments survived the nested calls, which have
    /// arguments of their own; like trusted-api's entries, it writes `out`
    /// only after its last upcall (nested calls write the same buffer).
    ///
    /// # Safety
    /// `out` is writable for `out_cap` bytes.
    unsafe fn recurse_body(
        host: *const Host,
        args: &[u8],
        out: *mut u8,
        out_cap: usize,
        key: u64,
    ) -> usize {
        let own = args.to_vec();
        let n = args[0];
        if key == RECURSE {
            if let Some(sp) = SP.get(usize::from(n)) {
                sp.store(stack::here(), Ordering::Relaxed);
            }
        }
        let mut reply = format!("R{n}<").into_bytes();
        if n > 0 {
            let mut next = own.clone();
            next[0] = n - 1;
            // SAFETY: host is this call's Host.
            let answer = unsafe { ask(host, key, &next) };
            if args != own {
                reply = b"CORRUPT".to_vec();
            }
            reply.extend_from_slice(&answer);
        }
        reply.push(b'>');
        // SAFETY: the caller's promise; no nested call runs any more.
        let out = unsafe { std::slice::from_raw_parts_mut(out, out_cap) };
        out[..reply.len()].copy_from_slice(&reply);
        reply.len()
    }

    /// # Safety
    /// The entry ABI: host valid, args readable, out writable, disjoint.
    unsafe extern "C" fn recurse(
        host: *const Host,
        args: *const u8,
        args_len: usize,
        out: *mut u8,
        out_cap: usize,
    ) -> usize {
        // SAFETY: the executor passes args_len readable bytes.
        let args = unsafe { std::slice::from_raw_parts(args, args_len) };
        // SAFETY: the executor passes out_cap writable bytes, not args.
        unsafe { recurse_body(host, args, out, out_cap, RECURSE) }
    }

    /// RECURSE with 96 KiB of stack of its own per level.
    ///
    /// # Safety
    /// As `recurse`.
    unsafe extern "C" fn deep(
        host: *const Host,
        args: *const u8,
        args_len: usize,
        out: *mut u8,
        out_cap: usize,
    ) -> usize {
        let mut pad = [0u8; 96 << 10];
        pad[0] = 1;
        std::hint::black_box(&mut pad);
        // SAFETY: the executor passes args_len readable bytes.
        let args = unsafe { std::slice::from_raw_parts(args, args_len) };
        // SAFETY: the executor passes out_cap writable bytes, not args.
        let n = unsafe { recurse_body(host, args, out, out_cap, DEEP) };
        std::hint::black_box(&pad);
        n
    }

    /// Asks for a function the executor does not have, then says what it got.
    ///
    /// # Safety
    /// As `recurse`.
    unsafe extern "C" fn asks_unknown(
        host: *const Host,
        _: *const u8,
        _: usize,
        out: *mut u8,
        out_cap: usize,
    ) -> usize {
        // SAFETY: host is this call's Host.
        let answer = unsafe { ask(host, UNKNOWN, b"x") };
        let reply = [&b"got:"[..], &answer].concat();
        // SAFETY: the executor passes out_cap writable bytes.
        let out = unsafe { std::slice::from_raw_parts_mut(out, out_cap) };
        out[..reply.len()].copy_from_slice(&reply);
        reply.len()
    }

    static ENTRIES: [(u64, EntryFn); 3] = [
        (RECURSE, recurse as EntryFn),
        (DEEP, deep as EntryFn),
        (ASKS_UNKNOWN, asks_unknown as EntryFn),
    ];

    fn started(ch: &Channel) {
        let out = ch.wait_ready(POLICY, || Ok::<(), ()>(())).unwrap();
        assert_eq!(out, Outcome::Reply { status: 0, len: 0 });
    }

    #[test]
    fn nested_calls_run_in_the_same_executor() {
        let ch = channel();
        let exec = executor(ch, 8 << 20, None, &ENTRIES, 3);
        started(&ch);
        let mut log = Log::new();
        // One nested call: CALL, UPCALL, nested CALL, its OK, RESUME, OK.
        assert_eq!(
            backend_call(&ch, RECURSE, &[1, 7, 7], &mut log),
            (status::OK, b"R1<R0<>>".to_vec())
        );
        assert_eq!(
            log,
            [
                (RECURSE, vec![0, 7, 7], status::OK, b"R0<>".to_vec()),
                (RECURSE, vec![1, 7, 7], status::OK, b"R1<R0<>>".to_vec()),
            ]
        );
        // Deeper, with large arguments (in the request area, not inline).
        let mut args = vec![7u8; 1000];
        args[0] = 5;
        assert_eq!(
            backend_call(&ch, RECURSE, &args, &mut log),
            (status::OK, b"R5<R4<R3<R2<R1<R0<>>>>>>".to_vec())
        );
        let sp: Vec<usize> = SP[..6].iter().map(|s| s.load(Ordering::Relaxed)).collect();
        let per_level: Vec<usize> = sp.windows(2).map(|w| w[1] - w[0]).collect();
        eprintln!("stack per nesting level: {per_level:?} bytes");
        assert!(
            per_level.iter().all(|&b| b > 0 && b < 32 << 10),
            "{per_level:?}"
        );
        // A nested call of a function this executor lacks fails, and the
        // outer call still gets its answer and goes on.
        log.clear();
        assert_eq!(
            backend_call(&ch, ASKS_UNKNOWN, b"", &mut log),
            (
                status::OK,
                b"got:FAILED:function is not loaded in this executor".to_vec()
            )
        );
        assert_eq!(log[0].2, status::FAILED);
        exec.join().unwrap();
    }

    fn stack_error(bytes: &[u8]) -> usize {
        let Ok(Reply::Error(e)) = wire::decode_reply(bytes) else {
            panic!("not an error reply: {bytes:?}");
        };
        assert_eq!(e.sqlstate, Some(*b"54001"));
        assert_eq!(e.message, "stack depth limit exceeded");
        assert_eq!(e.hint, Some("Reduce the depth of the recursion."));
        let detail = e.detail.unwrap();
        let kb = detail
            .strip_prefix("plrust calls nest too deeply for the executor's stack (")
            .and_then(|d| d.strip_suffix(" kB left)"))
            .unwrap_or_else(|| panic!("{detail}"));
        kb.parse().unwrap()
    }

    #[test]
    fn deep_recursion_stops_at_the_stack_guard() {
        // 1 MiB of stack, 96 KiB a level: without the guard the executor
        // overflows its stack (and the test process dies).
        let ch = channel();
        let exec = executor(ch, 1 << 20, None, &ENTRIES, 2);
        started(&ch);
        let mut log = Log::new();
        let (s, reply) = backend_call(&ch, DEEP, &[200], &mut log);
        assert_eq!(s, status::OK);
        // The innermost call did not run: it answered the stack error.
        let (key, args, s, refused) = &log[0];
        assert_eq!((*key, *s), (DEEP, status::OK));
        assert!(stack_error(refused) * 1024 < stack::MARGIN);
        let levels = log.len() - 1;
        assert_eq!(usize::from(args[0]), 200 - levels);
        assert!((4..10).contains(&levels), "{levels} levels ran");
        // Every level above it ran and returned its reply around it.
        let prefix: String = (0..levels).map(|i| format!("R{}<", 200 - i)).collect();
        let expected = [prefix.as_bytes(), refused, ">".repeat(levels).as_bytes()].concat();
        assert_eq!(reply, expected);
        // The executor is still serving.
        log.clear();
        assert_eq!(
            backend_call(&ch, DEEP, &[2], &mut log),
            (status::OK, b"R2<R1<R0<>>>".to_vec())
        );
        exec.join().unwrap();
    }

    #[test]
    fn a_top_level_call_without_stack_is_refused() {
        let ch = channel();
        let exec = executor(ch, 1 << 20, Some(stack::MARGIN / 2), &ENTRIES, 2);
        started(&ch);
        ch.publish_request(op::CALL, RECURSE, &[0]);
        let (s, reply) = wait(&ch);
        assert_eq!(s, status::OK);
        assert!(stack_error(&reply) <= stack::MARGIN / 2 / 1024);
        // Unknown functions are still a failure, not a stack error.
        ch.publish_request(op::CALL, UNKNOWN, &[0]);
        assert_eq!(
            wait(&ch),
            (
                status::FAILED,
                b"function is not loaded in this executor".to_vec()
            )
        );
        exec.join().unwrap();
    }
}
