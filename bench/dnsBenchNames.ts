/** The names and addresses bench/dns serves, shared by our server, dnsmasq's config and the query file. */
export function benchServiceName(i: number): string {
  return `svc-${i}.bench.svc.cluster.local`;
}

export function benchServiceIp(i: number): string {
  return `10.96.${Math.floor(i / 250)}.${(i % 250) + 1}`;
}
