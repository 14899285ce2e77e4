//! plrust-compile KIT CRATE_NAME: the compile driver (see rustc.rs).
//! plrust-compile KIT --resolve-only: only the resolution of the body's
//! `[dependencies]`, for a definition whose code exists (rustc.rs: resolve).
//!
//! Started by a backend in a private build directory (its cwd) holding
//! `body.rs` (the function body as written) and `lib.rs` (the crate generated
//! from it).  It confines itself with Landlock first, so that nothing after
//! that, neither the parser nor rustc nor the linker, can read outside the
//! kit, the system's `/usr` and this directory; then it checks the body and,
//! if the check passes, resolves the body's `[dependencies]` (if it has
//! any: `dependencies.toml`, with the allow-list the backend copied beside
//! it) against the kit's prepared crates and execs rustc.  The body and its
//! section are parsed here and not in the backend because a pathological
//! body (deep nesting) can exhaust any stack: here that costs this process,
//! not the cluster.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::exit;

use plrust_compiler::check::{self, Rejection};
use plrust_compiler::dependencies::{self, AllowList, Manifest, Refusal, Resolved};
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
    let section = std::fs::read_to_string(dir.join(dependencies::SECTION_FILE)).ok();
    let allow_list = dir.join(dependencies::ALLOW_LIST_FILE);
    let resolve_only = crate_name == rustc::RESOLVE_ONLY;
    let kit_for_check = kit.clone();
    let checker = std::thread::Builder::new()
        .stack_size(CHECK_STACK)
        .spawn(move || {
            if !resolve_only {
                check::check_body(&body)?;
            }
            Ok(section.map(|s| resolve(&kit_for_check, &s, &allow_list)))
        })
        .unwrap_or_else(|e| {
            fail(
                rustc::EXIT_RESOURCE,
                &format!("no stack for the check: {e}"),
            )
        });
    let checked = checker
        .join()
        .unwrap_or_else(|_| fail(rustc::EXIT_USAGE, "the source check panicked"));
    let resolved = match checked {
        Err(rejection) => reject(&dir, &rejection),
        Ok(None) => Vec::new(),
        Ok(Some(Err(refusal))) => refuse(&dir, &refusal),
        Ok(Some(Ok(resolved))) => {
            let json = serde_json::to_string(&resolved).expect("a resolution serializes");
            let written =
                std::fs::write(dir.join(dependencies::RESOLVED_FILE), json).and_then(|_| {
                    std::fs::write(
                        dir.join(dependencies::IMPORTS_FILE),
                        dependencies::imports(&resolved),
                    )
                });
            if let Err(e) = written {
                fail(rustc::EXIT_USAGE, &format!("writing the resolution: {e}"));
            }
            resolved
        }
    };

    if resolve_only {
        exit(0);
    }
    let toolchain = Toolchain::in_kit(Path::new(&kit));
    let e = rustc::rustc_command(&toolchain, &dir, crate_name, &resolved).exec();
    fail(
        rustc::EXIT_USAGE,
        &format!("exec {}: {e}", toolchain.rustc.display()),
    )
}

/// The body's section against the allow-list and the kit's manifest (none
/// when no crate was ever prepared: then every allowed crate is "not
/// prepared").
fn resolve(kit: &Path, section: &str, allow_list: &Path) -> Result<Vec<Resolved>, Refusal> {
    let broken = |what: &str, reason: String| Refusal::Broken {
        what: what.into(),
        reason,
    };
    let requests = dependencies::parse_section(section)?;
    let allow = std::fs::read_to_string(allow_list)
        .map_err(|e| e.to_string())
        .and_then(|t| AllowList::parse(&t))
        .map_err(|e| broken("the allow-list (plrust.allowed_dependencies)", e))?;
    let manifest: Manifest = match std::fs::read_to_string(kit.join(dependencies::MANIFEST_FILE)) {
        Ok(text) => serde_json::from_str(&text)
            .map_err(|e| broken("the kit's manifest of prepared crates", e.to_string()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Manifest::default(),
        Err(e) => {
            return Err(broken(
                "the kit's manifest of prepared crates",
                e.to_string(),
            ))
        }
    };
    let resolved = dependencies::resolve(&requests, &allow, &manifest)?;
    let facade = dependencies::facade_digest(kit)
        .map_err(|e| broken("the kit's std facade", e.to_string()))?;
    if !resolved.is_empty() && manifest.facade != facade {
        return Err(Refusal::OtherKit);
    }
    Ok(resolved)
}

fn refuse(dir: &Path, refusal: &Refusal) -> ! {
    let json = serde_json::to_string(refusal).expect("a Refusal serializes");
    if let Err(e) = std::fs::write(dir.join(dependencies::REFUSAL_FILE), json) {
        fail(rustc::EXIT_USAGE, &format!("writing the refusal: {e}"));
    }
    exit(rustc::EXIT_REFUSED)
}

fn reject(dir: &Path, rejection: &Rejection) -> ! {
    let json = serde_json::to_string(rejection).expect("a Rejection serializes");
    if let Err(e) = std::fs::write(dir.join(rustc::REJECTION_FILE), json) {
        fail(rustc::EXIT_USAGE, &format!("writing the rejection: {e}"));
    }
    exit(rustc::EXIT_REJECTED)
}
