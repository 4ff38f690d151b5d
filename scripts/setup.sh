#!/usr/bin/env bash
# Everything podnet needs on a fresh Debian machine, as root: system packages (only when missing), npm ci, the
# native addon and the bundles. Idempotent and quiet when there is nothing to do.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
  echo "setup: podnet's lab and tests create network namespaces and need root; run as root (sudo)" >&2
  exit 1
fi

# Debian packages: the kernel tools, the real peers and anchors the tests start, and the reference CNI plugins.
PACKAGES=(iproute2 nftables iptables conntrack ipset iputils-ping arping tcpdump socat strace
  etcd-server etcd-client bird2 gobgpd dnsutils knot-dnsutils dnsperf dnsmasq-base ipvsadm
  containernetworking-plugins ndisc6 curl procps python3 make g++)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The Debian etcd-server, bird2 and dnsmasq packages may start system services; podnet's tests start their own
  # instances on loopback, so stop the packaged ones (only if they were just installed here).
  for svc in etcd bird dnsmasq; do
    if command -v systemctl >/dev/null 2>&1; then systemctl stop "$svc" >/dev/null 2>&1 || true; fi
  done
fi

# npm dependencies, exactly as locked. Re-run only when the lock file changed since the last install.
stamp=node_modules/.podnet-lock-stamp
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi

# Native addon + one bundled executable per binary in bin/.
node --import=tsx scripts/build.mjs
