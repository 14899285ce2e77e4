#!/usr/bin/env bash
# Set everything up (scripts/setup.sh), then every gate and every test:
# rustfmt and clippy over the whole workspace (the handler for every major),
# the unit tests of the pgrx-free crates, and, for each supported major, the
# whole integration suite against a throwaway cluster of that major (plus
# one without preload, for the preload check); then pg_upgrade from 15 to 18
# of a cluster of plrust functions.  Fails if anything fails, on any major.
#
# PLRUST_PG="18" (or "15 18") runs only those majors; the upgrade test runs
# when both 15 and 18 are among them.  KEEP_CLUSTER=1 keeps the clusters.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/majors.sh
MAJORS=$(selected_majors "$PLRUST_MAJORS")
bash scripts/setup.sh
phase_start=0
timings=()
phase_done() { timings+=("$(printf '%-44s %4d s' "$1" $((SECONDS - phase_start)))"); phase_start=$SECONDS; }
phase_done "set-up"

echo; echo "==> gates: rustfmt, clippy (-D warnings)"
cargo fmt --all --check
cargo clippy --release --workspace --exclude plrust --all-targets -- -D warnings
for m in $MAJORS; do
  PGRX_PG_CONFIG_PATH=$(pg_config_of "$m") \
    cargo clippy --release -p plrust --no-default-features --features "pg$m" --all-targets -- -D warnings
done
phase_done "rustfmt and clippy"

echo; echo "==> unit tests"
cargo test --release -p plrust-ipc -p plrust-compiler -p plrust-api -p plrust-std -p plrust-bgworker
# The integration tests are built once: they talk SQL, whatever the major.
cargo test --release -p plrust-tests --no-run
phase_done "unit tests, building the integration tests"

base=$(mktemp -d /tmp/plrust-test.XXXXXX)
chmod 755 "$base"
clusters=()
stop_all() {
  for d in ${clusters[@]+"${clusters[@]}"}; do bash scripts/cluster.sh stop "$d" || true; done
  if [ "${KEEP_CLUSTER:-}" = "" ]; then rm -rf "$base"; else echo "clusters kept in $base"; fi
}
trap stop_all EXIT

# The whole integration suite against one major.
run_major() { # major
  local m=$1 dir="$base/pg$1"
  echo; echo "==> PostgreSQL $m: starting throwaway clusters in $dir"
  clusters+=("$dir/main" "$dir/nopreload")
  mkdir -p "$dir/scratch"; chown postgres:postgres "$dir" "$dir/scratch"
  # (set -e does not reach into a function called with ||: say it.)
  # The suite runs its tests in parallel, all under one owner, on a small
  # machine that is also compiling: calls wait for executors longer than
  # the 10 s a production default allows (tests that check the timeout set
  # their own).
  # The server's environment as a DBA chasing a bug might leave it: Rust
  # backtraces on (messages.rs checks that none reaches a client).
  RUST_BACKTRACE=1 PLRUST_PG=$m PLRUST_EXTRA_CONF="plrust.pool_wait_timeout = '60s'" \
    bash scripts/cluster.sh start "$dir/main" 55440 || return
  PLRUST_PG=$m PLRUST_NO_PRELOAD=1 bash scripts/cluster.sh start "$dir/nopreload" 55441 || return
  "$(pg_bindir "$m")/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir/main" -p 55440 -U postgres -c "CREATE DATABASE plrust_test" \
    -c "\\c plrust_test" -c "CREATE EXTENSION plrust" || return
  echo; echo "==> PostgreSQL $m: integration tests"
  local status=0
  PLRUST_TEST_HOST="$dir/main" PLRUST_TEST_PORT=55440 PLRUST_TEST_DATADIR="$dir/main/data" \
  PLRUST_TEST_KIT="$("$(pg_config_of "$m")" --pkglibdir)/plrust" \
  PLRUST_TEST_NOPRELOAD_HOST="$dir/nopreload" PLRUST_TEST_NOPRELOAD_PORT=55441 \
  PLRUST_TEST_MAJOR=$m PLRUST_TEST_SCRATCH="$dir/scratch" \
    cargo test --release -p plrust-tests --no-fail-fast || status=$?
  if [ $status -ne 0 ]; then
    echo "==> PostgreSQL $m: server log (last 60 lines)"; tail -n 60 "$dir/main/server.log"
  fi
  bash scripts/cluster.sh stop "$dir/main"; bash scripts/cluster.sh stop "$dir/nopreload"
  return $status
}

failed=()
for m in $MAJORS; do
  run_major "$m" || failed+=("PostgreSQL $m")
  phase_done "integration tests, PostgreSQL $m"
done

if [[ " $MAJORS " == *" 15 "* && " $MAJORS " == *" 18 "* ]]; then
  echo; echo "==> pg_upgrade from PostgreSQL 15 to 18"
  clusters+=("$base/upgrade/old" "$base/upgrade/new")
  PLRUST_TEST_UPGRADE_DIR="$base/upgrade" \
  PLRUST_TEST_UPGRADE_OLD_BIN="$(pg_bindir 15)" PLRUST_TEST_UPGRADE_NEW_BIN="$(pg_bindir 18)" \
    cargo test --release -p plrust-tests --test upgrade -- --ignored || failed+=("pg_upgrade 15 to 18")
  phase_done "pg_upgrade 15 to 18"
else
  echo; echo "==> pg_upgrade test skipped: it needs PostgreSQL 15 and 18 (PLRUST_PG='$MAJORS')"
fi

# Citus 13.2.2 supports 15 (and 16, 17; not 18): setup.sh builds it for 15.
if [[ " $MAJORS " == *" 15 "* ]]; then
  echo; echo "==> Citus on PostgreSQL 15: a coordinator and two workers"
  clusters+=("$base/citus/coordinator" "$base/citus/worker1" "$base/citus/worker2")
  PLRUST_TEST_CITUS_DIR="$base/citus" \
    cargo test --release -p plrust-tests --test citus -- --ignored || failed+=("Citus on 15")
  phase_done "Citus on 15"
else
  echo; echo "==> Citus test skipped: it needs PostgreSQL 15 (PLRUST_PG='$MAJORS')"
fi

echo; echo "==> time taken"
printf '  %s\n' "${timings[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "==> FAILED: ${failed[*]}"
  exit 1
fi
echo "==> every test passed on PostgreSQL $MAJORS"
