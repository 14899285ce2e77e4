//! The executor links libm whether or not it uses it.  User code reaches
//! libm through std (f64::sin, powf, ...) and crates like bigdecimal, and
//! its shared object names libm.so.6 as a dependency; an executor has no
//! file system access at all (Landlock), so dlopen can only find libm if
//! it is already loaded.
fn main() {
    println!("cargo:rustc-link-arg-bin=plrust-executor=-Wl,--no-as-needed");
    println!("cargo:rustc-link-arg-bin=plrust-executor=-lm");
    println!("cargo:rustc-link-arg-bin=plrust-executor=-Wl,--as-needed");
}
