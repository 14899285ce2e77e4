//! The file-system box around rustc.
//!
//! The source check refuses `include_str!`, `#[path]` and friends, but it is
//! one layer: if it misses a way to make rustc read a file, rustc runs as the
//! `postgres` OS user and could read the data directory, the server's
//! configuration or any other tenant's build.  So the compile driver confines
//! itself, before it parses the body and before it execs rustc, with Landlock:
//!
//! - read and execute: the compiler kit (rustc, sysroot, our rlibs) and the
//!   system's `/usr` (the linker `cc`, `ld`, the C runtime objects and libc);
//! - read: the dynamic loader's cache and configuration in `/etc`;
//! - read and write: the build directory, which holds only this function's
//!   generated crate and output;
//! - nothing else: no data directory, no `/etc/passwd`, no `/proc/<pid>` of
//!   other processes, no `/tmp`; and, where the kernel supports it, no TCP and
//!   no signals or abstract sockets outside the box.
//!
//! Why Landlock and not a mount namespace: Landlock needs no privilege and no
//! user namespace (which distributions may disable), is inherited across
//! `execve` by rustc and the linker, cannot be undone by the confined process,
//! and states the allowed paths as a list one can read here.  A mount
//! namespace would need an unprivileged user namespace plus a rebuilt root.
//!
//! File-system rules are a hard requirement: if the kernel cannot enforce
//! them, compilation fails rather than running unconfined.  The network and
//! scope rules are best effort (newer kernels only).

use std::path::Path;

use landlock::{
    path_beneath_rules, Access, AccessFs, AccessNet, CompatLevel, Compatible, Ruleset, RulesetAttr,
    RulesetCreatedAttr, RulesetStatus, Scope, ABI,
};

/// The ABI whose file-system rights we ask for (all rights known to it are
/// handled, i.e. denied unless a rule grants them).
const FS_ABI: ABI = ABI::V3;

/// System paths the linker and the dynamic loader read.  Debian merges `/lib`
/// into `/usr/lib`; the others are listed for systems that do not.
const SYSTEM_READ_EXEC: &[&str] = &["/usr", "/lib", "/lib64", "/bin"];
const SYSTEM_READ: &[&str] = &["/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d"];

/// Confine this process and everything it execs to `kit` and the system
/// paths above (read, execute) and `build_dir` (read, write).
pub fn confine(kit: &Path, build_dir: &Path) -> Result<(), String> {
    let fs_all = AccessFs::from_all(FS_ABI);
    let read_exec = AccessFs::from_read(FS_ABI);
    let read = AccessFs::from_read(FS_ABI) & !AccessFs::Execute;

    let ruleset = Ruleset::default()
        .set_compatibility(CompatLevel::HardRequirement)
        .handle_access(fs_all)
        .map_err(|e| format!("Landlock file-system rules unavailable: {e}"))?
        .set_compatibility(CompatLevel::BestEffort)
        .handle_access(AccessNet::from_all(ABI::V4))
        .and_then(|r| r.scope(Scope::from_all(ABI::V6)))
        .map_err(|e| format!("Landlock ruleset: {e}"))?;
    let status = ruleset
        .create()
        .and_then(|r| r.add_rules(path_beneath_rules(SYSTEM_READ_EXEC, read_exec)))
        .and_then(|r| r.add_rules(path_beneath_rules(SYSTEM_READ, read)))
        .and_then(|r| r.add_rules(path_beneath_rules([kit], read_exec)))
        .and_then(|r| r.add_rules(path_beneath_rules([build_dir], fs_all)))
        .and_then(|r| r.restrict_self())
        .map_err(|e| format!("Landlock: {e}"))?;
    match status.ruleset {
        RulesetStatus::NotEnforced => Err("Landlock is not enforced by this kernel".into()),
        RulesetStatus::FullyEnforced | RulesetStatus::PartiallyEnforced => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Confining is irreversible, so the test does it in a child process:
    /// the child re-runs this test binary with an argument naming the test
    /// and a marker variable.
    #[test]
    fn confined_process_reads_only_what_is_listed() {
        if std::env::var_os("PLRUST_LANDLOCK_CHILD").is_some() {
            let dir = std::env::temp_dir().join(format!("plrust-ll-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let kit = Path::new("/usr/lib");
            confine(kit, &dir).unwrap();
            std::fs::write(dir.join("x"), "ok").unwrap();
            assert_eq!(std::fs::read_to_string(dir.join("x")).unwrap(), "ok");
            assert!(std::fs::read("/usr/lib/os-release").is_ok());
            let denied = std::fs::read("/etc/hostname").unwrap_err();
            assert_eq!(denied.raw_os_error(), Some(libc::EACCES));
            let denied = std::fs::write(std::env::temp_dir().join("plrust-ll-escape"), "x");
            assert_eq!(denied.unwrap_err().raw_os_error(), Some(libc::EACCES));
            return;
        }
        let me = std::env::current_exe().unwrap();
        let out = std::process::Command::new(me)
            .args([
                "landlock::tests::confined_process_reads_only_what_is_listed",
                "--exact",
                "--nocapture",
            ])
            .env("PLRUST_LANDLOCK_CHILD", "1")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{text}");
        assert!(text.contains("1 passed"), "{text}");
    }
}
