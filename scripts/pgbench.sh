#!/usr/bin/env bash
# Many clients calling one function, the way applications load a database:
# pgbench runs `SELECT f(:id)` per transaction (\set id random(1, 1000000),
# -n -M prepared) with 1, 8 and 16 clients (-j min(clients, 2): the project's
# machines have 2 vCPUs), f being each of
#   plrust    STRICT Ok(Some(i + 1))
#   PL/pgSQL  BEGIN RETURN i + 1; END      (what the ratios compare against)
#   SQL       SELECT i + 1 WHERE true      (kept from being inlined, below)
#   native    int4pl(i, 1), the C function behind int + int (plrust-bench's
#             "native C function")
# all int -> int, in one run on one server.  The kinds alternate: each round
# runs every kind once, starting one kind later than the round before, and
# the tables show the median over the rounds, because a 2-core VM is noisy
# and drifts over minutes.
#
#   bash scripts/pgbench.sh HOST_DIR PORT
#       against a running server: HOST_DIR is its unix socket directory
#       (cluster.sh's DIR), user postgres, database plrust_test (must exist;
#       the extension is created if missing).  bash scripts/bench.sh runs
#       this on each cluster it starts; PLRUST_BENCH=pgbench bash
#       scripts/bench.sh runs only this.
#   PLRUST_PGBENCH_SECONDS   seconds per run (default 5)
#   PLRUST_PGBENCH_ROUNDS    rounds (default 3)
#   PLRUST_PGBENCH_CLIENTS   client counts (default "1 8 16")
#   PLRUST_PGBENCH_VERBOSE=1 also print every run as it ends
#   PLRUST_PGBENCH           the pgbench binary (default: the server's
#                            major's, else 15's: pgbench works across majors)
#
# How to read the output: the first table is transactions per second (one
# call each, client round trip included; higher is better), the second
# pgbench's "latency average" (lower is better), each the median of the
# rounds.  Without a rate limit (-R), pgbench's latency average is clients /
# TPS, so the second table is the first one inverted; it is there for the
# 1-client latency target.  The last column is plrust against PL/pgSQL (ratio
# of the medians) and the project's targets: at 8 and 16 clients plrust's TPS
# at least 0.8x PL/pgSQL's, at 1 client its latency at most 1.3x; "MISSED"
# marks a target not met (the script does not fail on it).  Ratios between
# columns of one run mean more than absolute numbers, which move with the
# machine's load.
set -euo pipefail
if [ $# -ne 2 ]; then echo "usage: $0 HOST_DIR PORT" >&2; exit 2; fi
host=$1; port=$2
# shellcheck source=scripts/majors.sh
. "$(dirname "$0")/majors.sh"
SECONDS_PER_RUN=${PLRUST_PGBENCH_SECONDS:-5}
ROUNDS=${PLRUST_PGBENCH_ROUNDS:-3}
CLIENTS=${PLRUST_PGBENCH_CLIENTS:-1 8 16}
KINDS=(plrust plpgsql sql native)

PSQL=$(pg_bindir 15)/psql
[ -x "$PSQL" ] || PSQL=psql
sql() { "$PSQL" -X -q -At -v ON_ERROR_STOP=1 -h "$host" -p "$port" -U postgres -d plrust_test "$@"; }

version=$(sql -c "SELECT split_part(current_setting('server_version'), ' ', 1)")
major=$(sql -c "SELECT current_setting('server_version_num')::int / 10000")
note=''
PGBENCH=${PLRUST_PGBENCH:-$(pg_bindir "$major")/pgbench}
if [ ! -x "$PGBENCH" ]; then
  note="no pgbench at $PGBENCH (PostgreSQL $major); using 15's against it"
  PGBENCH=$(pg_bindir 15)/pgbench
fi

# The SQL function: a SQL function whose body is a bare SELECT of an
# expression is inlined into the calling query, and then it costs what the
# expression costs (the same as "native").  VOLATILE does not prevent that
# (EXPLAIN VERBOSE on 15 still shows $1 + 1).  SET search_path does, but it
# also makes every call save, set and restore a GUC, which is not the SQL
# function's own cost (though at one call per transaction it measured the
# same as the form used here, within the noise, on 15).  A WHERE clause
# keeps the planner from inlining it too (inline_function refuses any), and
# planning the body then drops the constant-true qual, so the call costs
# what executing a SQL function (fmgr_sql) costs, nothing else.  Checked
# below with EXPLAIN VERBOSE of a generic plan.
sql <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS plrust;
CREATE OR REPLACE FUNCTION bench_pgb_plrust(i int) RETURNS int STRICT LANGUAGE plrust AS $$ Ok(Some(i + 1)) $$;
CREATE OR REPLACE FUNCTION bench_pgb_plpgsql(i int) RETURNS int STRICT LANGUAGE plpgsql AS $$ BEGIN RETURN i + 1; END $$;
CREATE OR REPLACE FUNCTION bench_pgb_sql(i int) RETURNS int STRICT LANGUAGE sql AS $$ SELECT i + 1 WHERE true $$;
SQL
check=$(sql -c "SELECT bench_pgb_plrust(41), bench_pgb_plpgsql(41), bench_pgb_sql(41), int4pl(41, 1)")
if [ "$check" != "42|42|42|42" ]; then echo "pgbench.sh: f(41) should be 42 for every kind, got $check" >&2; exit 1; fi
plan=$(sql -c "SET plan_cache_mode = force_generic_plan" -c "PREPARE p(int) AS SELECT bench_pgb_sql(\$1)" \
  -c "EXPLAIN (VERBOSE, COSTS OFF) EXECUTE p(1)")
sql_label="SQL"
if ! grep -q 'bench_pgb_sql(' <<<"$plan"; then
  sql_label="SQL(inl)"
  note="${note:+$note; }PostgreSQL $major inlines the SQL function: its column is i + 1 itself"
fi

work=$(mktemp -d /tmp/plrust-pgbench.XXXXXX)
trap 'rm -rf "$work"' EXIT
for k in "${KINDS[@]}"; do
  case $k in
    plrust) call='bench_pgb_plrust(:id)' ;;
    plpgsql) call='bench_pgb_plpgsql(:id)' ;;
    sql) call='bench_pgb_sql(:id)' ;;
    native) call='int4pl(:id, 1)' ;;
  esac
  printf '\\set id random(1, 1000000)\nSELECT %s;\n' "$call" > "$work/$k.sql"
done

# One pgbench run; sets TPS and LAT (ms).  A failed run (an error in a
# call, a lost connection) stops the script: that is a bug, not a number.
run() { # kind clients seconds
  local k=$1 c=$2 t=$3 out
  if ! out=$("$PGBENCH" -n -M prepared -h "$host" -p "$port" -U postgres -T "$t" \
      -c "$c" -j $((c < 2 ? c : 2)) -f "$work/$k.sql" plrust_test 2>&1); then
    echo "pgbench.sh: pgbench failed ($k, $c clients):" >&2
    echo "$out" >&2
    exit 1
  fi
  TPS=$(awk '/^tps = /{print $3; exit}' <<<"$out")
  LAT=$(awk '/^latency average = /{print $4; exit}' <<<"$out")
  if [ -z "$TPS" ] || [ -z "$LAT" ]; then
    echo "pgbench.sh: no tps or latency in pgbench's output ($k, $c clients):" >&2
    echo "$out" >&2
    exit 1
  fi
}
median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

nclients=$(wc -w <<<"$CLIENTS")
max_clients=$(tr ' ' '\n' <<<"$CLIENTS" | sort -n | tail -1)
echo "pgbench on PostgreSQL $version (pgbench $("$PGBENCH" --version | awk '{print $3}')):" \
  "$((nclients * ROUNDS * ${#KINDS[@]})) runs of $SECONDS_PER_RUN s after a 1 s warm-up of each kind," \
  "about $((nclients * ROUNDS * ${#KINDS[@]} * SECONDS_PER_RUN + ${#KINDS[@]})) s"
[ -z "$note" ] || echo "note: $note"

# Warm-up, not counted: the first call of each function (plrust loads its
# code into an executor), and as many sessions as the largest run.
for k in "${KINDS[@]}"; do run "$k" "$max_clients" 1; done

for c in $CLIENTS; do
  for ((r = 0; r < ROUNDS; r++)); do
    for ((i = 0; i < ${#KINDS[@]}; i++)); do
      k=${KINDS[(i + r) % ${#KINDS[@]}]}
      run "$k" "$c" "$SECONDS_PER_RUN"
      echo "$TPS" >> "$work/$k.$c.tps"
      echo "$LAT" >> "$work/$k.$c.lat"
      [ -z "${PLRUST_PGBENCH_VERBOSE:-}" ] || printf '  round %d, %2d clients, %-8s %10.0f TPS %8.3f ms\n' "$((r + 1))" "$c" "$k" "$TPS" "$LAT"
    done
  done
done

med() { median < "$work/$1.$2.$3"; } # kind clients tps|lat
echo "pgbench SELECT f(:id), $SECONDS_PER_RUN s x $ROUNDS rounds, medians"
printf '%-7s  %10s  %12s  %8s  %10s  %s\n' clients "plrust TPS" "PL/pgSQL TPS" "$sql_label TPS" "native TPS" "plrust/PL/pgSQL"
for c in $CLIENTS; do
  rs=$(med plrust "$c" tps); pl=$(med plpgsql "$c" tps)
  ratio=$(awk -v a="$rs" -v b="$pl" 'BEGIN {printf "%.2f", a / b}')
  if [ "$c" -eq 1 ]; then
    lat=$(awk -v a="$(med plrust 1 lat)" -v b="$(med plpgsql 1 lat)" 'BEGIN {printf "%.2f", a / b}')
    what="${ratio}x TPS, latency ${lat}x (target <= 1.3x)"
    awk -v x="$lat" 'BEGIN {exit !(x > 1.3)}' && what+=" MISSED"
  elif [ "$c" -ge 8 ]; then
    what="${ratio}x (target >= 0.8x)"
    awk -v x="$ratio" 'BEGIN {exit !(x < 0.8)}' && what+=" MISSED"
  else
    what="${ratio}x"
  fi
  printf '%-7s  %10.0f  %12.0f  %8.0f  %10.0f  %s\n' "$c" "$rs" "$pl" "$(med sql "$c" tps)" "$(med native "$c" tps)" "$what"
done
echo "latency average (ms), medians"
printf '%-7s  %10s  %12s  %8s  %10s  %s\n' clients plrust PL/pgSQL "$sql_label" native "plrust/PL/pgSQL"
for c in $CLIENTS; do
  rs=$(med plrust "$c" lat); pl=$(med plpgsql "$c" lat)
  printf '%-7s  %10.3f  %12.3f  %8.3f  %10.3f  %.2fx\n' "$c" "$rs" "$pl" "$(med sql "$c" lat)" "$(med native "$c" lat)" \
    "$(awk -v a="$rs" -v b="$pl" 'BEGIN {print a / b}')"
done
