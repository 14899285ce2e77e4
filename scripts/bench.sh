#!/usr/bin/env bash
# Benchmarks (not part of the test run): set up, start a throwaway cluster,
# run plrust-bench, stop.  Prints ns/row for the built-in operator, a native
# C function, SQL, PL/pgSQL and plrust, their ratios, and CREATE FUNCTION time.
# Then many clients calling a function through pgbench (scripts/pgbench.sh:
# TPS and latency at 1, 8 and 16 clients, plrust against PL/pgSQL, SQL and
# native, with the project's targets; its header says how to read it).
# Runs on the default major (scripts/majors.sh); PLRUST_PG="15 18" runs on
# each of those in turn.  PLRUST_BENCH=plrust-bench or PLRUST_BENCH=pgbench
# runs only that part (PLRUST_PGBENCH_SECONDS etc.: see scripts/pgbench.sh;
# against a cluster already running: bash scripts/pgbench.sh HOST_DIR PORT).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/majors.sh
MAJORS=$(selected_majors "$PLRUST_DEFAULT_MAJOR")
PARTS=${PLRUST_BENCH:-plrust-bench pgbench}
case $PARTS in
  "plrust-bench pgbench" | plrust-bench | pgbench) ;;
  *) echo "PLRUST_BENCH is plrust-bench or pgbench (unset: both), not '$PARTS'" >&2; exit 2 ;;
esac
part() { case " $PARTS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
PLRUST_PG=$MAJORS bash scripts/setup.sh >/dev/null
base=$(mktemp -d /tmp/plrust-bench.XXXXXX); chmod 755 "$base"
# shellcheck disable=SC2154 # d is the trap's own loop variable
trap 'for d in "$base"/pg*; do bash scripts/cluster.sh stop "$d"; done; rm -rf "$base"' EXIT
if part plrust-bench; then
  cargo build --release -q -p plrust-tests --bin plrust-bench
  cargo build --release -q -p plrust-ipc --example pingpong
fi
for m in $MAJORS; do
  dir="$base/pg$m"
  echo "== PostgreSQL $m"
  # The pool sized for the machine, as a server runs it (the test clusters pin it to 4).
  PLRUST_PG=$m PLRUST_EXTRA_CONF="plrust.max_executors = 0" bash scripts/cluster.sh start "$dir" 55450
  "$(pg_bindir "$m")/psql" -X -q -h "$dir" -p 55450 -U postgres -c "CREATE DATABASE plrust_test" \
    -c "\\c plrust_test" -c "CREATE EXTENSION plrust"
  if part plrust-bench; then
    # The floor under every call: two processes handing one cache line back
    # and forth.  On a VM it moves with where the vCPUs land (60-450 ns seen
    # on the same machine), so it is printed with the results it explains.
    echo "raw channel round trip between two processes, before: $(target/release/examples/pingpong | sed 's/round trip: //')"
    PLRUST_TEST_HOST="$dir" PLRUST_TEST_PORT=55450 target/release/plrust-bench
    echo "raw channel round trip between two processes, after: $(target/release/examples/pingpong | sed 's/round trip: //')"
  fi
  if part pgbench; then
    if part plrust-bench; then echo; fi
    bash scripts/pgbench.sh "$dir" 55450
  fi
  bash scripts/cluster.sh stop "$dir"
done
