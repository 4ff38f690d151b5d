/**
 * Fuzz: random and mutated buffers through every decoder. Each either decodes or throws NetlinkDecodeError —
 * never another exception, never a hang. Bounded in count; the seed is printed so a failure can be replayed.
 */
import test from 'ava';
import { ByteWriter } from '../../../src/netlink/byteWriter.ts';
import { decodeError, decodeMessages, encodeMessage } from '../../../src/netlink/codec.ts';
import { NLMSG_ERROR } from '../../../src/netlink/constants.ts';
import { NetlinkDecodeError } from '../../../src/netlink/errors.ts';
import { decodeLink, encodeLinkCreate } from '../../../src/netlink/rtnetlink/linkCodec.ts';
import { decodeRoute, encodeRoute } from '../../../src/netlink/rtnetlink/routes.ts';
import { decodeAddress, encodeAddress } from '../../../src/netlink/rtnetlink/addresses.ts';
import { decodeNeighbour, encodeFdb } from '../../../src/netlink/rtnetlink/neighbours.ts';
import { decodeFamily } from '../../../src/netlink/genericNetlink.ts';

const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
let state = SEED;
function rand(n: number): number {
  state = (state * 1103515245 + 12345) & 0x7fffffff;
  return state % n;
}

const decoders: Array<[string, (p: Uint8Array) => unknown]> = [
  ['link', decodeLink], ['route', decodeRoute], ['address', decodeAddress], ['neighbour', decodeNeighbour], ['genl family', decodeFamily],
];

function body(fn: (w: ByteWriter) => void): Uint8Array {
  const w = new ByteWriter();
  fn(w);
  return w.finish();
}

const seeds: Uint8Array[] = [
  body((w) => encodeLinkCreate(w, { kind: 'vxlan', name: 'vx0', vni: 9, port: 8472, local: '10.0.0.1', remote: '10.0.0.2', learning: false, mtu: 1450 })),
  body((w) => encodeLinkCreate(w, { kind: 'veth', name: 'a', peer: { name: 'b', mac: '02:00:00:00:00:01' } }, { peerNetnsFd: 3 })),
  body((w) => encodeRoute(w, { dst: '10.0.0.0/8', metrics: { mtu: 1400 }, nexthops: [{ gateway: '10.1.1.1' }, { gateway: '10.1.1.2', weight: 2 }] }, { nexthopDevs: [1, 2] })),
  body((w) => encodeAddress(w, { dev: 1, address: 'fd00::1/64', flags: ['nodad', 'noprefixroute'] }, 1)),
  body((w) => encodeFdb(w, { dev: 1, lladdr: '02:00:00:00:00:01', dst: '10.0.0.2', vni: 5 }, 1)),
];

function check(t: import('ava').ExecutionContext, what: string, fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof NetlinkDecodeError)) t.fail(`${what} (seed ${SEED}): ${String(err)}`);
  }
}

test(`mutated family bodies decode or throw NetlinkDecodeError (seed ${SEED})`, (t) => {
  for (let i = 0; i < 4000; i++) {
    const src = seeds[rand(seeds.length)]!;
    const buf = src.slice(0, rand(4) === 0 ? rand(src.length + 1) : src.length);
    for (let k = rand(6); k >= 0; k--) if (buf.length) buf[rand(buf.length)] = rand(256);
    for (const [name, decode] of decoders) check(t, name, () => decode(buf));
  }
  t.pass();
});

test(`random datagrams through framing and NLMSG_ERROR (seed ${SEED})`, (t) => {
  for (let i = 0; i < 3000; i++) {
    const buf = new Uint8Array(rand(120));
    for (let k = 0; k < buf.length; k++) buf[k] = rand(256);
    if (buf.length >= 4 && rand(2)) new DataView(buf.buffer).setUint32(0, rand(buf.length + 8), true);
    check(t, 'framing', () => {
      for (const m of decodeMessages(buf)) {
        decodeError({ ...m, type: NLMSG_ERROR });
        for (const [, decode] of decoders) check(t, 'body', () => decode(m.payload));
      }
    });
  }
  t.pass();
});

test(`mutated error messages with extended-ack TLVs (seed ${SEED})`, (t) => {
  const w = new ByteWriter();
  encodeMessage(w, { type: NLMSG_ERROR, flags: 0x300, seq: 1, pid: 0 }, (b) => {
    b.s32(-22);
    encodeMessage(b, { type: 16, flags: 5, seq: 1, pid: 0 });
    b.u16(12); b.u16(1); b.bytes(new TextEncoder().encode('bad\0\0\0\0\0'));
  });
  const src = w.finish();
  for (let i = 0; i < 2000; i++) {
    const buf = src.slice();
    for (let k = rand(4); k >= 0; k--) buf[rand(buf.length)] = rand(256);
    check(t, 'error', () => decodeMessages(buf).forEach((m) => decodeError(m)));
  }
  t.pass();
});
