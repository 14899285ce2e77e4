//! Raising errors the way PostgreSQL users expect: SQLSTATE, message,
//! DETAIL and HINT.

use pgrx::pg_sys::panic::ErrorReport;
use pgrx::prelude::*;

/// LOCATION (VERBOSITY verbose) is the caller's file and line.
#[track_caller]
pub fn raise(
    code: PgSqlErrorCode,
    message: String,
    detail: Option<String>,
    hint: Option<String>,
) -> ! {
    let mut report = ErrorReport::new(code, message, "plrust");
    if let Some(d) = detail {
        report = report.set_detail(d);
    }
    if let Some(h) = hint {
        report = report.set_hint(h);
    }
    report.report(PgLogLevel::ERROR);
    unreachable!("ERROR returned")
}

/// Keep Rust backtraces out of error reports.
///
/// pgrx's panic hook captures a backtrace at every ERROR that crosses Rust
/// code, and when `RUST_BACKTRACE` (or `RUST_LIB_BACKTRACE`) is in the
/// server's environment it appends it to the DETAIL: the server's
/// internals in a tenant's client, and, through calls nested in SPI, a
/// DETAIL that grows by a backtrace per level (144 KiB at 270 levels) and
/// takes a capture per level.  std reads `RUST_LIB_BACKTRACE` before
/// `RUST_BACKTRACE`, once per process, when it first captures one; set
/// here, in `_PG_init`, before any capture and while the process has one
/// thread, every backend forked later inherits it.  Panics still print
/// their backtraces where `RUST_BACKTRACE` says (the panic message, not a
/// captured `Backtrace`).
pub fn no_backtraces_in_reports() {
    std::env::set_var("RUST_LIB_BACKTRACE", "0");
}

/// CONTEXT for every error raised while a plrust function runs, one line
/// per call (nested calls through SPI, triggers): `plrust function
/// f(integer) line 3`, as PL/pgSQL says `PL/pgSQL function f(integer) line
/// 3 at RAISE`.  The line is the body's, where the executor knew it (a
/// panic's location, a message macro's call site; errors.rs in
/// trusted-api): it is set just before the message it belongs to is
/// raised or emitted.  An SPI error the body passed on (`?`) brings back
/// how it was reported where it arose (spi.rs): its CONTEXT lines come
/// before this call's, and a syntax error's QUERY and position are the
/// internal query's, as when PL/pgSQL's own statements fail.
///
/// An ERROR raised in Rust unwinds to the call handler's `pg_guard`,
/// which reports it there: the callback must outlive the call's frames, so
/// it lives in the call's memory context, and it stays on
/// `error_context_stack` when the call fails (whoever catches the error
/// restores the stack, as PG_TRY does).  A call that returns pops it.
pub struct CallContext {
    frame: *mut Frame,
}

/// What the callback reads: palloc'd, in the call's memory context.
#[repr(C)]
struct Frame {
    callback: pg_sys::ErrorContextCallback,
    /// `f(integer)`: lives as long as the function's definition
    /// (function.rs: Function::context).
    signature: *const std::ffi::c_char,
    /// The body's line of the message being reported; 0 for none.
    line: u32,
    /// The passed-on SPI error's CONTEXT lines, query and position (null
    /// and 0 for none), palloc'd in `memory`.
    passed_context: *const std::ffi::c_char,
    query: *const std::ffi::c_char,
    position: i32,
    memory: pg_sys::MemoryContext,
}

extern "C-unwind" {
    // Left out of pgrx's bindings (they are elog.c's err*() functions,
    // which pgrx keeps to itself); errcontext() is
    // set_errcontext_domain() and errcontext_msg().
    fn errcontext_msg(fmt: *const std::ffi::c_char, ...) -> std::ffi::c_int;
    fn internalerrquery(query: *const std::ffi::c_char) -> std::ffi::c_int;
    fn internalerrposition(cursorpos: std::ffi::c_int) -> std::ffi::c_int;
    fn errposition(cursorpos: std::ffi::c_int) -> std::ffi::c_int;
}

/// The callback; `arg` is the call's Frame.
unsafe extern "C-unwind" fn call_context(arg: *mut std::ffi::c_void) {
    // SAFETY: PostgreSQL calls this while an error is being reported, in
    // the process's one thread; `arg` is the Frame pushed below, alive
    // until the report is done (see CallContext), and its strings are
    // NUL-terminated.
    unsafe {
        let frame = &*(arg as *const Frame);
        pg_sys::set_errcontext_domain(std::ptr::null());
        if !frame.passed_context.is_null() {
            errcontext_msg(c"%s".as_ptr(), frame.passed_context);
        }
        if !frame.query.is_null() {
            internalerrquery(frame.query);
            internalerrposition(frame.position);
        }
        if frame.line > 0 {
            errcontext_msg(
                c"plrust function %s line %u".as_ptr(),
                frame.signature,
                frame.line as std::ffi::c_uint,
            );
        } else {
            errcontext_msg(c"plrust function %s".as_ptr(), frame.signature);
        }
    }
}

impl CallContext {
    /// Push the context line for a call of `signature`.
    pub fn push(signature: &'static std::ffi::CStr) -> CallContext {
        // SAFETY: palloc in the current (call's) memory context, which
        // lives until the error, if any, has been reported; the struct is
        // filled before it is linked, on the backend's only thread.
        unsafe {
            let frame = pg_sys::palloc(std::mem::size_of::<Frame>()) as *mut Frame;
            frame.write(Frame {
                callback: pg_sys::ErrorContextCallback {
                    previous: pg_sys::error_context_stack,
                    callback: Some(call_context),
                    arg: frame.cast(),
                },
                signature: signature.as_ptr(),
                line: 0,
                passed_context: std::ptr::null(),
                query: std::ptr::null(),
                position: 0,
                memory: pg_sys::CurrentMemoryContext,
            });
            pg_sys::error_context_stack = std::ptr::addr_of_mut!((*frame).callback);
            CallContext { frame }
        }
    }

    /// What the next message or error reports about where it came from.
    pub fn line(&self) -> ContextLine {
        ContextLine(self.frame)
    }
}

/// A handle on a call's CONTEXT line, for the upcalls that emit messages
/// and for the error that ends the call.
#[derive(Clone, Copy)]
pub struct ContextLine(*mut Frame);

impl ContextLine {
    /// The body's line of what is reported next (0: none).
    pub fn at(self, line: u32) {
        // SAFETY: the frame lives as long as the call (CallContext).
        unsafe { (*self.0).line = line };
    }

    /// The error about to be raised is an SPI error passed on: report it
    /// with its own CONTEXT lines, and a syntax error's query and position.
    pub fn passing_on(self, context: Option<&str>, query: Option<&str>, position: u32) {
        // SAFETY: the frame lives as long as the call; the copies are made
        // in its memory context, which outlives the report, whereas the
        // Rust strings are dropped as the ERROR unwinds to the guard that
        // reports it.
        unsafe {
            let frame = &mut *self.0;
            let copy = |s: Option<&str>| match s.and_then(|s| std::ffi::CString::new(s).ok()) {
                Some(c) => pg_sys::MemoryContextStrdup(frame.memory, c.as_ptr()).cast_const(),
                None => std::ptr::null(),
            };
            frame.passed_context = copy(context);
            frame.query = copy(query);
            frame.position = if frame.query.is_null() {
                0
            } else {
                i32::try_from(position).unwrap_or(0)
            };
        }
    }
}

impl Drop for CallContext {
    /// A call that returns (or whose error Rust code caught) pops its
    /// line; a call unwinding with an ERROR leaves it for the report.
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        // SAFETY: `frame` is the entry this value pushed, still valid;
        // restored only if it is the top, as any nested entry popped
        // itself or was dropped by whoever caught its error.
        unsafe {
            let callback = std::ptr::addr_of_mut!((*self.frame).callback);
            if pg_sys::error_context_stack == callback {
                pg_sys::error_context_stack = (*callback).previous;
            }
        }
    }
}

/// Where the last ERROR reported inside an SPI query arose: its CONTEXT
/// lines from what ran inside the query (nested plrust calls, `SQL
/// statement "..."`), and a syntax error's query and position, which
/// SPI's own callback turns into an internal query.  pgrx's caught error
/// keeps neither, so they are noted while the error is being reported, by
/// a context callback that `noting_origins` pushes under everything the
/// query pushes: it runs after their lines are written, and before the
/// caller's own (which the body's error will add again when it is raised
/// in turn).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    sqlerrcode: i32,
    message: Option<String>,
    pub context: Option<String>,
    pub query: Option<String>,
    pub position: u32,
    /// The position in the statement itself (a syntax error in a
    /// top-level statement), 0 for none.
    cursor: i32,
}

/// The callback's state: where a noted origin goes, and the memory its
/// copy of the error is made in (the caller's: not ErrorContext, which
/// CopyErrorData may not copy into).
pub struct OriginNote {
    /// Linked into error_context_stack by address, so in a cell: the
    /// note is shared by the try and the catch of a subtransaction.
    callback: std::cell::UnsafeCell<pg_sys::ErrorContextCallback>,
    memory: pg_sys::MemoryContext,
    noted: std::cell::RefCell<Option<Origin>>,
}

unsafe extern "C-unwind" fn note_origin(arg: *mut std::ffi::c_void) {
    // SAFETY: called while an error or message is being reported, on the
    // backend's one thread; `arg` is the OriginNote pushed by
    // noting_origins, alive while it is on the stack.  CopyErrorData copies
    // the report in progress (errordata's top entry) into the note's
    // memory, and the copy is freed here.
    unsafe {
        let note = &*(arg as *const OriginNote);
        let previous = pg_sys::MemoryContextSwitchTo(note.memory);
        let data = pg_sys::CopyErrorData();
        pg_sys::MemoryContextSwitchTo(previous);
        let e = &*data;
        if e.elevel >= PgLogLevel::ERROR as i32 {
            let text = |p: *const std::ffi::c_char| {
                (!p.is_null()).then(|| std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned())
            };
            let query = text(e.internalquery);
            *note.noted.borrow_mut() = Some(Origin {
                sqlerrcode: e.sqlerrcode,
                message: text(e.message),
                context: text(e.context),
                position: if query.is_some() {
                    u32::try_from(e.internalpos).unwrap_or(0)
                } else {
                    0
                },
                query,
                cursor: e.cursorpos,
            });
        }
        pg_sys::FreeErrorData(data);
    }
}

impl OriginNote {
    pub fn new() -> OriginNote {
        OriginNote {
            callback: std::cell::UnsafeCell::new(pg_sys::ErrorContextCallback {
                previous: std::ptr::null_mut(),
                callback: Some(note_origin),
                arg: std::ptr::null_mut(),
            }),
            // SAFETY: a global, read on the backend's only thread.
            memory: unsafe { pg_sys::CurrentMemoryContext },
            noted: std::cell::RefCell::new(None),
        }
    }

    /// Run `f` with this note on `error_context_stack`.  The note must
    /// stay where it is (it is linked by address) until `f` is done, which
    /// the borrow ensures; on an ERROR, the stack is put back by whoever
    /// catches it (PgTryBuilder, as PG_TRY), and by `take` too.
    pub fn around<R>(&self, f: impl FnOnce() -> R) -> R {
        // SAFETY: links this note, filled in, at the top of the stack on
        // the backend's only thread; unlinked below when `f` returns.  No
        // reference into the cell is held: only the callback reads it,
        // through the stack.
        unsafe {
            let callback = self.callback.get();
            (*callback).previous = pg_sys::error_context_stack;
            (*callback).arg = std::ptr::from_ref(self).cast_mut().cast();
            pg_sys::error_context_stack = callback;
        }
        let r = f();
        self.unlink();
        r
    }

    fn unlink(&self) {
        // SAFETY: as in around(): the stack goes back to what it was under
        // this note, if the note is still on it.
        unsafe {
            let callback = self.callback.get();
            if pg_sys::error_context_stack == callback {
                pg_sys::error_context_stack = (*callback).previous;
            }
        }
    }

    /// The origin of the caught error `code`/`message`, if the note saw
    /// it reported (an error Rust code raised inside never was; an ERROR
    /// caught inside the query was, but is not this one).  Called where
    /// the error is caught: the stack goes back to what it was under the
    /// note, as PG_CATCH restores it; entries pushed inside and left for
    /// the report (CallContext, compilation_context) may be in memory the
    /// catcher frees.
    pub fn take(&self, code: PgSqlErrorCode, message: &str) -> Option<Origin> {
        // SAFETY: the note's `previous` is the stack as it was when `f`
        // began, still valid (it belongs to callers' frames).
        unsafe { pg_sys::error_context_stack = (*self.callback.get()).previous };
        self.noted
            .take()
            .filter(|o| o.sqlerrcode == code as i32 && o.message.as_deref() == Some(message))
    }
}

/// CONTEXT for the ERROR a failed compile is about to raise, as PL/pgSQL
/// says `compilation of PL/pgSQL function "f" near line 3`.  Pushed just
/// before the raise and never popped: the ERROR's catcher restores the
/// stack (PG_TRY, PgTryBuilder), and the text is palloc'd in the current
/// memory context, which outlives the report.
pub fn compilation_context(name: &str, line: Option<usize>) {
    let text = match line {
        Some(l) => format!("compilation of plrust function \"{name}\" near line {l}"),
        None => format!("compilation of plrust function \"{name}\""),
    };
    let text = std::ffi::CString::new(text.replace('\0', " ")).expect("NULs replaced");
    unsafe extern "C-unwind" fn compilation(arg: *mut std::ffi::c_void) {
        // SAFETY: called while the error is reported, on the backend's one
        // thread; `arg` is the NUL-terminated text pushed below.
        unsafe {
            pg_sys::set_errcontext_domain(std::ptr::null());
            errcontext_msg(c"%s".as_ptr(), arg as *const std::ffi::c_char);
        }
    }
    // SAFETY: palloc'd copies in the current memory context (see above),
    // filled before they are linked, on the backend's only thread.
    unsafe {
        let arg = pg_sys::pstrdup(text.as_ptr());
        let callback = pg_sys::palloc(std::mem::size_of::<pg_sys::ErrorContextCallback>())
            as *mut pg_sys::ErrorContextCallback;
        callback.write(pg_sys::ErrorContextCallback {
            previous: pg_sys::error_context_stack,
            callback: Some(compilation),
            arg: arg.cast(),
        });
        pg_sys::error_context_stack = callback;
    }
}

/// Before a caught PostgreSQL error is raised again: report it with the
/// CONTEXT lines, internal query and positions it had (`origin`, noted as
/// it was first reported), which pgrx's caught error does not keep.
/// Pushed just before the raise and never popped, like
/// compilation_context; the copies are palloc'd in the current memory
/// context.
pub fn report_again_with(origin: &Origin) {
    #[repr(C)]
    struct Again {
        callback: pg_sys::ErrorContextCallback,
        context: *const std::ffi::c_char,
        query: *const std::ffi::c_char,
        position: i32,
        cursor: i32,
    }
    unsafe extern "C-unwind" fn again(arg: *mut std::ffi::c_void) {
        // SAFETY: called while the error is reported, on the backend's one
        // thread; `arg` is the Again pushed below, NUL-terminated strings
        // or null.
        unsafe {
            let a = &*(arg as *const Again);
            if !a.context.is_null() {
                pg_sys::set_errcontext_domain(std::ptr::null());
                errcontext_msg(c"%s".as_ptr(), a.context);
            }
            if !a.query.is_null() {
                internalerrquery(a.query);
                internalerrposition(a.position);
            }
            if a.cursor > 0 {
                errposition(a.cursor);
            }
        }
    }
    // SAFETY: palloc'd copies in the current memory context, filled before
    // they are linked, on the backend's only thread.
    unsafe {
        let copy = |s: Option<&str>| match s.and_then(|s| std::ffi::CString::new(s).ok()) {
            Some(c) => pg_sys::pstrdup(c.as_ptr()).cast_const(),
            None => std::ptr::null(),
        };
        let frame = pg_sys::palloc(std::mem::size_of::<Again>()) as *mut Again;
        frame.write(Again {
            callback: pg_sys::ErrorContextCallback {
                previous: pg_sys::error_context_stack,
                callback: Some(again),
                arg: frame.cast(),
            },
            context: copy(origin.context.as_deref()),
            query: copy(origin.query.as_deref()),
            position: i32::try_from(origin.position).unwrap_or(0),
            cursor: origin.cursor,
        });
        pg_sys::error_context_stack = std::ptr::addr_of_mut!((*frame).callback);
    }
}
