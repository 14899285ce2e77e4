#!/usr/bin/env python3
"""Lay out plrust's compiler kit under KIT (default: $(pg_config --pkglibdir)/plrust).

  KIT/plrust-executor                the sandboxed executor binary
  KIT/toolchain/bin/rustc            rustc, its librustc_driver and libLLVM
  KIT/toolchain/lib/rustlib/<t>/lib  the real target libraries (std & co)
  KIT/sysroot/lib/rustlib/<t>/lib    core, alloc and what they need, and the
                                     postgrestd facade as `std`: the real
                                     std cannot be named
  KIT/deps/                          the rlibs of plrust-api's deps (rustc
                                     reads their metadata)
  KIT/deps/libplrust_api.so          plrust-api as a Rust dylib with std and
                                     its deps inside: compiled functions link
                                     it, the executor loads it once

The server runs as the `postgres` OS user, which cannot enter /root where
rustup keeps the toolchain, so the toolchain is hard-linked (or copied, across
file systems) to where `postgres` can read it.  Files are replaced by
rename, never rewritten in place, so a running rustc or executor is safe.

Input: the JSON messages of `cargo build --release --message-format=json`
on stdin (to find plrust-api's dylib, the facade and the exact rlibs they
were built from).
"""
import hashlib, json, os, shutil, subprocess, sys

TARGET = "x86_64-unknown-linux-gnu"
SYSROOT_CRATES = ("core", "alloc", "compiler_builtins", "rustc_std_workspace_core", "panic_unwind")


def link_or_copy(src, dst):
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    tmp = dst + ".tmp-install"
    if os.path.lexists(tmp):
        os.unlink(tmp)
    try:
        os.link(src, tmp)
    except OSError:
        shutil.copy2(src, tmp)
    os.chmod(tmp, 0o755 if os.access(src, os.X_OK) else 0o644)
    os.replace(tmp, dst)


def same_file(a, b):
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def install(src, dst):
    if not same_file(src, dst):
        link_or_copy(src, dst)


# plrust-api's dylib: its file name in the kit (rustc.rs and the executor
# know it), and the name it gives itself, as linked (trusted-api/build.rs).
API_DYLIB = "libplrust_api.so"
SONAME_PLACEHOLDER = b"libplrust_api-0000000000000000.so"


def named_by_content(path):
    """A copy of plrust-api's dylib, next to it, whose DT_SONAME names its
    content: the zeros of the placeholder become the start of the file's
    SHA-256 (same length, so nothing else in the file moves).  Compiled
    functions record that name as a dependency, so they load only next to
    this very build of the library.  The copy is rewritten only when it
    changes, so every major's kit hard-links the same file."""
    data = open(path, "rb").read()
    if data.count(SONAME_PLACEHOLDER) != 1:
        sys.exit(f"install-kit: {path} does not name itself {SONAME_PLACEHOLDER.decode()} exactly once")
    digest = hashlib.sha256(data).hexdigest()[:16].encode()
    named = data.replace(SONAME_PLACEHOLDER, b"libplrust_api-" + digest + b".so")
    out = os.path.join(os.path.dirname(path), "kit-" + API_DYLIB)
    try:
        if open(out, "rb").read() == named:
            return out
    except OSError:
        pass
    with open(out + ".tmp-install", "wb") as f:
        f.write(named)
    os.chmod(out + ".tmp-install", 0o755)
    os.replace(out + ".tmp-install", out)
    return out


def main():
    kit = sys.argv[1]
    real_sysroot = subprocess.check_output(["rustc", "--print", "sysroot"], text=True).strip()
    real_sysroot = os.path.realpath(real_sysroot)

    # The toolchain: rustc and the shared libraries it loads.
    tc = os.path.join(kit, "toolchain")
    install(os.path.join(real_sysroot, "bin", "rustc"), os.path.join(tc, "bin", "rustc"))
    libdir = os.path.join(real_sysroot, "lib")
    for name in os.listdir(libdir):
        p = os.path.join(libdir, name)
        if os.path.isfile(p) and (name.startswith("librustc_driver") or name.startswith("libLLVM")):
            install(p, os.path.join(tc, "lib", name))
    tlib = os.path.join(libdir, "rustlib", TARGET, "lib")
    kit_tlib = os.path.join(tc, "lib", "rustlib", TARGET, "lib")
    for name in os.listdir(tlib):
        if name.endswith(".rlib") or name.endswith(".rmeta"):
            install(os.path.join(tlib, name), os.path.join(kit_tlib, name))
    # Not std's own dylib (libstd-*.so): functions get std from plrust-api's
    # dylib, which has it inside, and rustc refuses to link a crate graph
    # where std could come from two places ("std only shows up once").
    for name in os.listdir(kit_tlib):
        if name.endswith(".so"):
            os.unlink(os.path.join(kit_tlib, name))

    # rustc links with its own rust-lld (through gcc-ld/ld.lld) by default.
    tbin = os.path.join(libdir, "rustlib", TARGET, "bin")
    for dirpath, _, files in os.walk(tbin):
        for name in files:
            if name in ("rust-lld", "ld.lld", "ld64.lld", "lld-link", "wasm-ld"):
                p = os.path.join(dirpath, name)
                install(p, os.path.join(tc, "lib", "rustlib", TARGET, os.path.relpath(p, os.path.join(libdir, "rustlib", TARGET))))

    # The stripped sysroot.
    sr = os.path.join(kit, "sysroot", "lib", "rustlib", TARGET, "lib")
    os.makedirs(sr, exist_ok=True)
    wanted = set()
    for name in os.listdir(tlib):
        crate = name[3:].rsplit("-", 1)[0] if name.startswith("lib") else None
        if crate in SYSROOT_CRATES and (name.endswith(".rlib") or name.endswith(".rmeta")):
            wanted.add(name)
            install(os.path.join(kit_tlib, name), os.path.join(sr, name))

    # The facade, plrust-api and every rlib they were built from.
    deps = os.path.join(kit, "deps")
    os.makedirs(deps, exist_ok=True)
    artifacts = {}
    executor = None
    api_dylib = None
    for line in sys.stdin:
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if msg.get("reason") != "compiler-artifact":
            continue
        name = msg["target"]["name"]
        for f in msg.get("filenames", []):
            # rlibs, and proc-macro .so files (bincode's derive): rustc
            # loads the latter to read the crate graph.
            if f.endswith(".rlib") or "proc-macro" in msg["target"]["kind"]:
                artifacts.setdefault(name, []).append(f)
        if name == "plrust_api" and "dylib" in msg["target"]["kind"]:
            api = [f for f in msg.get("filenames", []) if f.endswith(".so")]
            api_dylib = api[0] if api else None
        if name == "plrust-executor" and msg.get("executable"):
            executor = msg["executable"]
    if "std" not in artifacts or api_dylib is None or executor is None:
        sys.exit("install-kit: cargo did not report plrust-std (the facade), plrust_api's dylib and plrust-executor")
    # The facade, named std, goes where the real std would be: the sysroot.
    for f in artifacts.pop("std"):
        install(f, os.path.join(sr, os.path.basename(f)))
        wanted.add(os.path.basename(f))
    for name in os.listdir(sr):
        if name not in wanted:
            os.unlink(os.path.join(sr, name))
    # Every rlib of that build (the closure of plrust-std, plrust-api and
    # the executor: a handful of small crates), under its own file name:
    # rustc finds indirect dependencies by crate name and hash.
    installed = set()
    for files in artifacts.values():
        for f in files:
            install(f, os.path.join(deps, os.path.basename(f)))
            installed.add(os.path.basename(f))
    install(named_by_content(api_dylib), os.path.join(deps, API_DYLIB))
    installed.add(API_DYLIB)
    # Nothing from an earlier build stays: rustc must find one candidate per
    # crate, and the kit's identity (hashed from these files) must be the
    # same in every major's copy of the kit.
    for name in os.listdir(deps):
        if name not in installed:
            os.unlink(os.path.join(deps, name))
    install(executor, os.path.join(kit, "plrust-executor"))
    print(f"install-kit: kit ready in {kit}")


if __name__ == "__main__":
    main()
