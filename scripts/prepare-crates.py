#!/usr/bin/env python3
"""Prepare the crates an allow-list names, once, for every body that asks.

  prepare-crates.py --kit KIT [--kit KIT2 ...] --work DIR
                    [--allow-list FILE ...] [--local-crate PATH ...]

plrust never runs cargo at CREATE FUNCTION: it has no network there, and
its resolver and build scripts have no business in a backend.  This script
runs it here, ahead of time, with network:

1. Reads every allow-list (PL/Rust's format: name = "requirement", a table
   { version, features, default-features }, or an array of those): the ones
   given, and those given to earlier runs that still exist (remembered in
   KIT/crates/prepared-from.json), so that preparing one list does not
   drop another's crates.
2. Writes scratch crates that depend on every entry (each entry renamed, so
   that one crate in several versions can be asked for; entries of one
   crate go to different scratch crates, as cargo allows one version per
   semver range in a graph), resolves them to exact versions, and vendors
   their sources, with checksums, under DIR.
3. Builds them offline from the vendored sources (in a network namespace of
   its own when run as root, as set-up is) against the kit's sysroot,
   whose std is the postgrestd facade, exactly as bodies are compiled
   (--target keeps the sysroot off build scripts and proc-macros, which run
   on the host's std, and later inside the compile sandbox).
4. Installs the rlibs and proc-macro libraries into KIT/crates/ of every
   kit (hard links), with manifest.json: for each allow-list entry, the
   exact version it resolved to and its library's file.  Nothing else
   stays there: rustc must find exactly this build of each crate.

The build is keyed by the facade's hash: a crate built against another
facade would not load (rustc names it by the std it saw), so a new kit
builds everything again.  --local-crate adds a crate from a directory (by
[patch.crates-io]), for tests that prepare a crate of their own; it is
never prepared again by later runs.
"""
import argparse, hashlib, importlib.util, json, os, shutil, subprocess, sys, tomllib

TARGET = "x86_64-unknown-linux-gnu"
# The kit's installer: files replaced by rename, hard-linked where possible.
_spec = importlib.util.spec_from_file_location(
    "install_kit", os.path.join(os.path.dirname(os.path.abspath(__file__)), "install-kit.py"))
install_kit = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(install_kit)
# Root (set-up) builds in a network namespace with no interface up.
OFFLINE = ["unshare", "--net", "--"] if os.geteuid() == 0 else []


def say(msg):
    print(f"prepare-crates: {msg}", flush=True)


def entries_of(path):
    """The allow-list's entries: (name, requirement, features, default_features),
    read exactly as the compile driver reads them (dependencies.rs: AllowList),
    so that every entry prepared here is one a body can be resolved to."""
    def bad(name, why):
        sys.exit(f"prepare-crates: {path}: {name}: {why}")
    with open(path, "rb") as f:
        table = tomllib.load(f)
    out = []
    for name, specs in table.items():
        for spec in specs if isinstance(specs, list) else [specs]:
            if isinstance(spec, str):
                spec = {"version": spec}
            if not isinstance(spec, dict) or not isinstance(spec.get("version"), str):
                bad(name, "a version string, or a table with a version string")
            unknown = set(spec) - {"version", "features", "default-features", "default_features"}
            if unknown:
                bad(name, f"unsupported key(s) {sorted(unknown)}")
            if "default-features" in spec and "default_features" in spec:
                bad(name, "default-features is given twice")
            default = spec.get("default-features", spec.get("default_features", True))
            if not isinstance(default, bool):
                bad(name, "default-features must be true or false")
            features = spec.get("features", [])
            if not isinstance(features, list) or not all(isinstance(x, str) for x in features):
                bad(name, "features must be an array of strings")
            out.append((name, spec["version"], tuple(sorted(set(features))), default))
    return out


def trusted(path):
    """Whether a remembered allow-list may steer a later run, which runs as
    root and builds what it names: only if root owns it and its directory
    and neither is writable by anyone else."""
    for p in (path, os.path.dirname(path)):
        try:
            st = os.stat(p)
        except OSError:
            return False
        if st.st_uid != 0 or st.st_mode & 0o022:
            return False
    return True


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def toml_str(s):
    """A TOML basic string."""
    out = []
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def scratch_manifest(group, local):
    lines = ['[package]', 'name = "plrust-prepared-crates"', 'version = "0.0.0"', 'edition = "2021"',
             'publish = false', '', '[lib]', 'path = "lib.rs"', '', '[workspace]', '',
             # opt-level 1, as bodies with dependencies are compiled: below 2,
             # rustc shares generics, so a body reuses the instances its
             # crates compiled here (serde_json's Value parser, say) instead
             # of compiling and optimizing its own copy (rustc.rs).
             '[profile.release]', 'opt-level = 1', '', '[dependencies]']
    for i, (name, version, features, default) in group:
        spec = f"package = {toml_str(name)}, version = {toml_str(version)}"
        if features:
            spec += ", features = [" + ", ".join(toml_str(f) for f in features) + "]"
        if not default:
            spec += ", default-features = false"
        lines.append(f"e{i} = {{ {spec} }}")
    if local:
        lines += ["", "[patch.crates-io]"]
        for name, path in sorted(local.items()):
            lines.append(f"{toml_str(name)} = {{ path = {toml_str(path)} }}")
    return "\n".join(lines) + "\n"


def run(cmd, cwd, env=None, capture=False):
    r = subprocess.run(cmd, cwd=cwd, env=env, text=True,
                       stdout=subprocess.PIPE if capture else None)
    if r.returncode != 0:
        sys.exit(f"prepare-crates: {' '.join(cmd)} failed in {cwd} (exit {r.returncode})")
    return r.stdout


def install_into(kit, files, manifest, sources):
    dest = os.path.join(kit, "crates")
    os.makedirs(dest, exist_ok=True)
    names = set()
    for f in files:
        name = os.path.basename(f)
        names.add(name)
        install_kit.install(f, os.path.join(dest, name))
    for name, text in (("manifest.json", json.dumps(manifest, indent=1) + "\n"),
                       ("prepared-from.json", json.dumps(sources, indent=1) + "\n")):
        names.add(name)
        tmp = os.path.join(dest, name + ".tmp-prepare")
        with open(tmp, "w") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, os.path.join(dest, name))
    for name in os.listdir(dest):
        if name not in names:
            os.unlink(os.path.join(dest, name))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kit", action="append", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--allow-list", action="append", default=[])
    ap.add_argument("--local-crate", action="append", default=[])
    args = ap.parse_args()
    kit = args.kit[0]
    sysroot = os.path.join(kit, "sysroot")
    std_libs = os.path.join(kit, "toolchain", "lib", "rustlib", TARGET, "lib")
    facades = [os.path.join(sysroot, "lib", "rustlib", TARGET, "lib", n)
               for n in os.listdir(os.path.join(sysroot, "lib", "rustlib", TARGET, "lib"))
               if n.startswith("libstd") and n.endswith(".rlib")]
    if len(facades) != 1:
        sys.exit(f"prepare-crates: {kit} has no single std facade in its sysroot; install the kit first")
    facade = sha256(facades[0])
    for k in args.kit[1:]:
        other = [os.path.join(k, "sysroot", "lib", "rustlib", TARGET, "lib", n)
                 for n in os.listdir(os.path.join(k, "sysroot", "lib", "rustlib", TARGET, "lib"))
                 if n.startswith("libstd") and n.endswith(".rlib")]
        if len(other) != 1 or sha256(other[0]) != facade:
            sys.exit(f"prepare-crates: {k} has another std facade than {kit}: install the same kit into both")

    # What to prepare: these lists and crates, and the lists of earlier runs
    # that still exist and that only root can change.  Local crates are never
    # remembered (they are for tests).
    try:
        with open(os.path.join(kit, "crates", "prepared-from.json")) as f:
            earlier = [p for p in json.load(f).get("allow_lists", []) if isinstance(p, str)]
    except (OSError, ValueError, AttributeError):
        earlier = []
    for p in earlier:
        if os.path.exists(p) and not trusted(p):
            say(f"not preparing {p} again: it or its directory is not root's alone")
    earlier = [p for p in earlier if os.path.exists(p) and trusted(p)]
    given = [os.path.abspath(p) for p in args.allow_list]
    lists = [p for i, p in enumerate(given + earlier) if p not in (given + earlier)[:i]]
    remembered = [p for p in lists if p in earlier or trusted(p)]
    local_dirs = [os.path.abspath(p) for p in args.local_crate]
    local = {}
    for d in local_dirs:
        with open(os.path.join(d, "Cargo.toml"), "rb") as f:
            local[tomllib.load(f)["package"]["name"]] = d
    entries = []
    for p in lists:
        for e in entries_of(p):
            if e not in entries:
                entries.append(e)
    # One scratch crate per "layer": a crate's n-th entry goes to layer n.
    groups = []
    for i, e in enumerate(entries):
        for g in groups:
            if all(x[1][0] != e[0] for x in g):
                g.append((i, e))
                break
        else:
            groups.append([(i, e)])

    root = os.path.abspath(args.work)
    work = os.path.join(root, facade[:16])
    os.makedirs(work, exist_ok=True)
    for name in os.listdir(root):  # builds against earlier facades
        if name != facade[:16] and len(name) == 16 and all(c in "0123456789abcdef" for c in name):
            shutil.rmtree(os.path.join(root, name), ignore_errors=True)
    say(f"{len(entries)} allow-list entries from {len(lists)} list(s), {len(groups)} scratch crate(s), in {work}")

    dirs = []
    for n, g in enumerate(groups):
        d = os.path.join(work, f"g{n}")
        os.makedirs(d, exist_ok=True)
        text = scratch_manifest(g, local)
        path = os.path.join(d, "Cargo.toml")
        old = open(path).read() if os.path.exists(path) else None
        if old != text:
            with open(path, "w") as f:
                f.write(text)
        open(os.path.join(d, "lib.rs"), "w").close()
        dirs.append(d)
    for name in os.listdir(work):
        if name.startswith("g") and os.path.join(work, name) not in dirs:
            shutil.rmtree(os.path.join(work, name))

    # Resolve and vendor (the network), with no source replacement in force.
    config = os.path.join(work, ".cargo", "config.toml")
    if os.path.exists(config):
        os.unlink(config)
    vendor = os.path.join(work, "vendor")
    if dirs:
        for d in dirs:
            run(["cargo", "generate-lockfile"] if not os.path.exists(os.path.join(d, "Cargo.lock"))
                else ["cargo", "update", "--workspace", "--quiet"], d)
        sync = [a for d in dirs[1:] for a in ("-s", os.path.join(d, "Cargo.toml"))]
        run(["cargo", "vendor", "--quiet", "--versioned-dirs", *sync, vendor], dirs[0], capture=True)
    os.makedirs(os.path.dirname(config), exist_ok=True)
    with open(config, "w") as f:
        f.write(f'[source.crates-io]\nreplace-with = "vendored"\n\n[source.vendored]\ndirectory = {toml_str(vendor)}\n')

    # Build offline against the facade.
    env = dict(os.environ)
    env.pop("RUSTFLAGS", None)
    env["CARGO_ENCODED_RUSTFLAGS"] = "\x1f".join(["--sysroot", sysroot, "-L", f"dependency={std_libs}"])
    env["CARGO_TARGET_DIR"] = os.path.join(work, "target")
    files, manifest = set(), []
    for d, g in zip(dirs, groups):
        say(f"building {', '.join(e[0] for _, e in g)}")
        # Offline from the vendored sources, and in a network namespace of
        # its own: the crates' build scripts and proc-macros, which run
        # here, reach no network either.
        out = run(OFFLINE + ["cargo", "build", "--release", "--frozen", "--target", TARGET,
                             "--message-format=json-render-diagnostics"],
                  d, env=env, capture=True)
        meta = json.loads(run(["cargo", "metadata", "--frozen", "--format-version", "1"], d, env=env, capture=True))
        root_id = meta["resolve"]["root"]
        node = next(n for n in meta["resolve"]["nodes"] if n["id"] == root_id)
        pkg_of = {dep["name"]: dep["pkg"] for dep in node["deps"]}
        version_of = {p["id"]: p["version"] for p in meta["packages"]}
        lib_of = {}
        for line in out.splitlines():
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            if msg.get("reason") != "compiler-artifact":
                continue
            kinds = msg["target"]["kind"]
            for f in msg["filenames"]:
                target_lib = f.endswith(".rlib") and f"/{TARGET}/release/deps/" in f
                macro = "proc-macro" in kinds and f.endswith(".so")
                if target_lib or macro:
                    files.add(f)
                    if "lib" in kinds or "rlib" in kinds or macro:
                        lib_of[msg["package_id"]] = (msg["target"]["name"], f)
        for i, (name, version, features, default) in g:
            pkg = pkg_of[f"e{i}"]
            lib_name, f = lib_of[pkg]
            manifest.append({"name": name, "version": version, "features": list(features),
                             "default_features": default, "resolved": version_of[pkg],
                             "lib_name": lib_name, "file": os.path.basename(f)})
            say(f"  {name} {version} -> {version_of[pkg]} ({os.path.basename(f)})")
    sources = {"allow_lists": remembered}
    for k in args.kit:
        install_into(k, sorted(files), {"facade": facade, "crates": manifest}, sources)
    say(f"{len(manifest)} crates ready in {', '.join(os.path.join(k, 'crates') for k in args.kit)}")


if __name__ == "__main__":
    main()
