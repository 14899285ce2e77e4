//! Compilation of plrust function bodies, independent of PostgreSQL: the
//! source check, code generation, the sandboxed rustc run and the mapping of
//! its diagnostics back to the body.  See README.md beside this file.

pub mod check;
pub mod codegen;
pub mod dependencies;
pub mod diagnostics;
pub mod landlock;
pub mod rustc;
