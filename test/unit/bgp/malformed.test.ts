/** RFC 7606 revised error handling and RFC 4271 6 header/OPEN errors, one malformation per row. */
import test from 'ava';
import { decodeMessage, frame, MessageFramer } from '../../../src/bgp/messages.ts';
import { routeChanges } from '../../../src/bgp/updateMessage.ts';

const ctx = { fourOctetAs: true, external: true };
const attr = (flags: number, type: number, value: number[]) => [flags, type, value.length, ...value];
const ORIGIN = attr(0x40, 1, [0]);
const AS_PATH = attr(0x40, 2, [2, 1, 0, 0, 0xfd, 0xe9]);
const NEXT_HOP = attr(0x40, 3, [192, 0, 2, 1]);
const NLRI = [24, 10, 1, 0];

function update(attrs: number[], nlri = NLRI, withdrawn: number[] = []): Uint8Array {
  return frame(2, Uint8Array.from([withdrawn.length >> 8, withdrawn.length & 255, ...withdrawn, attrs.length >> 8, attrs.length & 255, ...attrs, ...nlri]));
}

function outcome(bytes: Uint8Array) {
  const r = decodeMessage(bytes, ctx);
  if (!r.ok) return { kind: 'reset' as const, code: r.error.code, subcode: r.error.subcode };
  if (r.message.type !== 'update') throw new Error('not an update');
  const u = r.message.update;
  return { kind: u.withdrawReasons.length ? ('withdraw' as const) : ('ok' as const), discarded: u.discarded.length, changes: routeChanges(u) };
}

test('a well-formed UPDATE is accepted', (t) => {
  t.like(outcome(update([...ORIGIN, ...AS_PATH, ...NEXT_HOP])), { kind: 'ok', discarded: 0 });
});

const treatAsWithdraw: Array<[string, number[]]> = [
  ['ORIGIN value 3', [...attr(0x40, 1, [3]), ...AS_PATH, ...NEXT_HOP]],
  ['ORIGIN length 2', [...attr(0x40, 1, [0, 0]), ...AS_PATH, ...NEXT_HOP]],
  ['AS_PATH segment overruns', [...ORIGIN, ...attr(0x40, 2, [2, 3, 0, 0, 0xfd, 0xe9]), ...NEXT_HOP]],
  ['AS_PATH segment type 7', [...ORIGIN, ...attr(0x40, 2, [7, 1, 0, 0, 0xfd, 0xe9]), ...NEXT_HOP]],
  ['NEXT_HOP length 5', [...ORIGIN, ...AS_PATH, ...attr(0x40, 3, [192, 0, 2, 1, 0])]],
  ['NEXT_HOP 0.0.0.0', [...ORIGIN, ...AS_PATH, ...attr(0x40, 3, [0, 0, 0, 0])]],
  ['MED length 3', [...ORIGIN, ...AS_PATH, ...NEXT_HOP, ...attr(0x80, 4, [0, 0, 1])]],
  ['COMMUNITIES length 6', [...ORIGIN, ...AS_PATH, ...NEXT_HOP, ...attr(0xc0, 8, [0, 0, 0, 1, 0, 2])]],
  ['LARGE_COMMUNITY length 8', [...ORIGIN, ...AS_PATH, ...NEXT_HOP, ...attr(0xc0, 32, [0, 0, 0, 1, 0, 0, 0, 2])]],
  ['ORIGIN flagged optional', [...attr(0xc0, 1, [0]), ...AS_PATH, ...NEXT_HOP]],
  ['missing NEXT_HOP', [...ORIGIN, ...AS_PATH]],
  ['missing AS_PATH', [...ORIGIN, ...NEXT_HOP]],
  ['attribute length runs past the attribute field', [...ORIGIN, ...AS_PATH, ...NEXT_HOP, 0x80, 4, 9, 0, 0]],
];

for (const [name, attrs] of treatAsWithdraw) {
  test(`treat-as-withdraw: ${name}`, (t) => {
    const o = outcome(update(attrs));
    t.is(o.kind, 'withdraw');
    if (o.kind === 'withdraw') {
      t.deepEqual(o.changes.announced, []);
      t.deepEqual(o.changes.withdrawn, ['10.1.0.0/24'], 'the announced prefix counts as withdrawn');
    }
  });
}

const discard: Array<[string, number[]]> = [
  ['ATOMIC_AGGREGATE with a value', attr(0x40, 6, [1])],
  ['AGGREGATOR length 5', attr(0xc0, 7, [0, 0, 0, 1, 1])],
  ['duplicate ORIGIN', attr(0x40, 1, [2])],
];

for (const [name, extra] of discard) {
  test(`attribute discard: ${name}`, (t) => {
    const o = outcome(update([...ORIGIN, ...AS_PATH, ...NEXT_HOP, ...extra]));
    t.like(o, { kind: 'ok', discarded: 1 });
  });
}

test('LOCAL_PREF from an external peer is ignored, even when malformed', (t) => {
  t.like(outcome(update([...ORIGIN, ...AS_PATH, ...NEXT_HOP, ...attr(0x40, 5, [1])])), { kind: 'ok' });
});

test('unknown optional attributes: transitive kept, non-transitive dropped', (t) => {
  const r = decodeMessage(update([...ORIGIN, ...AS_PATH, ...NEXT_HOP, ...attr(0xc0, 200, [1]), ...attr(0x80, 201, [2])]), ctx);
  if (!r.ok || r.message.type !== 'update') return t.fail();
  t.deepEqual(r.message.update.message.attributes.unknown?.map((u) => u.type), [200]);
});

const resets: Array<[string, Uint8Array, number, number]> = [
  ['unrecognised well-known attribute', update([...ORIGIN, ...AS_PATH, ...NEXT_HOP, ...attr(0x40, 200, [])]), 3, 2],
  ['MP_REACH next hop length 5 for IPv6', update([...ORIGIN, ...AS_PATH, ...attr(0x80, 14, [0, 2, 1, 5, 1, 2, 3, 4, 5, 0])], []), 3, 9],
  ['MP_REACH twice', update([...ORIGIN, ...AS_PATH, ...attr(0x80, 15, [0, 2, 1]), ...attr(0x80, 15, [0, 2, 1])], []), 3, 1],
  ['NLRI prefix length 33', update([...ORIGIN, ...AS_PATH, ...NEXT_HOP], [33, 10, 0, 0, 0, 0]), 3, 10],
  ['withdrawn routes length overruns', frame(2, Uint8Array.from([0, 50, 0, 0])), 3, 1],
  ['attribute length overruns the message', frame(2, Uint8Array.from([0, 0, 0, 50, 0x40, 1, 1, 0])), 3, 1],
  ['KEEPALIVE with a body', frame(4, Uint8Array.from([0])), 1, 2],
  ['message type 9', frame(9, Uint8Array.from([0, 0, 0, 0])), 1, 3],
];

for (const [name, bytes, code, subcode] of resets) {
  test(`session reset: ${name}`, (t) => {
    t.like(outcome(bytes), { kind: 'reset', code, subcode });
  });
}

test('a bad marker breaks the stream for good: Connection Not Synchronized', (t) => {
  const bad = frame(4, new Uint8Array(0));
  bad[3] = 0;
  const f = new MessageFramer();
  const r = f.push(bad);
  t.like(r.error, { code: 1, subcode: 1 });
  t.deepEqual(f.push(frame(4, new Uint8Array(0))).messages, []);
});
