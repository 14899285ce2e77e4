//! plrust-compile KIT CRATE_NAME: the compile driver (see rustc.rs).
//!
//! Started by a backend in a private build directory (its cwd) holding
//! `body.rs` (the function body as written) and `lib.rs` (the crate generated
//! from it).  It confines itself with Landlock first, so that nothing after
//! that, neither the parser nor rustc nor the linker, can read outside the
//! kit, the system's `/usr` and this directory; then it checks the body and,
//! if the check passes, execs rustc.  The body is parsed here and not in the
//! backend because a pathological body (deep nesting) can exhaust any stack:
//! here that costs this process, not the cluster.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::exit;

use plrust_compiler::check::{self, Rejection};
use plrust_compiler::landlock;
use plrust_compiler::rustc::{self, Toolchain};

/// The parser's stack.  Deeply nested bodies are legal Rust up to a point;
/// this reaches far beyond what rustc accepts by default, and costs only
/// address space (bounded by RLIMIT_AS) until used.
const CHECK_STACK: usize = 64 << 20;

fn fail(code: i32, message: &str) -> ! {
    eprintln!("plrust-compile: {message}");
    exit(code)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, kit, crate_name] = &args[..] else {
        fail(rustc::EXIT_USAGE, "usage: plrust-compile KIT CRATE_NAME");
    };
    let dir = std::env::current_dir()
        .unwrap_or_else(|e| fail(rustc::EXIT_USAGE, &format!("no working directory: {e}")));
    let kit = PathBuf::from(kit);
    if let Err(e) = landlock::confine(&kit, &dir) {
        fail(rustc::EXIT_SANDBOX, &e);
    }

    let body = std::fs::read_to_string(dir.join(rustc::BODY_FILE))
        .unwrap_or_else(|e| fail(rustc::EXIT_USAGE, &format!("reading the body: {e}")));
    let checker = std::thread::Builder::new()
        .stack_size(CHECK_STACK)
        .spawn(move || check::check_body(&body))
        .unwrap_or_else(|e| {
            fail(
                rustc::EXIT_RESOURCE,
                &format!("no stack for the check: {e}"),
            )
        });
    let checked = checker
        .join()
        .unwrap_or_else(|_| fail(rustc::EXIT_USAGE, "the source check panicked"));
    if let Err(rejection) = checked {
        reject(&dir, &rejection);
    }

    let toolchain = Toolchain::in_kit(Path::new(&kit));
    let e = rustc::rustc_command(&toolchain, &dir, crate_name).exec();
    fail(
        rustc::EXIT_USAGE,
        &format!("exec {}: {e}", toolchain.rustc.display()),
    )
}

fn reject(dir: &Path, rejection: &Rejection) -> ! {
    let json = serde_json::to_string(rejection).expect("a Rejection serializes");
    if let Err(e) = std::fs::write(dir.join(rustc::REJECTION_FILE), json) {
        fail(rustc::EXIT_USAGE, &format!("writing the rejection: {e}"));
    }
    exit(rustc::EXIT_REJECTED)
}
