/**
 * The nf_tables netlink encoding of an incremental transaction, compared attribute by attribute with what
 * `nft -f` (1.0.6) sent for the very same change (captured with strace: testdata/nft-netlink-captures.json).
 * The only differences allowed are the ones that are not content: nft's transaction ids of sets it already
 * knows (NFTA_SET_ELEM_LIST_SET_ID, NFTA_LOOKUP_SET_ID, NFTA_DYNSET_SET_ID; podnet names sets instead), sequence
 * numbers, and the ACK podnet asks for on the last operation; and nft 1.0.6 sends the elements of an interval map
 * created in the same transaction twice (identical NEWSETELEM messages; the second adds nothing), podnet once.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { compileServiceModel } from '../../../src/services/serviceModel.ts';
import { planNftables, emptyDesired, type NftDesired } from '../../../src/services/nftables/nftPlanner.ts';
import { renderIncremental } from '../../../src/services/nftables/nftTransaction.ts';
import { planNetlinkIncremental, encodeElementKey } from '../../../src/services/nftables/nftNetlinkTransaction.ts';
import { encodeNftBatch, ELEMENTS_PER_MESSAGE } from '../../../src/netlink/nftables/nftMessages.ts';
import { decodeNfnlBatch, decodeAttrTree, formatAttrTree, type NfnlMessageView, type NlAttrNode } from '../../../src/netlink/nftables/nfnlTree.ts';
import { verdictTargets } from '../../../src/netlink/nftables/nftRuleDump.ts';
import { compileRule } from '../../../src/services/nftables/nftRuleCompiler.ts';
import { decodeMessages } from '../../../src/netlink/codec.ts';
import { svc, slice } from './_modelFixtures.ts';
import { before, after, NODE, OPTS, tcp, web, e } from './_netlinkCaptureStates.ts';
import { dispatchMapFor, dispatchRule } from '../../../src/services/nftables/nftDispatchMaps.ts';

const captures = JSON.parse(readFileSync(new URL('testdata/nft-netlink-captures.json', import.meta.url), 'utf8')) as
  Record<'forward' | 'backward' | 'ip6Map', { script: string; batch: string }> & { dispatchMapNewSet: { batches: Record<string, string> } };


const NEWRULE = 6;
const NEWSETELEM = 12;
const DELSETELEM = 14;

function text(b: Uint8Array): string {
  return new TextDecoder().decode(b);
}

/** Drop nft's set transaction ids (attribute numbers per kernel header) from a message's tree. */
function withoutSetIds(m: NfnlMessageView): NlAttrNode[] {
  if (m.msg === NEWSETELEM || m.msg === DELSETELEM) return m.attrs.filter((a) => a.type !== 4);
  if (m.msg !== NEWRULE) return m.attrs;
  return m.attrs.map((a) => (a.type !== 4 ? a : { ...a, nested: a.nested!.map((expr) => {
    const name = text(Buffer.from(expr.nested!.find((x) => x.type === 1)!.hex!, 'hex')).replace(/\0$/, '');
    const idAttr = name === 'lookup' ? 4 : name === 'dynset' ? 2 : -1;
    return { ...expr, nested: expr.nested!.map((x) => (x.type === 2 ? { ...x, nested: x.nested!.filter((d) => d.type !== idAttr) } : x)) };
  }) }));
}

function comparable(batch: Uint8Array, dropRepeatedElements = false): string[] {
  const out = decodeNfnlBatch(batch).map((m) => `${m.subsys}:${m.msg} family=${m.family} res_id=${m.resId} flags=0x${(m.flags & ~0x4).toString(16)}\n${formatAttrTree(withoutSetIds(m))}`);
  return dropRepeatedElements ? out.filter((m, i) => !m.startsWith(`10:${NEWSETELEM} `) || out.indexOf(m) === i) : out;
}

for (const [name, from, to] of [['forward', before, after], ['backward', after, before]] as const) {
  test(`${name}: every message equals what nft -f sent for the same change, attribute by attribute`, (t) => {
    t.is(renderIncremental(from, to).text, captures[name].script, 'the capture was made from this very transaction');
    const tx = planNetlinkIncremental(from, to);
    if (!tx) return t.fail('expressible on the netlink path');
    const ours = comparable(encodeNftBatch({ family: 2, table: 'podnet-proxy', ops: tx.ops, seq: 0 }).bytes);
    const theirs = comparable(Buffer.from(captures[name].batch, 'hex'), true);
    t.is(ours.length, theirs.length, 'same number of messages');
    ours.forEach((m, i) => t.is(m, theirs[i], `message ${i}`));
  });
}

test('framing: batch begin/end carry the subsystem, sequence numbers follow, only the last operation asks for an ACK', (t) => {
  const tx = planNetlinkIncremental(before, after)!;
  const enc = encodeNftBatch({ family: 2, table: 'podnet-proxy', ops: tx.ops, seq: 100 });
  const msgs = decodeNfnlBatch(enc.bytes);
  t.deepEqual([msgs[0]!.msg, msgs[0]!.subsys, msgs[0]!.resId], [16, 0, 10], 'NFNL_MSG_BATCH_BEGIN, res_id NFNL_SUBSYS_NFTABLES');
  t.deepEqual([msgs.at(-1)!.msg, msgs.at(-1)!.resId], [17, 10], 'NFNL_MSG_BATCH_END');
  t.deepEqual(msgs.map((m) => m.seq), msgs.map((_, i) => 100 + i));
  t.deepEqual(msgs.map((m) => (m.flags & 4) !== 0), msgs.map((_, i) => i === msgs.length - 2));
  t.is(enc.lastSeq, 100 + msgs.length - 2);
  t.regex(enc.describe(enc.lastSeq), /hairpin-pairs/);
  t.regex(enc.describe(100), /committing/);
});

test('many elements are split into messages the 64 KiB attribute limit allows', (t) => {
  const elems = Array.from({ length: 1000 }, (_, i) => ({ key: encodeElementKey(`10.96.${i >> 8}.${i & 255} . tcp . 80`), verdict: { kind: 'goto' as const, chain: `svc-${i}` } }));
  const msgs = decodeNfnlBatch(encodeNftBatch({ family: 2, table: 't', ops: [{ op: 'newElems', set: 'service-ips', elems }], seq: 1 }).bytes);
  t.is(msgs.length, 2 + Math.ceil(1000 / ELEMENTS_PER_MESSAGE));
  t.true(msgs.slice(1, -1).every((m) => m.msg === NEWSETELEM));
});

test('element keys: concatenations padded to 4 bytes per component, IPv6 addresses whole', (t) => {
  t.is(Buffer.from(encodeElementKey('10.96.0.30 . udp . 53')).toString('hex'), '0a60001e1100000000350000');
  t.is(Buffer.from(encodeElementKey('tcp . 30090')).toString('hex'), '06000000758a0000');
  t.is(Buffer.from(encodeElementKey('fd00::1 . fd00::1')).toString('hex'), 'fd000000000000000000000000000001'.repeat(2));
  t.is(Buffer.from(encodeElementKey('10.244.1.3')).toString('hex'), '0af40103');
});

test('a change the netlink path cannot express (a firewall chain anonymous set, cluster-cidrs) is left to nft -f', (t) => {
  const fw = svc('fw', { type: 'LoadBalancer', clusterIP: '10.96.0.50', loadBalancerSourceRanges: ['192.0.2.0/24'], ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080, nodePort: 30100 }] },
    { status: { loadBalancer: { ingress: [{ ip: '198.51.100.8' }] } } });
  const withFw = planNftables(compileServiceModel({ services: [web, fw], slices: [slice('web', [e('10.244.1.2')], { ports: tcp }), slice('fw', [e('10.244.5.2')], { ports: tcp })], node: NODE }), 'ip', OPTS);
  const base = planNftables(compileServiceModel({ services: [web], slices: [slice('web', [e('10.244.1.2')], { ports: tcp })], node: NODE }), 'ip', OPTS);
  t.is(planNetlinkIncremental(base, withFw), null, 'new firewall chain: nft -f');
  const cidrs: NftDesired = { ...base, sets: { ...base.sets, 'cluster-cidrs': new Set(['10.245.0.0/16']) } };
  t.is(planNetlinkIncremental(base, cidrs), null, 'interval set: nft -f');
  t.deepEqual(planNetlinkIncremental(base, base)!.ops, [], 'nothing changed: no operation');
  const noCidrs = { ...base, sets: { ...base.sets, 'cluster-cidrs': new Set<string>() } };
  t.truthy(planNetlinkIncremental({ ...emptyDesired('ip'), sets: { ...emptyDesired('ip').sets, 'cluster-cidrs': base.sets['cluster-cidrs'] } }, base), 'everything else is expressible');
  t.is(planNetlinkIncremental(noCidrs, base), null);
});

/** The kernel's dump replies do not set NLA_F_NESTED: clear it everywhere, as a GETRULE reply would carry it. */
function withoutNestedFlags(b: Uint8Array): Uint8Array {
  const out = b.slice();
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const walk = (start: number, end: number): void => {
    for (let off = start; end - off >= 4;) {
      const len = view.getUint16(off, true);
      const type = view.getUint16(off + 2, true);
      if (type & 0x8000) {
        view.setUint16(off + 2, type & 0x7fff, true);
        walk(off + 4, off + len);
      }
      off += (len + 3) & ~3;
    }
  };
  walk(0, out.length);
  return out;
}

test('drift check: verdict targets are read from a rule as the kernel dumps it (no nested flags)', (t) => {
  const exprs = compileRule('ip', 'ip daddr 10.96.0.10 tcp dport 80 jump services');
  const msgs = decodeMessages(encodeNftBatch({ family: 2, table: 'podnet-proxy', ops: [{ op: 'newRule', chain: 'nat-prerouting', exprs }], seq: 1 }).bytes);
  const rule = withoutNestedFlags(msgs[1]!.payload.subarray(4));
  t.deepEqual(verdictTargets(decodeAttrTree(rule)), ['services']);
  const none = withoutNestedFlags(decodeMessages(encodeNftBatch({ family: 2, table: 't', ops: [{ op: 'newRule', chain: 'c', exprs: compileRule('ip', 'meta l4proto tcp dnat to 10.0.0.1:80') }], seq: 1 }).bytes)[1]!.payload.subarray(4));
  t.deepEqual(verdictTargets(decodeAttrTree(none)), [], 'a DNAT rule has no verdict target');
});

test('dispatch maps: NEWSET (typeof userdata included) equals nft for every family and protocol', (t) => {
  for (const [key, batch] of Object.entries(captures.dispatchMapNewSet.batches)) {
    const [family, proto] = key.split('/') as ['ip' | 'ip6', string];
    const next = { ...emptyDesired(family), dispatchMaps: new Map([['m', { proto, elements: new Map<string, string>() }]]) };
    const ops = planNetlinkIncremental(emptyDesired(family), next)!.ops;
    const ours = comparable(encodeNftBatch({ family: family === 'ip' ? 2 : 10, table: 't', ops, seq: 0 }).bytes);
    const theirs = comparable(Buffer.from(batch, 'hex')).filter((m) => m.startsWith('10:9 '));
    t.is(ours[1], theirs[0], key);
  }
});

test('dispatch maps, IPv6/UDP: the map, its interval elements and the `dnat ip6 to … map` rule equal what nft sent', (t) => {
  const m = dispatchMapFor('udp', [{ ip: 'fd00::1', port: 53, isLocal: true }]);
  const next = { ...emptyDesired('ip6'), dispatchMaps: new Map([['eps-b', m]]), chains: new Map([['svc', [dispatchRule('ip6', 'udp', 'eps-b')]]]) };
  const ops = planNetlinkIncremental(emptyDesired('ip6'), next)!.ops;
  t.deepEqual(ops.map((o) => o.op), ['newMap', 'newElems', 'newChain', 'newRule']);
  const ours = comparable(encodeNftBatch({ family: 10, table: 't', ops, seq: 0 }).bytes).slice(1, -1);
  const theirs = comparable(Buffer.from(captures.ip6Map.batch, 'hex'), true).filter((x) => !x.startsWith('10:0 ')).slice(1, -1);
  t.deepEqual(ours, theirs);
});

test('dispatch maps: N endpoints split the key space into N near-equal ranges, an endpoint change touches elements only', (t) => {
  const targets = (n: number) => Array.from({ length: n }, (_, i) => ({ ip: `10.244.0.${i + 1}`, port: 8080, isLocal: true }));
  for (const n of [1, 2, 3, 7, 10, 1000]) {
    const sizes = [...dispatchMapFor('tcp', targets(n)).elements.keys()].map((r) => { const [lo, hi] = r.split('-').map(Number); return hi! - lo! + 1; });
    t.is(sizes.reduce((a, b) => a + b, 0), 65536, `${n}: the whole key space`);
    t.true(Math.max(...sizes) - Math.min(...sizes) <= 1, `${n}: near-equal`);
  }
  const d = (n: number) => ({ ...emptyDesired('ip'), dispatchMaps: new Map([['eps-x', dispatchMapFor('tcp', targets(n))]]) });
  for (const [from, to] of [[10, 11], [10, 9]] as const) {
    const ops = planNetlinkIncremental(d(from), d(to))!.ops;
    t.deepEqual(ops.map((o) => o.op), ['delElems', 'newElems'], `${from} → ${to}`);
  }
  const replaced = d(10);
  replaced.dispatchMaps.set('eps-x', dispatchMapFor('tcp', targets(10).map((x, i) => (i === 4 ? { ...x, ip: '10.244.9.9' } : x))));
  const ops = planNetlinkIncremental(d(10), replaced)!.ops;
  t.deepEqual(ops.map((o) => [o.op, 'elems' in o ? o.elems.length : 0]), [['delElems', 2], ['newElems', 2]], 'one endpoint replaced: one range (start and end element) out, one in');
});
