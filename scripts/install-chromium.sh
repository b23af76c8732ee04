#!/usr/bin/env bash
# install-chromium.sh
#
# Makes sure Debian's Chromium is at /usr/bin/chromium for the browser tests (the web UI's e2e
# tests drive it with playwright-core; no browser is ever downloaded by a test tool). Idempotent
# and quiet: does nothing when Chromium is already there; otherwise installs the `chromium`
# package with apt-get, running `apt-get update` only when the package lists do not know it yet
# or the install fails on stale lists. Prints apt's last lines only on failure.
#
# Environment (optional):
#   CHROMIUM_SKIP_APT=1   never call apt-get; fail if Chromium is missing
set -euo pipefail

PROG=install-chromium.sh
die() { echo "$PROG: ERROR: $*" >&2; exit 1; }
log() { echo "$PROG: $*" >&2; }

BIN=/usr/bin/chromium
[ -x "$BIN" ] && exit 0

[ "${CHROMIUM_SKIP_APT:-}" != 1 ] || die "$BIN is missing and CHROMIUM_SKIP_APT=1; run: apt-get install chromium"
command -v apt-get >/dev/null 2>&1 || die "$BIN is missing, and no apt-get (Debian/Ubuntu only)"
SUDO=()
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null 2>&1 || die "$BIN is missing; not root and no sudo, so run as root: apt-get install chromium"
  SUDO=(sudo -n)
fi

export DEBIAN_FRONTEND=noninteractive
# Wait for another apt run (e.g. the S3 backend's install) instead of failing on its lock.
APT=("${SUDO[@]}" apt-get -q -o DPkg::Lock::Timeout=300)
# fonts-liberation gives pages real metric-compatible fonts in screenshots; the rest of
# Chromium's recommends (desktop integration) is not needed headless.
PKGS=(chromium fonts-liberation)
aptlog=$(mktemp)
trap 'rm -f "$aptlog"' EXIT
log "installing ${PKGS[*]} with apt-get (one-off, about a minute)"
if ! apt-cache show chromium >/dev/null 2>&1; then
  "${APT[@]}" update >"$aptlog" 2>&1 || { tail -20 "$aptlog" >&2; die "apt-get update failed"; }
fi
if ! "${APT[@]}" install -y --no-install-recommends "${PKGS[@]}" >"$aptlog" 2>&1; then
  "${APT[@]}" update >"$aptlog" 2>&1 || { tail -20 "$aptlog" >&2; die "apt-get update failed"; }
  "${APT[@]}" install -y --no-install-recommends "${PKGS[@]}" >"$aptlog" 2>&1 ||
    { tail -20 "$aptlog" >&2; die "apt-get install ${PKGS[*]} failed"; }
fi
[ -x "$BIN" ] || die "installed ${PKGS[*]} but $BIN is still missing"
log "installed $("$BIN" --version 2>/dev/null || echo chromium)"
