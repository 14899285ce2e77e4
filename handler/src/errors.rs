//! Raising errors the way PostgreSQL users expect: SQLSTATE, message,
//! DETAIL and HINT.

use pgrx::pg_sys::panic::ErrorReport;
use pgrx::prelude::*;
use plrust_ipc::message::ErrorOrigin;

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
    /// Its LOCATION (null: none) and the objects it names.
    source: Source,
    objects: Objects,
    memory: pg_sys::MemoryContext,
}

/// LOCATION as errfinish() takes it: function, file (null for none), line.
#[derive(Clone, Copy)]
struct Source(*const std::ffi::c_char, *const std::ffi::c_char, i32);

/// An error's schema, table, column, data type and constraint names (null
/// for none), as PostgreSQL's diagnostic fields.
#[derive(Clone, Copy)]
struct Objects([*const std::ffi::c_char; 5]);

impl Objects {
    const NONE: Objects = Objects([std::ptr::null(); 5]);
    /// PG_DIAG_SCHEMA_NAME, _TABLE_NAME, _COLUMN_NAME, _DATATYPE_NAME,
    /// _CONSTRAINT_NAME (postgres_ext.h), in `ErrorOrigin::objects` order.
    const FIELDS: [u8; 5] = [b's', b't', b'c', b'd', b'n'];

    /// Palloc'd copies of `names` in `memory`.
    ///
    /// # Safety
    /// `memory` is a live memory context; on the backend's thread.
    unsafe fn copy(names: &[Option<String>; 5], memory: pg_sys::MemoryContext) -> Objects {
        let mut o = Objects::NONE;
        for (to, name) in o.0.iter_mut().zip(names) {
            // SAFETY: as the caller promises.
            *to = unsafe { copy_in(name.as_deref(), memory) };
        }
        o
    }

    /// Set them on the error being reported.
    ///
    /// # Safety
    /// Only from an error context callback, while the error is reported;
    /// the pointers are null or NUL-terminated.
    unsafe fn set(&self) {
        for (field, name) in Objects::FIELDS.iter().zip(self.0) {
            if !name.is_null() {
                // SAFETY: as the caller promises: the error being reported
                // is errordata's top entry, which err_generic_string fills.
                unsafe { err_generic_string(std::ffi::c_int::from(*field), name) };
            }
        }
    }
}

/// A palloc'd, NUL-terminated copy of `s` in `memory` (null for None; a
/// text with a NUL in it is cut there, as PostgreSQL's own strings are).
///
/// # Safety
/// `memory` is a live memory context; on the backend's thread.
unsafe fn copy_in(s: Option<&str>, memory: pg_sys::MemoryContext) -> *const std::ffi::c_char {
    let Some(s) = s else {
        return std::ptr::null();
    };
    let s = s.split('\0').next().unwrap_or_default();
    let c = std::ffi::CString::new(s).expect("cut at the first NUL");
    // SAFETY: as the caller promises.
    unsafe { pg_sys::MemoryContextStrdup(memory, c.as_ptr()).cast_const() }
}

extern "C-unwind" {
    // Left out of pgrx's bindings (they are elog.c's err*() functions,
    // which pgrx keeps to itself); errcontext() is
    // set_errcontext_domain() and errcontext_msg().
    fn errcontext_msg(fmt: *const std::ffi::c_char, ...) -> std::ffi::c_int;
    fn internalerrquery(query: *const std::ffi::c_char) -> std::ffi::c_int;
    fn internalerrposition(cursorpos: std::ffi::c_int) -> std::ffi::c_int;
    fn errposition(cursorpos: std::ffi::c_int) -> std::ffi::c_int;
    fn err_generic_string(field: std::ffi::c_int, str_: *const std::ffi::c_char)
        -> std::ffi::c_int;
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
        frame.objects.set();
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
                source: Source(std::ptr::null(), std::ptr::null(), 0),
                objects: Objects::NONE,
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
    /// with its own CONTEXT lines, a syntax error's query and position, its
    /// LOCATION and the objects it names.
    pub fn passing_on(self, origin: &ErrorOrigin) {
        // SAFETY: the frame lives as long as the call; the copies are made
        // in its memory context, which outlives the report, whereas the
        // Rust strings are dropped as the ERROR unwinds to the guard that
        // reports it.
        unsafe {
            let frame = &mut *self.0;
            let copy = |s: Option<&str>| copy_in(s, frame.memory);
            frame.passed_context = copy(origin.context.as_deref());
            frame.query = copy(origin.query.as_deref());
            frame.position = if frame.query.is_null() {
                0
            } else {
                i32::try_from(origin.position).unwrap_or(0)
            };
            if let Some((function, file, line)) = &origin.source {
                frame.source = Source(
                    copy(Some(function)),
                    copy(Some(file)),
                    i32::try_from(*line).unwrap_or(0),
                );
            }
            frame.objects = Objects::copy(&origin.objects, frame.memory);
        }
    }

    /// Raise the ERROR that ends the call, with LOCATION where it arose:
    /// a passed-on error's own (`int4div, int.c:869`, or a nested body's);
    /// else the body's line, as `f(integer), body.rs:3`, when the body's
    /// report said it; else plrust's call handler, the caller.
    #[track_caller]
    pub fn raise(
        self,
        code: PgSqlErrorCode,
        message: String,
        detail: Option<String>,
        hint: Option<String>,
    ) -> ! {
        // SAFETY: the frame lives as long as the call.
        let (signature, line, source) =
            unsafe { ((*self.0).signature, (*self.0).line, (*self.0).source) };
        let at = if !source.1.is_null() {
            source
        } else if line > 0 {
            Source(
                signature,
                c"body.rs".as_ptr(),
                i32::try_from(line).unwrap_or(0),
            )
        } else {
            raise(code, message, detail, hint)
        };
        raise_at(code, message, detail, hint, at)
    }
}

/// `raise` with LOCATION `at`.  pgrx's reports take theirs from a Rust
/// call site; ThrowErrorData takes any, and pgrx keeps it (with the
/// SQLSTATE, message, DETAIL and HINT) when the ERROR crosses back into
/// Rust and is raised again at the call handler's guard, where CONTEXT
/// is added.
fn raise_at(
    code: PgSqlErrorCode,
    message: String,
    detail: Option<String>,
    hint: Option<String>,
    at: Source,
) -> ! {
    // SAFETY: an ErrorData zeroed and filled in the current memory context,
    // its strings NUL-terminated.  ThrowErrorData copies the texts but not
    // `filename` and `funcname`, which errfinish keeps as pointers: `at`'s
    // strings outlive the report (a function's signature, a static, or the
    // frame's copies in the call's memory), and pgrx's guard copies them
    // into its own report at once.  ThrowErrorData does not return for an
    // ERROR: the guard turns the ERROR into a Rust panic.
    unsafe {
        let memory = pg_sys::CurrentMemoryContext;
        let data =
            pg_sys::palloc0(std::mem::size_of::<pg_sys::ErrorData>()) as *mut pg_sys::ErrorData;
        let copy = |s: Option<&str>| copy_in(s, memory).cast_mut();
        (*data).elevel = PgLogLevel::ERROR as std::ffi::c_int;
        (*data).sqlerrcode = code as std::ffi::c_int;
        (*data).message = copy(Some(&message));
        (*data).detail = copy(detail.as_deref());
        (*data).hint = copy(hint.as_deref());
        (*data).funcname = at.0;
        (*data).filename = at.1;
        (*data).lineno = at.2;
        (*data).assoc_context = memory;
        drop((message, detail, hint));
        pg_sys::ThrowErrorData(data);
    }
    unreachable!("ThrowErrorData returned from an ERROR")
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
    /// CONTEXT, internal query and position, LOCATION, object names.
    pub at: ErrorOrigin,
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
            let file = text(e.filename);
            *note.noted.borrow_mut() = Some(Origin {
                sqlerrcode: e.sqlerrcode,
                message: text(e.message),
                at: ErrorOrigin {
                    context: text(e.context),
                    position: if query.is_some() {
                        u32::try_from(e.internalpos).unwrap_or(0)
                    } else {
                        0
                    },
                    query,
                    source: file.map(|file| {
                        let function = text(e.funcname).unwrap_or_default();
                        (function, file, u32::try_from(e.lineno).unwrap_or(0))
                    }),
                    objects: [
                        text(e.schema_name),
                        text(e.table_name),
                        text(e.column_name),
                        text(e.datatype_name),
                        text(e.constraint_name),
                    ],
                },
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
        objects: Objects,
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
            a.objects.set();
        }
    }
    // SAFETY: palloc'd copies in the current memory context, filled before
    // they are linked, on the backend's only thread.
    unsafe {
        let memory = pg_sys::CurrentMemoryContext;
        let copy = |s: Option<&str>| copy_in(s, memory);
        let frame = pg_sys::palloc(std::mem::size_of::<Again>()) as *mut Again;
        frame.write(Again {
            callback: pg_sys::ErrorContextCallback {
                previous: pg_sys::error_context_stack,
                callback: Some(again),
                arg: frame.cast(),
            },
            context: copy(origin.at.context.as_deref()),
            query: copy(origin.at.query.as_deref()),
            position: i32::try_from(origin.at.position).unwrap_or(0),
            cursor: origin.cursor,
            objects: Objects::copy(&origin.at.objects, memory),
        });
        pg_sys::error_context_stack = std::ptr::addr_of_mut!((*frame).callback);
    }
}
