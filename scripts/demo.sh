#!/usr/bin/env bash
# Set everything up (scripts/setup.sh), start a throwaway cluster with plrust
# preloaded, create and call a few functions, and say how to connect.
# It runs on the default major (scripts/majors.sh); PLRUST_PG=18 (say) sets
# up and runs on that one instead.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/majors.sh
MAJOR=$(selected_majors "$PLRUST_DEFAULT_MAJOR")
case $MAJOR in *" "*) echo "demo.sh runs on one major; PLRUST_PG='$MAJOR'" >&2; exit 2 ;; esac
bash scripts/setup.sh

DIR=${PLRUST_DEMO_DIR:-/tmp/plrust-demo-pg$MAJOR}
PORT=${PLRUST_DEMO_PORT:-55432}
bash scripts/cluster.sh stop "$DIR" 2>/dev/null || true
PLRUST_PG=$MAJOR bash scripts/cluster.sh start "$DIR" "$PORT"
PSQL=("$(pg_bindir "$MAJOR")/psql" -X -h "$DIR" -p "$PORT" -U postgres)
"${PSQL[@]}" -q -c "DROP DATABASE IF EXISTS demo" -c "CREATE DATABASE demo"

echo; echo "==> creating and calling plrust functions"
"${PSQL[@]}" -d demo -e <<'SQL'
CREATE EXTENSION plrust;

CREATE FUNCTION add_one(x int) RETURNS int STRICT LANGUAGE plrust AS $$
    Ok(Some(x + 1))
$$;

CREATE FUNCTION greet(name text) RETURNS text LANGUAGE plrust AS $$
    Ok(Some(format!("Hello, {}!", name.unwrap_or("stranger"))))
$$;

CREATE FUNCTION word_stats(s text) RETURNS text STRICT LANGUAGE plrust AS $$
    use std::collections::BTreeMap;
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for w in s.split_whitespace() {
        *counts.entry(w).or_default() += 1;
    }
    Ok(Some(format!("{counts:?}")))
$$;

CREATE FUNCTION checked_div(a bigint, b bigint) RETURNS bigint STRICT LANGUAGE plrust AS $$
    if b == 0 {
        return Err("division by zero is not allowed here".into());
    }
    Ok(Some(a / b))
$$;

SELECT add_one(41), greet('plrust'), greet(NULL);
SELECT word_stats('the quick fox jumps over the lazy dog the end');
SELECT sum(add_one(i)) FROM generate_series(1, 1000000) i;
SELECT checked_div(10, 0);
SELECT slot, executor_pid, database, function_owner, sealed, functions_loaded FROM plrust.workers;
SELECT function, built_at, object_bytes FROM plrust.functions ORDER BY 1;
SELECT version();
SQL

cat <<MSG

plrust is running in a throwaway PostgreSQL $MAJOR cluster:
  connect:  ${PSQL[0]} -h $DIR -p $PORT -U postgres demo
  log:      $DIR/server.log
  stop:     bash scripts/cluster.sh stop $DIR
MSG
