/**
 * Names of podnet's nftables objects. Chains carry a stable hash (so two ports never collide and a diff compares
 * names, not contents) plus a readable tail (so `nft list table` explains itself), like kube-proxy's
 * `service-<HASH>-ns/name/proto/port`. nft identifiers may contain `/ - _ .` but not `:`, so IPv6 colons become dots.
 */
import type { ServicePortView, EndpointTarget } from '../serviceModel.ts';

export const TABLE = 'podnet-proxy';
/** Bit 14, like kube-proxy (0x4000): "masquerade this packet in postrouting". Not public API. */
export const MASQ_MARK = '0x4000';

/**
 * FNV-1a, 32 bits, as 8 hex digits. Not cryptographic and need not be: the readable tail already identifies the
 * object, the hash only keeps names distinct when tails are ambiguous. sha256 cost ~1 s of allocation and GC per
 * 100,000 endpoints (measured), this costs nothing.
 */
export function shortHash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).toUpperCase().padStart(8, '0');
}

function readable(p: ServicePortView): string {
  return `${p.namespace}/${p.name}/${p.protocol.toLowerCase()}/${p.portName || p.port}`;
}

export function serviceChain(p: ServicePortView): string {
  return `svc-${shortHash(p.id)}-${readable(p)}`;
}
export function externalChain(p: ServicePortView): string {
  return `ext-${shortHash(p.id)}-${readable(p)}`;
}
export function firewallChain(p: ServicePortView): string {
  return `fw-${shortHash(p.id)}-${readable(p)}`;
}
export function endpointChain(p: ServicePortView, e: EndpointTarget): string {
  const ip = e.ip.replaceAll(':', '.');
  return `ep-${shortHash(`${p.id}|${e.ip}|${e.port}`)}-${readable(p)}__${ip}/${e.port}`;
}
/** Endpoint dispatch map of a port (nftDispatchMaps); `ext` is the ETP Local external set. */
export function dispatchMapName(p: ServicePortView, role: 'int' | 'ext'): string {
  return `eps-${shortHash(`${p.id}|${role}`)}-${readable(p)}/${role}`;
}
/** One dynamic set per endpoint (kube-proxy's semantics); the timeout is part of the name so a change recreates it. */
export function affinitySet(p: ServicePortView, e: EndpointTarget): string {
  return `aff-${shortHash(`${p.id}|${e.ip}|${e.port}|${p.affinitySeconds}`)}`;
}
