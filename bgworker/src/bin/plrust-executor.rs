//! plrust-executor: started by a pool worker with its channel memfd at fd 3.
//! See bgworker/README.md for its life; exit codes tell the worker what
//! failed before any user code could run.

use plrust_bgworker::executor::{fds, landlock, loader, rlimits, seccomp, serve};
use plrust_bgworker::spawn::CHANNEL_FD;
use plrust_ipc::{memfd, Channel};

const EXIT_USAGE: i32 = 2;
const EXIT_FDS: i32 = 3;
const EXIT_CHANNEL: i32 = 4;
const EXIT_RLIMITS: i32 = 5;
const EXIT_PARENT: i32 = 6;
const EXIT_SANDBOX: i32 = 8;
const EXIT_KIT: i32 = 10;

fn arg(name: &str) -> Option<u64> {
    std::env::args().find_map(|a| a.strip_prefix(name)?.strip_prefix('=')?.parse().ok())
}

fn main() {
    let Some(parent) = arg("--parent") else {
        std::process::exit(EXIT_USAGE);
    };
    if fds::close_all_except(CHANNEL_FD).is_err() {
        std::process::exit(EXIT_FDS);
    }
    let Ok(mapping) = memfd::map(CHANNEL_FD) else {
        std::process::exit(EXIT_CHANNEL);
    };
    if rlimits::at_start().is_err() {
        std::process::exit(EXIT_RLIMITS);
    }
    if rlimits::die_with_parent(parent as i32).is_err() || rlimits::no_new_privs().is_err() {
        std::process::exit(EXIT_PARENT);
    }
    // The kit's shared library, which every compiled function links: the
    // only file this process opens, before Landlock makes that impossible.
    let kit_library = std::env::current_exe()
        .ok()
        .and_then(|exe| loader::kit_library(&exe));
    if kit_library.is_none_or(|lib| loader::load_kit(&lib).is_err()) {
        std::process::exit(EXIT_KIT);
    }
    if landlock::confine().is_err() || seccomp::install_loading().is_err() {
        std::process::exit(EXIT_SANDBOX);
    }
    serve::serve(Channel::new(mapping))
}
