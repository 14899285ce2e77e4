//! The executor's file-system box, from its start: no path can be opened
//! (and, on kernels that support it, no TCP connection made and no signal
//! sent outside the box: a second fence behind seccomp, which forbids both).
//!
//! seccomp forbids opening files only after SEAL, because loading needs
//! `openat` (dlopen opens each function's memfd through /proc/self/fd).
//! Landlock closes that window: with every file-system right handled and no
//! rule granting any, no path resolves to something openable, except files
//! that live on no mounted file system, like those memfds, which Landlock
//! leaves alone by design.  So even code that ran while loading could not
//! read a file.  File-system rules are required; network and scope rules
//! are best effort (newer kernels).

use landlock::{
    Access, AccessFs, AccessNet, CompatLevel, Compatible, Ruleset, RulesetAttr, RulesetStatus,
    Scope, ABI,
};

pub fn confine() -> Result<(), String> {
    let status = Ruleset::default()
        .set_compatibility(CompatLevel::HardRequirement)
        .handle_access(AccessFs::from_all(ABI::V3))
        .and_then(|r| {
            r.set_compatibility(CompatLevel::BestEffort)
                .handle_access(AccessNet::from_all(ABI::V4))
        })
        .and_then(|r| r.scope(Scope::from_all(ABI::V6)))
        .and_then(|r| r.create())
        .and_then(|r| r.restrict_self())
        .map_err(|e| format!("Landlock: {e}"))?;
    match status.ruleset {
        RulesetStatus::NotEnforced => Err("Landlock is not enforced by this kernel".into()),
        _ => Ok(()),
    }
}
