# Sourced by scripts/debian-packages and scripts/cross-build: one way to
# refresh apt's package lists.
#
# apt_update CMD...  runs `CMD update -qq` (CMD is apt-get with its options,
# or a function wrapping it). A Debian mirror caught mid-sync answers with an
# index of unexpected size ("Mirror sync in progress?") and apt-get exits 100
# although the other lists were fetched; that failed a CI run once. So: three
# tries, 10 s then 30 s apart, and after the last one a warning instead of an
# error; apt then works from the lists it has, and the install or download
# that follows fails with its own message if a package really is missing.
apt_update() {
  local attempt
  for attempt in 1 2 3; do
    if "$@" update -qq; then
      return 0
    fi
    if [ "$attempt" -lt 3 ]; then
      local pause=$((attempt == 1 ? 10 : 30))
      echo "apt-get update failed (try $attempt of 3); trying again in $pause s" >&2
      sleep "$pause"
    fi
  done
  echo "warning: apt-get update failed 3 times; going on with the package lists apt has" >&2
  return 0
}
