#!/usr/bin/env bash
# Installs every build and test dependency of Plexus from Debian's packages.
# Idempotent: packages already present are skipped, and apt is not touched at all
# when nothing is missing.
set -euo pipefail

build_deps=(
  build-essential cmake ninja-build ccache pkg-config
  libpoco-dev libssl-dev libldap2-dev libetpan-dev libxerces-c-dev libsqlite3-dev
  libgtest-dev libgmock-dev
)
# Real peers and clients the integration tests and benchmarks talk to.
test_deps=(
  python3 python3-pytest python3-pytest-xdist openssl swaks libnet-ssleay-perl curl procps
  postfix dovecot-imapd slapd ldap-utils rsyslog rsyslog-openssl
)

missing=()
for p in "${build_deps[@]}" "${test_deps[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js runs an independent IMAP client in the tests (its packages come from
# the npm registry, see tests/integration/node). Debian packages npm apart.
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
# Postfix and slapd must not ask questions nor configure a system-wide instance:
# tests and benchmarks run their own instances on 127.0.0.1.
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
echo "slapd slapd/no_configuration boolean true" | $SUDO debconf-set-selections
# Never start packaged daemons during installation.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  remove_policy=1
fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
[ "${remove_policy:-0}" = 1 ] && $SUDO rm -f /usr/sbin/policy-rc.d
exit 0
