#!/usr/bin/env bash
# Installs the Faro sensor on an edge box (Debian or another systemd Linux):
#
#   /usr/local/bin/faro-sensor                  the binary (replaced: this is also the upgrade)
#   /etc/systemd/system/faro-sensor.service     the hardened unit (replaced)
#   /etc/faro/             root:faro 0750
#   /etc/faro/faro.toml    root:faro 0640, from faro.default.toml; an existing one is kept
#   /etc/faro/keys/        faro:faro 0700, sensor.key (0600) and sensor.pub made by
#                          `faro-sensor keygen` when there is no key yet
#   /var/lib/faro/         faro:faro 0750, the state (spool)
# and the system user faro; enables the unit when systemd runs (it does not
# start it: enroll the key and configure the uplink first, see faro.toml).
#
# Usage: install.sh [--binary FILE] [--sensor-id ID] [--site SITE] [--root DIR] [--keygen]
#   --binary FILE   the faro-sensor to install (default: faro-sensor beside this script)
#   --sensor-id ID  the id written into a new faro.toml (default: the host name)
#   --site SITE     the site written into a new faro.toml (default: "default")
#   --root DIR      install into DIR as the root of another system (an image being
#                   built, a test): no user, no ownership, no systemctl, and no key
#                   unless --keygen (a key made once into an image would be shared
#                   by every box made from it; the box makes its own at first install)
#   --keygen        with --root: make the key all the same
# Idempotent: running it again upgrades the binary and the unit and keeps the
# configuration and the key.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

die() { echo "install.sh: $*" >&2; exit 1; }
say() { echo "install.sh: $*" >&2; }

binary=$here/faro-sensor
sensor_id=$(hostname -s 2>/dev/null || echo faro-sensor)
site=default
root=/
keygen=
while [ $# -gt 0 ]; do
  case $1 in
    --binary|--sensor-id|--site|--root)
      [ $# -ge 2 ] || die "$1 needs a value"
      case $1 in
        --binary) binary=$2 ;;
        --sensor-id) sensor_id=$2 ;;
        --site) site=$2 ;;
        --root) root=$2 ;;
      esac
      shift ;;
    --keygen) keygen=1 ;;
    -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
  shift
done

[ -f "$binary" ] || die "no faro-sensor at $binary (name it with --binary FILE)"
for f in "$here/systemd/faro-sensor.service" "$here/faro.default.toml"; do
  [ -f "$f" ] || die "$f is missing: run install.sh from its firmware-config directory"
done
valid_name='^[A-Za-z0-9._-]{1,64}$'
# A host name may hold characters an id may not: keep the allowed ones.
sensor_id=$(printf '%s' "$sensor_id" | tr -c 'A-Za-z0-9._-' '-' | cut -c1-64)
[[ $sensor_id =~ $valid_name ]] || die "sensor id '$sensor_id': 1 to 64 letters, digits, '.', '_' or '-'"
[[ $site =~ $valid_name ]] || die "site '$site': 1 to 64 letters, digits, '.', '_' or '-'"

if [ "$root" = / ]; then
  system=1
  [ "$(id -u)" -eq 0 ] || die "installing on this system needs root (or --root DIR for another root)"
  [ -z "$keygen" ] || die "--keygen is only for --root: on this system the key is made when missing"
  keygen=1
  root=
else
  system=
  mkdir -p "$root"
  root=$(cd "$root" && pwd)
fi

# install(1) with owner and group only when installing on this system.
owned() {
  local owner=$1
  shift
  if [ -n "$system" ]; then
    install -o "${owner%:*}" -g "${owner#*:}" "$@"
  else
    install "$@"
  fi
}

if [ -n "$system" ] && ! id faro >/dev/null 2>&1; then
  say "creating the system user faro"
  useradd --system --user-group --home-dir /var/lib/faro --no-create-home \
    --shell /usr/sbin/nologin --comment "Faro sensor" faro
fi

owned root:faro -d -m 0750 "$root/etc/faro"
owned faro:faro -d -m 0700 "$root/etc/faro/keys"
owned faro:faro -d -m 0750 "$root/var/lib/faro"
install -d -m 0755 "$root/usr/local/bin" "$root/etc/systemd/system"
install -m 0755 "$binary" "$root/usr/local/bin/faro-sensor"
install -m 0644 "$here/systemd/faro-sensor.service" "$root/etc/systemd/system/faro-sensor.service"

config=$root/etc/faro/faro.toml
if [ -e "$config" ]; then
  say "keeping the existing $config"
else
  tmp=$(mktemp "$root/etc/faro/.faro.toml.XXXXXX")
  sed -e "s/^id = .*/id = \"$sensor_id\"/" -e "s/^site = .*/site = \"$site\"/" \
    "$here/faro.default.toml" >"$tmp"
  owned root:faro -m 0640 "$tmp" "$config"
  rm -f "$tmp"
  say "installed $config (sensor id $sensor_id, site $site)"
fi

installed=$root/usr/local/bin/faro-sensor
# The binary may be for another architecture (an image built on a PC).
runs_here=
"$installed" --version >/dev/null 2>&1 && runs_here=1

key=$root/etc/faro/keys/sensor.key
if [ -n "$keygen" ] && [ ! -e "$key" ]; then
  [ -n "$runs_here" ] || die "$installed does not run here: cannot make the key (leave out --keygen)"
  say "making the signing key; enroll this fingerprint at the collector:"
  "$installed" keygen --out "$root/etc/faro/keys"
  [ -z "$system" ] || chown faro:faro "$key" "$root/etc/faro/keys/sensor.pub"
fi

if [ -n "$runs_here" ]; then
  "$installed" check-config "$config" || die "$config has problems (above): fix them before starting"
fi

if [ -n "$system" ] && [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  systemctl enable faro-sensor.service
  say "enabled faro-sensor.service; once the uplink is configured: systemctl start faro-sensor"
elif [ -n "$system" ]; then
  say "systemd is not running: enable faro-sensor.service when it is"
fi
say "installed into ${root:-/}"
