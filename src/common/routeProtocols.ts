/**
 * @module common/routeProtocols — the `rtm_protocol` numbers on the routes podnet installs, in one table.
 *
 * Each subsystem that installs routes has its own number, so its applier lists and diffs only its own routes and
 * can never delete another's (a BGP resync pruning the CNI's pod routes would cut pods off). All three are unassigned
 * in /etc/iproute2/rt_protos and clear of the routing daemons' numbers there (zebra 11, bird 12, bgp 186-192);
 * Calico's felix uses 80. `ip route show proto 157` shows what the overlay made.
 */
export const ROUTE_PROTO = {
  /** Routes to other nodes' pod CIDRs: vxlan / host-gw / cross-subnet (src/routing). */
  routing: 157,
  /** Per-pod host routes the CNI plugin adds on the node (src/cni). */
  cni: 158,
  /** Routes learned over BGP (src/bgp). */
  bgp: 159,
} as const;
