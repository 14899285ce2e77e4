#!/usr/bin/env bash
# Set up everything plrust needs on a Debian 12 machine, as root, idempotently:
# Debian packages, cargo-pgrx, the release build, and the installed extension
# (library, SQL, control file, compiler kit, executor binary).
# Quick when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

PG_MAJOR=15
PG_CONFIG=/usr/lib/postgresql/$PG_MAJOR/bin/pg_config
PGRX_VERSION=0.18.1
say() { printf '\n==> %s\n' "$*"; }

# 1. Debian packages.  The dev package must match the server's version, so
#    both are installed (or upgraded) together.
pkgs=(postgresql-$PG_MAJOR postgresql-server-dev-$PG_MAJOR clang libclang-dev python3 ca-certificates
      pkg-config libssl-dev  # for building cargo-pgrx
      strace)                # the test comparing executors' system calls with the allowlist
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${pkgs[@]}" >/dev/null
fi
# Debian's package starts a default cluster; plrust uses its own throwaway ones.
if command -v pg_lsclusters >/dev/null && pg_lsclusters -h 2>/dev/null | grep -q online; then
  pg_ctlcluster "$PG_MAJOR" main stop 2>/dev/null || true
fi

# 2. cargo-pgrx, the same version as the pgrx crate.
if ! cargo pgrx --version 2>/dev/null | grep -q " $PGRX_VERSION\$"; then
  say "installing cargo-pgrx $PGRX_VERSION (a few minutes, once)"
  cargo install cargo-pgrx --version "$PGRX_VERSION" --locked
fi
if ! grep -q "pg$PG_MAJOR" "${PGRX_HOME:-$HOME/.pgrx}/config.toml" 2>/dev/null; then
  cargo pgrx init --pg$PG_MAJOR "$PG_CONFIG" >/dev/null
fi

# 3. Build.  The handler (pgrx) and the kit's crates are built by separate
#    cargo runs: the kit gets exactly the rlibs of plrust-std, plrust-api and
#    the executor, not pgrx's.
say "building (release)"
export PGRX_PG_CONFIG_PATH="$PG_CONFIG"
cargo build --release -p plrust
cargo build --release -p plrust-compiler --bin plrust-compile
cargo build --release -p plrust-std -p plrust-api -p plrust-bgworker --message-format=json-render-diagnostics \
  > target/kit-artifacts.json

# 4. Install.  Files are replaced by rename, never overwritten in place: a
#    running server that has the library mapped must not see it change.
PKGLIB=$("$PG_CONFIG" --pkglibdir)
SHARE=$("$PG_CONFIG" --sharedir)/extension
say "installing into $PKGLIB and $SHARE"
install_file() { # mode src dst
  install -m "$1" "$2" "$3.tmp-plrust" && mv -f "$3.tmp-plrust" "$3"
}
install_file 755 target/release/libplrust.so "$PKGLIB/plrust.so"
install_file 644 sql/plrust.control "$SHARE/plrust.control"
for f in sql/plrust--*.sql; do install_file 644 "$f" "$SHARE/$(basename "$f")"; done
python3 scripts/install-kit.py "$PKGLIB/plrust" < target/kit-artifacts.json
install_file 755 target/release/plrust-compile "$PKGLIB/plrust/plrust-compile"
# The kit's identity, part of every compiled function's hash: the compiler,
# and the code compiled functions link with and run in (trusted-api, the
# std facade, the channel, the executor).  Code built against another kit
# is recompiled at its first call rather than loaded.
{ echo "plrust $(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)"; rustc -vV
  (cd "$PKGLIB/plrust" && sha256sum deps/libplrust_*.rlib plrust-executor); } > "$PKGLIB/plrust/VERSION.tmp"
mv -f "$PKGLIB/plrust/VERSION.tmp" "$PKGLIB/plrust/VERSION"
say "plrust installed"
