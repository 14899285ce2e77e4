# Sourced by the set-up scripts: Debian packages, installed when one of
# them is missing, so that a second run of set-up neither needs the network
# nor takes the time of apt.  Then the whole list is installed (or
# upgraded) together: a server and its dev package must be the same
# version.
#   install_debian_packages WHAT PACKAGE...   (WHAT says what they are for)

say() { printf '\n==> %s\n' "$*"; }

install_debian_packages() {
  local what=$1 p missing=()
  shift
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  say "installing Debian packages for $what: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
