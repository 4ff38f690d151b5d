/**
 * Bounded fuzzing (seeded, reproducible): mutated real messages and random bytes must never make the decoder
 * throw; every rejection names a NOTIFICATION code of RFC 4271; every acceptance re-encodes.
 */
import test from 'ava';
import { decodeMessage, encodeOpen, encodeUpdate, MessageFramer, frame } from '../../../src/bgp/messages.ts';
import { emptyCapabilities } from '../../../src/bgp/capabilities.ts';
import { encodeUpdateBody } from '../../../src/bgp/updateMessage.ts';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = s;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 2 ** 32;
  };
}

const seeds: Uint8Array[] = [
  encodeOpen({ asn: 4200000001, holdTime: 90, routerId: '10.0.0.1', capabilities: { ...emptyCapabilities(), multiprotocol: [{ afi: 1, safi: 1 }, { afi: 2, safi: 1 }], routeRefresh: true, gracefulRestart: { restarting: false, notification: false, restartTime: 120, families: [{ afi: 1, safi: 1, forwarding: true }] } } }),
  encodeUpdate({ withdrawn: ['10.9.0.0/16'], attributes: { origin: 0, asPath: [{ type: 2, asns: [65001, 65002] }, { type: 1, asns: [1, 2] }], nextHop: '192.0.2.1', med: 5, localPref: 100, communities: [1, 2], largeCommunities: [[1, 2, 3]], aggregator: { asn: 7, address: '1.2.3.4' }, unknown: [{ flags: 0xc0, type: 99, value: new Uint8Array([1]) }] }, nlri: ['10.1.0.0/24', '10.2.0.0/23'] }, { fourOctetAs: true }),
  encodeUpdate({ withdrawn: [], attributes: { origin: 0, asPath: [], mpReach: { afi: 2, safi: 1, nextHops: ['2001:db8::1', 'fe80::1'], nlri: ['2001:db8:1::/48'] }, mpUnreach: { afi: 2, safi: 1, withdrawn: ['2001:db8:2::/48'] } }, nlri: [] }, { fourOctetAs: true }),
];

function mutate(r: () => number, src: Uint8Array): Uint8Array {
  const b = Array.from(src);
  const n = 1 + Math.floor(r() * 4);
  for (let i = 0; i < n; i++) {
    const op = r();
    // Leave the header alone most of the time so mutations reach the body parsers.
    const pos = 19 + Math.floor(r() * Math.max(1, b.length - 19));
    if (op < 0.5) b[pos] = Math.floor(r() * 256);
    else if (op < 0.7) b.splice(pos, 1);
    else if (op < 0.85) b.splice(pos, 0, Math.floor(r() * 256));
    else b[pos] = b[pos]! ^ (1 << Math.floor(r() * 8));
  }
  const out = Uint8Array.from(b);
  if (r() < 0.9 && out.length >= 19) { out[16] = out.length >> 8; out[17] = out.length & 0xff; }
  return out;
}

for (const ctx of [{ fourOctetAs: true, external: true }, { fourOctetAs: false, external: false }]) {
  test(`20,000 mutated messages never throw (fourOctetAs=${ctx.fourOctetAs})`, (t) => {
    const r = rng(ctx.fourOctetAs ? 7 : 11);
    let accepted = 0, rejected = 0;
    for (let i = 0; i < 20_000; i++) {
      const bytes = mutate(r, seeds[i % seeds.length]!);
      const res = decodeMessage(bytes, ctx);
      if (res.ok) {
        accepted++;
        if (res.message.type === 'update') encodeUpdateBody(res.message.update.message, { fourOctetAs: ctx.fourOctetAs });
      } else {
        rejected++;
        if (res.error.code < 1 || res.error.code > 7) t.fail(`code ${res.error.code}`);
      }
    }
    t.true(accepted > 0 && rejected > 0, `accepted ${accepted}, rejected ${rejected}`);
  });
}

test('random byte streams through the framer never throw', (t) => {
  const r = rng(3);
  for (let i = 0; i < 2_000; i++) {
    const f = new MessageFramer();
    const len = Math.floor(r() * 200);
    const junk = Uint8Array.from({ length: len }, () => Math.floor(r() * 256));
    const prefix = r() < 0.5 ? frame(4, new Uint8Array(0)) : new Uint8Array(0);
    const { messages } = f.push(Uint8Array.from([...prefix, ...junk]));
    for (const m of messages) decodeMessage(m, { fourOctetAs: true, external: true });
  }
  t.pass();
});
