#!/usr/bin/env bash
# The podnet demo on a fresh Debian machine, as root: set-up, then a lab cluster in network namespaces on this
# machine, with its checks. By default the lab is removed when the demo ends; `--keep` leaves it up to explore
# (`bin/podnetctl lab status`, `bin/podnetctl lab exec n1 -- ip addr`, then `bin/podnetctl lab down`).
set -euo pipefail
cd "$(dirname "$0")/.."
keep=0
[ "${1:-}" = "--keep" ] && keep=1
bash scripts/setup.sh
if [ $keep = 0 ]; then trap 'bin/podnetctl lab down >/dev/null 2>&1 || true' EXIT; fi
bin/podnetctl lab up --nodes 3
bin/podnetctl lab status
if [ $keep = 1 ]; then echo "the lab is up; remove it with: bin/podnetctl lab down"; fi
