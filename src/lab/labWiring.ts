/**
 * @module lab/labWiring — the lab's kernel state as plain data, and the narrow interface that applies it.
 *
 * `wiringFor(plan)` is pure: per namespace, which bridges and veths exist, which addresses, routes and sysctls.
 * A `LabWiring` applies it. Today that is iproute2 (`iprouteWiring.ts`, one `ip -n NS -batch` per namespace);
 * the netlink library (src/netlink/) can replace it behind the same interface without the lab changing.
 */
import type { LabPlan } from './addressPlan.ts';

export interface VethSpec {
  /** Name of this end, in the namespace being wired. */
  name: string;
  /** Bridge this end is enslaved to. */
  master: string;
  /** The other end: created directly in `ns` under `name` (it never exists in the root namespace). */
  peer: { name: string; ns: string };
}

export interface RouteSpec {
  dst: string;
  via: string;
}

export interface AddressSpec {
  dev: string;
  cidr: string;
  /** IPv6: skip duplicate address detection, so the address is usable at once (the plan makes them unique). */
  nodad?: boolean;
}

export interface NamespaceWiring {
  ns: string;
  bridges: Array<{ name: string }>;
  veths: VethSpec[];
  addresses: AddressSpec[];
  /** Links set up, in order (lo first). */
  linksUp: string[];
  routes: RouteSpec[];
  /** Set before the links are created or brought up, so per-link defaults (accept_dad) apply to them. */
  sysctls: Record<string, string>;
}

/** Applies and inspects lab namespaces. Every method refuses a namespace that is not the lab's. */
export interface LabWiring {
  addNamespaces(names: readonly string[]): Promise<void>;
  /** Create links, addresses, routes and sysctls of one namespace (which exists). */
  wire(w: NamespaceWiring): Promise<void>;
  /** Delete namespaces; a missing one is not an error. */
  deleteNamespaces(names: readonly string[]): Promise<void>;
  /** All namespaces on the machine (names only); the caller filters by prefix. */
  listNamespaces(): Promise<string[]>;
  /** PIDs of the processes whose network namespace is `ns`. */
  pidsIn(ns: string): Promise<number[]>;
  /** Global IPv4 and IPv6 addresses (`addr/len`) on `dev` inside `ns`; empty when the link is missing. */
  addressesOf(ns: string, dev: string): Promise<string[]>;
}

/** Forwarding on for both families: nodes route pod traffic, the router routes the underlay. */
const FORWARDING = { 'net.ipv4.ip_forward': '1', 'net.ipv6.conf.all.forwarding': '1' };

/**
 * No duplicate address detection anywhere in the lab: the plan hands out unique addresses, and DAD would keep the
 * link-local addresses tentative for up to two seconds after `lab up`, during which IPv6 across the router fails.
 * `default` covers links created later in the namespace (bridges, veths, pod interfaces on a node).
 */
function noDad(devs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = { 'net.ipv6.conf.all.accept_dad': '0', 'net.ipv6.conf.default.accept_dad': '0' };
  for (const d of devs) out[`net.ipv6.conf.${d}.accept_dad`] = '0';
  return out;
}

function fabricWiring(plan: LabPlan): NamespaceWiring {
  const veths: VethSpec[] = [];
  for (const h of plan.hosts) {
    for (const i of h.interfaces) veths.push({ name: i.fabricPort, master: i.bridge, peer: { name: i.dev, ns: h.ns } });
  }
  const f = plan.fabricAddress;
  const addresses: AddressSpec[] = f
    ? [{ dev: f.bridge, cidr: `${f.address}/${f.prefixLen}` }, { dev: f.bridge, cidr: `${f.address6}/${f.prefixLen6}`, nodad: true }]
    : [];
  return {
    ns: plan.fabricNs,
    bridges: plan.segments.map((s) => ({ name: s.bridge })),
    veths,
    addresses,
    linksUp: ['lo', ...plan.segments.map((s) => s.bridge), ...veths.map((v) => v.name)],
    routes: [],
    sysctls: noDad([]),
  };
}

/** Fabric first: its veths create the host ends inside the host namespaces, which the host wirings then address. */
export function wiringFor(plan: LabPlan): NamespaceWiring[] {
  const hosts = plan.hosts.map((h): NamespaceWiring => ({
    ns: h.ns,
    bridges: [],
    veths: [],
    addresses: h.interfaces.flatMap((i): AddressSpec[] => [{ dev: i.dev, cidr: `${i.address}/${i.prefixLen}` },
      { dev: i.dev, cidr: `${i.address6}/${i.prefixLen6}`, nodad: true }]),
    linksUp: ['lo', ...h.interfaces.map((i) => i.dev)],
    routes: [...(h.gateway ? [{ dst: 'default', via: h.gateway }] : []),
      ...(h.gateway6 ? [{ dst: '::/0', via: h.gateway6 }] : [])],
    sysctls: { ...noDad(h.interfaces.map((i) => i.dev)), ...(h.forwarding ? FORWARDING : {}) },
  }));
  return [fabricWiring(plan), ...hosts];
}
