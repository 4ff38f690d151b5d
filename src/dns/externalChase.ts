/**
 * @module dns/externalChase — completes an ExternalName answer whose target lies outside the zone: asks the
 * upstreams for the target (through the forward cache) and appends their records after our CNAME, the way CoreDNS
 * resolves external CNAME targets. Cold path, so dns-packet does the decoding; TC from the upstream is kept
 * (coredns#4684) so the client retries over TCP.
 */
import dnsPacket from 'dns-packet';
import type { ForwardCache } from './forwardCache.ts';
import type { UpstreamForwarder } from './upstreamForwarder.ts';
import { RRType, Rcode, typeName, type ResourceRecord, type Resolution } from './rrTypes.ts';
import { normalizeName } from './dnsNames.ts';

export interface ChaseResult { resolution: Resolution; truncated: boolean }

function toRecord(a: dnsPacket.Answer): ResourceRecord | null {
  const name = normalizeName(a.name);
  const ttl = 'ttl' in a && typeof a.ttl === 'number' ? a.ttl : 0;
  if (a.type === 'A' && typeof a.data === 'string') return { name, ttl, data: { type: RRType.A, address: a.data } };
  if (a.type === 'AAAA' && typeof a.data === 'string') return { name, ttl, data: { type: RRType.AAAA, address: a.data } };
  if (a.type === 'CNAME' && typeof a.data === 'string') return { name, ttl, data: { type: RRType.CNAME, target: normalizeName(a.data) } };
  return null;
}

export async function chaseExternal(
  base: Resolution, target: string, qtype: number,
  deps: { forwarder: UpstreamForwarder | null; cache: ForwardCache },
): Promise<ChaseResult> {
  if (!deps.forwarder || (qtype !== RRType.A && qtype !== RRType.AAAA)) return { resolution: base, truncated: false };
  const key = `${target}/${qtype}/1/00`;
  let response = deps.cache.lookup(key);
  if (!response) {
    const query = dnsPacket.encode({
      type: 'query', id: 0, flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ type: typeName(qtype) as dnsPacket.RecordType, name: target, class: 'IN' }],
    });
    let out = await deps.forwarder.forward(Buffer.from(query), false);
    if (out.ok && (out.response[2]! & 0x02)) out = await deps.forwarder.forward(Buffer.from(query), true);
    if (!out.ok) return { resolution: { ...base, rcode: Rcode.SERVFAIL }, truncated: false };
    response = out.response;
    deps.cache.store(key, response);
  }
  let decoded: dnsPacket.Packet;
  try {
    decoded = dnsPacket.decode(response);
  } catch {
    return { resolution: { ...base, rcode: Rcode.SERVFAIL }, truncated: false };
  }
  const extra = (decoded.answers ?? []).map(toRecord).filter((r): r is ResourceRecord => r !== null);
  const rcode = response[3]! & 0xf;
  return {
    resolution: { ...base, rcode, answer: [...base.answer, ...extra] },
    truncated: (response[2]! & 0x02) !== 0,
  };
}
