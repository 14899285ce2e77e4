//! The kit's shared library is named by its content.
//!
//! Compiled functions name this library (its DT_SONAME) as a dependency,
//! and the executor loads it before it loads them, so the dynamic loader
//! matches that name against the loaded library instead of opening a file
//! (the executor cannot open files).  The name is written here as a
//! placeholder of fixed length; scripts/install-kit.py replaces the zeros
//! with the start of the library's SHA-256.  So code linked against one
//! build of the library never loads next to another build: its dependency
//! is not found, and dlopen fails, rather than binding symbols of the same
//! name with another layout.
///
/// Cargo has no link-arg directive for `dylib` targets alone, so the unit
/// tests' executable gets the soname too, which is harmless.
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rustc-link-arg=-Wl,-soname,libplrust_api-0000000000000000.so");
}
