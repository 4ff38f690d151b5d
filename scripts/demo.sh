#!/usr/bin/env bash
# The podnet demo on a fresh Debian machine, as root: set-up, then a 3-node lab cluster in network namespaces on
# this machine (vxlan between nodes; podnetd agent on every node runs routing, proxy, DNS, the L2 load balancer and
# the CNI hand-off), deploy/lab-demo.yaml (web pods on every node behind a LoadBalancer Service `web`, 80 → 8080),
# and the checks: ClusterIP from a pod, the Service's name through the cluster DNS at 10.96.0.10, NodePort and the
# LB IP from the client namespace, pods on different nodes talking. Every check prints ok or FAIL; the demo exits
# 1 if any failed. By default the lab is removed at the end; `--keep` leaves it up to explore
# (`bin/podnetctl lab status`, `bin/podnetctl lab exec web-1 -- curl -s http://web/hostname`, then
# `bin/podnetctl lab down`).
#   PODNET_DEMO_LAB=NAME      lab name (default podnet)          PODNETCTL=CMD   podnetctl to run (default bin/podnetctl)
#   PODNET_DEMO_NO_SETUP=1    skip scripts/setup.sh (already done)
set -euo pipefail
cd "$(dirname "$0")/.."
keep=0
[ "${1:-}" = "--keep" ] && keep=1
lab=${PODNET_DEMO_LAB:-podnet}
read -r -a ctl <<< "${PODNETCTL:-bin/podnetctl}"
store="file:${PODNET_LAB_DIR:-/run/podnet-lab}/$lab/store"
[ "${PODNET_DEMO_NO_SETUP:-0}" = 1 ] || bash scripts/setup.sh

podnetctl() { "${ctl[@]}" "$@"; }
kubectl() { podnetctl "$@" --store "$store"; }
in_lab() { podnetctl lab exec --name "$lab" "$@"; }
fails=0
ok() { printf '  ok    %s\n' "$*"; }
fail() { printf '  FAIL  %s\n' "$*"; fails=$((fails + 1)); }
# retry N CMD...: CMD until it succeeds, at most N tries a second apart (the first answers may race a sync);
# prints the output of the last try only.
retry() {
  local n=$1 out=''; shift
  for ((i = 1; i <= n; i++)); do
    if out=$("$@" 2>/dev/null); then printf '%s' "$out"; return 0; fi
    sleep 1
  done
  printf '%s' "$out"; return 1
}
# svc_field PATH: a field of Service web, e.g. spec.clusterIP.
svc_field() {
  kubectl get svc web -o json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{let v=JSON.parse(s);
    for (const k of process.argv[1].split(".")) v=v?.[/^\d+$/.test(k)?Number(k):k]; process.stdout.write(v===undefined?"":String(v))})' "$1"
}
pod_ip() { kubectl get pod "$1" -o json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>process.stdout.write(JSON.parse(s).status?.podIP??""))'; }

if [ $keep = 0 ]; then trap 'podnetctl lab down --name "$lab" >/dev/null 2>&1 || true' EXIT; fi
podnetctl lab up --name "$lab" --nodes 3 --routing vxlan
kubectl apply -f deploy/lab-demo.yaml

echo; echo "waiting for the web pods to be Ready and for the Service's addresses (at most 90 s)..."
ready() {
  [ "$(kubectl get pods -o wide | grep -c ' 1/1 .*Running')" = 3 ] && [ -n "$(svc_field status.loadBalancer.ingress.0.ip)" ] &&
    [ -n "$(svc_field spec.ports.0.nodePort)" ]
}
if retry 90 ready >/dev/null; then ok "3 web pods Ready, Service web has its ClusterIP, NodePort and LB IP"; else fail "pods or Service web not ready within 90 s"; fi
kubectl get pods -o wide
kubectl get svc -A -o wide
podnetctl lb status --store "$store" || true

cip=$(svc_field spec.clusterIP || true); np=$(svc_field spec.ports.0.nodePort || true); lbip=$(svc_field status.loadBalancer.ingress.0.ip || true)
node1=198.18.0.11
echo; echo "checks:"

seen=$(in_lab web-1 -- sh -c 'for i in $(seq 12); do curl -s --max-time 2 "http://$0/hostname"; echo; done' "$cip" | grep . | sort -u | tr '\n' ' ' || true)
if [ "$(echo "$seen" | wc -w)" -ge 2 ]; then ok "ClusterIP $cip:80 from pod web-1 (12 requests) answered by: $seen"
else fail "ClusterIP $cip:80 from pod web-1 answered by: '${seen}' (expected several backends)"; fi

if out=$(retry 10 in_lab web-1 -- dig +short +time=2 +tries=1 @10.96.0.10 web.default.svc.cluster.local) && [ "$out" = "$cip" ]; then
  ok "dig @10.96.0.10 web.default.svc.cluster.local from pod web-1: $out"
else fail "dig @10.96.0.10 web.default.svc.cluster.local from pod web-1: '${out:-no answer}' (expected $cip)"; fi

if out=$(retry 10 in_lab web-2 -- getent hosts web) && [ "$(echo "$out" | awk '{print $1}')" = "$cip" ]; then
  ok "getent hosts web from pod web-2 (resolv.conf: nameserver 10.96.0.10, search default.svc.cluster.local ...): $out"
else fail "getent hosts web from pod web-2: '${out:-no answer}' (expected $cip)"; fi

if out=$(retry 10 in_lab web-3 -- curl -sf --max-time 3 http://web/hostname); then ok "curl http://web/hostname from pod web-3 (by name): $out"
else fail "curl http://web/hostname from pod web-3 failed"; fi

if out=$(retry 10 in_lab client -- curl -sf --max-time 3 "http://$node1:$np/hostname"); then ok "NodePort $node1:$np from the client namespace: $out"
else fail "NodePort $node1:$np from the client namespace did not answer"; fi

if out=$(retry 15 in_lab client -- curl -sf --max-time 3 "http://$lbip/hostname"); then
  mac=$(in_lab client -- arping -c 1 -w 3 -i eth0 "$lbip" 2>/dev/null | grep -o 'from [0-9a-f:]*' | head -1 || true)
  ok "LB IP $lbip:80 from the client namespace: $out (ARP answered ${mac:-?})"
else fail "LB IP ${lbip:-<none>}:80 from the client namespace did not answer"; fi

ip2=$(pod_ip web-2 || true); ip3=$(pod_ip web-3 || true)
if out=$(retry 10 in_lab web-1 -- curl -sf --max-time 3 "http://$ip2:8080/hostname") && [ "$out" = web-2 ] &&
   out3=$(retry 10 in_lab web-2 -- curl -sf --max-time 3 "http://$ip3:8080/hostname") && [ "$out3" = web-3 ]; then
  ok "pods on different nodes: web-1 (n1) → $ip2 answered $out, web-2 (n2) → $ip3 answered $out3"
else fail "pods on different nodes: web-1 → web-2 ($ip2) or web-2 → web-3 ($ip3) failed"; fi

echo
if [ $fails = 0 ]; then echo "demo: all checks ok"; else echo "demo: $fails check(s) FAILED (logs: ${PODNET_LAB_DIR:-/run/podnet-lab}/$lab/logs)"; fi
if [ $keep = 1 ]; then echo "the lab is up; remove it with: ${ctl[*]} lab down --name $lab"; fi
[ $fails = 0 ]
