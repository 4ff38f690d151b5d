/**
 * NfnlBatchSocket against a scripted fake kernel (the NetlinkSyscalls seam): one datagram per batch, success on
 * the last operation's ACK, failure on the first error naming the operation, answers of an older batch ignored,
 * batches serialised, a big batch grows the send buffer instead of failing with EMSGSIZE.
 */
import test from 'ava';
import { ByteWriter } from '../../../src/netlink/byteWriter.ts';
import { decodeMessages, encodeMessage, type NetlinkMessage } from '../../../src/netlink/codec.ts';
import { NLMSG_ERROR } from '../../../src/netlink/constants.ts';
import type { NetlinkSyscalls } from '../../../src/netlink/socketTypes.ts';
import type { ReceiveCallback } from '../../../src/native/types.ts';
import { NfnlBatchSocket } from '../../../src/netlink/nftables/nfnlBatchSocket.ts';
import type { NftOp } from '../../../src/netlink/nftables/nftMessages.ts';

/** Answers a batch like nfnetlink: `verdict(ops)` = errno per operation (0 = fine); ACK only where asked. */
class FakeNfnetlink implements NetlinkSyscalls {
  batches: NetlinkMessage[][] = [];
  sockopts: Array<[number, number, number]> = [];
  reader: ReceiveCallback | undefined;
  constructor(private verdict: (ops: NetlinkMessage[]) => number[], private stale: Uint8Array[] = []) {}
  openNetlink() { return 7; }
  netlinkPortId() { return 77; }
  addMembership() {}
  setsockoptInt(_fd: number, level: number, name: number, value: number) { this.sockopts.push([level, name, value]); }
  startReading(_fd: number, cb: ReceiveCallback) { this.reader = cb; }
  stopReading() {}
  setRef() {}
  close() {}
  send(_fd: number, data: Uint8Array) {
    const msgs = decodeMessages(data.slice());
    this.batches.push(msgs);
    const ops = msgs.slice(1, -1);
    const errnos = this.verdict(ops);
    const out = [...this.stale];
    ops.forEach((m, i) => { if (errnos[i] || m.flags & 4) out.push(ackFor(m.seq, errnos[i] ?? 0)); });
    setImmediate(() => out.forEach((d) => this.reader!(null, d, { portId: 0, groups: 0 })));
    return data.length;
  }
}

function ackFor(seq: number, errno: number): Uint8Array {
  const w = new ByteWriter();
  encodeMessage(w, { type: NLMSG_ERROR, flags: 0x100, seq, pid: 77 }, (b) => { b.s32(-errno); encodeMessage(b, { type: 0, flags: 0, seq, pid: 0 }); });
  return w.finish();
}

const ops: NftOp[] = [
  { op: 'flushChain', chain: 'svc-a' },
  { op: 'newRule', chain: 'svc-a', exprs: [{ expr: 'verdict', verdict: { kind: 'goto', chain: 'svc-b' } }] },
  { op: 'delElems', set: 'cluster-ips', elems: [{ key: Uint8Array.of(10, 96, 0, 1) }] },
];

test('a batch is one datagram and resolves on the ACK of its last operation', async (t) => {
  const k = new FakeNfnetlink((m) => m.map(() => 0));
  const s = new NfnlBatchSocket(k);
  await s.commit({ family: 2, table: 'podnet-proxy', ops });
  t.is(k.batches.length, 1);
  t.deepEqual(k.batches[0]!.map((m) => m.type), [16, (10 << 8) | 8, (10 << 8) | 6, (10 << 8) | 14, 17]);
});

test('an error rejects with the errno and names the operation the kernel refused', async (t) => {
  const k = new FakeNfnetlink((m) => m.map((_, i) => (i === 2 ? 2 : 0)));
  const s = new NfnlBatchSocket(k);
  const err = await t.throwsAsync(s.commit({ family: 2, table: 'podnet-proxy', ops }));
  t.is((err as { code?: string }).code, 'ENOENT');
  t.regex(err!.message, /deleting 1 element\(s\) from cluster-ips/);
});

test('answers carrying an older batch\'s sequence numbers are ignored; batches run one after the other', async (t) => {
  const k = new FakeNfnetlink((m) => m.map(() => 0), [ackFor(1, 17)]);
  const s = new NfnlBatchSocket(k);
  await Promise.all([s.commit({ family: 2, table: 't', ops }), s.commit({ family: 10, table: 't', ops: ops.slice(0, 1) })]);
  t.is(k.batches.length, 2);
  t.true(k.batches[1]![0]!.seq > k.batches[0]!.at(-1)!.seq, 'fresh sequence numbers for the second batch');
});

test('a batch bigger than the send buffer raises it (SO_SNDBUFFORCE) before sending', async (t) => {
  const k = new FakeNfnetlink((m) => m.map(() => 0));
  const s = new NfnlBatchSocket(k);
  const many: NftOp[] = Array.from({ length: 3000 }, (_, i) => ({ op: 'newChain', chain: `chain-with-a-long-name-number-${i}` }));
  await s.commit({ family: 2, table: 'podnet-proxy', ops: many });
  t.true(k.sockopts.some(([level, name, value]) => level === 1 && name === 32 && value > 208 * 1024));
});
