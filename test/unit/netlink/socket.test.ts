/**
 * NetlinkSocket against a scripted fake kernel (the NetlinkSyscalls seam): seq matching with answers out of
 * order, multipart dumps, NLM_F_DUMP_INTR restart, timeouts, batching several messages per send, the in-flight
 * window, multicast messages, close and ref/unref.
 */
import test from 'ava';
import { ByteWriter } from '../../../src/netlink/byteWriter.ts';
import { decodeMessages, encodeMessage, type NetlinkMessage } from '../../../src/netlink/codec.ts';
import { NLMSG_DONE, NLMSG_ERROR, NLM_F_DUMP_INTR, NLM_F_MULTI, RTM_GETLINK, RTM_NEWLINK } from '../../../src/netlink/constants.ts';
import { NetlinkClosedError, NetlinkKernelError, NetlinkTimeoutError } from '../../../src/netlink/errors.ts';
import { NetlinkSocket, type NetlinkSyscalls } from '../../../src/netlink/netlinkSocket.ts';
import type { ReceiveCallback } from '../../../src/native/types.ts';

type Reply = (req: NetlinkMessage) => Uint8Array[] | 'hold';

class FakeKernel implements NetlinkSyscalls {
  sends: NetlinkMessage[][] = [];
  held: NetlinkMessage[] = [];
  refs: boolean[] = [];
  closed = false;
  reader: ReceiveCallback | undefined;
  constructor(private reply: Reply) {}
  openNetlink() { return 42; }
  netlinkPortId() { return 4242; }
  addMembership() {}
  setsockoptInt() {}
  startReading(_fd: number, cb: ReceiveCallback) { this.reader = cb; }
  stopReading() {}
  setRef(_fd: number, ref: boolean) { this.refs.push(ref); }
  close() { this.closed = true; }
  send(_fd: number, data: Uint8Array) {
    const msgs = decodeMessages(data.slice());
    this.sends.push(msgs);
    for (const m of msgs) {
      const out = this.reply(m);
      if (out === 'hold') this.held.push(m);
      else setImmediate(() => out.forEach((d) => this.deliver(d)));
    }
    return data.length;
  }
  deliver(d: Uint8Array, groups = 0) {
    this.reader!(null, d, { portId: 0, groups });
  }
}

function msg(type: number, seq: number, flags: number, body?: (w: ByteWriter) => void): Uint8Array {
  const w = new ByteWriter();
  encodeMessage(w, { type, flags, seq, pid: 4242 }, body);
  return w.finish();
}
const ack = (seq: number, errno = 0) => msg(NLMSG_ERROR, seq, 0x100, (w) => { w.s32(-errno); encodeMessage(w, { type: 16, flags: 5, seq, pid: 0 }); });
const done = (seq: number, flags = NLM_F_MULTI) => msg(NLMSG_DONE, seq, flags, (w) => w.s32(0));
const part = (seq: number, tag: number, flags = NLM_F_MULTI) => msg(RTM_NEWLINK, seq, flags, (w) => w.u32(tag));

test('concurrent requests are matched by seq even when answered out of order', async (t) => {
  const k = new FakeKernel(() => 'hold');
  const s = new NetlinkSocket(k);
  const a = s.request({ type: 16, what: 'a' });
  const b = s.request({ type: 16, what: 'b' });
  await new Promise((r) => setImmediate(r));
  t.is(k.sends.length, 1, 'both queued in the same tick go out in one sendmsg');
  t.is(k.sends[0]!.length, 2);
  const [ma, mb] = k.held;
  k.deliver(ack(mb!.seq, 17));
  k.deliver(ack(ma!.seq));
  t.deepEqual(await a, []);
  const err = await t.throwsAsync(b);
  t.true(err instanceof NetlinkKernelError);
  t.is((err as NetlinkKernelError).code, 'EEXIST');
  t.regex(err!.message, /^b: EEXIST/);
  t.is(s.pendingCount, 0);
});

test('a dump collects every part until NLMSG_DONE, across datagrams', async (t) => {
  const k = new FakeKernel((req) => [
    new Uint8Array([...part(req.seq, 1), ...part(req.seq, 2)]),
    new Uint8Array([...part(req.seq, 3), ...done(req.seq)]),
  ]);
  const s = new NetlinkSocket(k);
  const parts = await s.dump({ type: RTM_GETLINK, what: 'listing' });
  t.deepEqual(parts.map((p) => new DataView(p.payload.buffer, p.payload.byteOffset).getUint32(0, true)), [1, 2, 3]);
});

test('two dumps at once: the second waits for the first (the kernel would answer EBUSY)', async (t) => {
  const k = new FakeKernel(() => 'hold');
  const s = new NetlinkSocket(k);
  const first = s.dump({ type: RTM_GETLINK, what: 'first' });
  const second = s.dump({ type: RTM_GETLINK, what: 'second' });
  await new Promise((r) => setImmediate(r));
  t.is(k.held.length, 1, 'only one dump is sent while none has finished');
  k.deliver(new Uint8Array([...part(k.held[0]!.seq, 1), ...done(k.held[0]!.seq)]));
  t.is((await first).length, 1);
  await new Promise((r) => setImmediate(r));
  t.is(k.held.length, 2, 'the second dump goes out once the first is done');
  k.deliver(new Uint8Array([...part(k.held[1]!.seq, 2), ...part(k.held[1]!.seq, 3), ...done(k.held[1]!.seq)]));
  t.is((await second).length, 2);
});

test('a dump interrupted by a concurrent change (NLM_F_DUMP_INTR) is restarted', async (t) => {
  let calls = 0;
  const k = new FakeKernel((req) => {
    calls += 1;
    const flags = NLM_F_MULTI | (calls === 1 ? NLM_F_DUMP_INTR : 0);
    return [new Uint8Array([...part(req.seq, calls, flags), ...done(req.seq, flags)])];
  });
  const s = new NetlinkSocket(k);
  const parts = await s.dump({ type: RTM_GETLINK, what: 'listing' });
  t.is(calls, 2);
  t.is(parts.length, 1);
  t.is(new DataView(parts[0]!.payload.buffer, parts[0]!.payload.byteOffset).getUint32(0, true), 2);
});

test('a dump interrupted every time fails after the retry budget with EINTR', async (t) => {
  const k = new FakeKernel((req) => [new Uint8Array([...part(req.seq, 1, NLM_F_MULTI | NLM_F_DUMP_INTR), ...done(req.seq)])]);
  const s = new NetlinkSocket(k, { dumpRetries: 2 });
  const err = await t.throwsAsync(s.dump({ type: RTM_GETLINK, what: 'listing links' }));
  t.is((err as NetlinkKernelError).code, 'EINTR');
  t.is(k.sends.length, 3);
});

test('no answer: NetlinkTimeoutError, and a late answer is ignored', async (t) => {
  const k = new FakeKernel(() => 'hold');
  const s = new NetlinkSocket(k, { timeoutMs: 30 });
  const err = await t.throwsAsync(s.request({ type: 16, what: 'creating x' }));
  t.true(err instanceof NetlinkTimeoutError);
  t.regex(err!.message, /creating x: no answer .* 30 ms/);
  k.deliver(ack(k.held[0]!.seq));
  t.is(s.pendingCount, 0);
});

test('the in-flight window holds back requests until answers arrive', async (t) => {
  const k = new FakeKernel(() => 'hold');
  const s = new NetlinkSocket(k, { maxInFlight: 3 });
  const all = Promise.all(Array.from({ length: 7 }, (_, i) => s.request({ type: 16, what: `r${i}` })));
  await new Promise((r) => setImmediate(r));
  t.is(k.held.length, 3);
  while (k.held.length) {
    const m = k.held.shift()!;
    k.deliver(ack(m.seq));
    await new Promise((r) => setImmediate(r));
  }
  t.is((await all).length, 7);
  t.deepEqual(k.sends.map((b) => b.length).reduce((a, b) => a + b, 0), 7);
});

test('multicast messages are events, not answers; close fails what is pending', async (t) => {
  const k = new FakeKernel(() => 'hold');
  const s = new NetlinkSocket(k, { groups: [1] });
  const events: number[] = [];
  s.on('message', (m, groups) => events.push(m.type, groups));
  const pending = s.request({ type: 16, what: 'pending thing' });
  await new Promise((r) => setImmediate(r));
  k.deliver(part(k.held[0]!.seq, 9, 0), 1);
  t.deepEqual(events, [RTM_NEWLINK, 1]);
  s.close();
  await t.throwsAsync(pending, { instanceOf: NetlinkClosedError });
  t.true(k.closed);
  await t.throwsAsync(s.request({ type: 16, what: 'after close' }), { instanceOf: NetlinkClosedError });
});

test('an idle request socket does not hold the event loop; a pending request does', async (t) => {
  const k = new FakeKernel((req) => [ack(req.seq)]);
  const s = new NetlinkSocket(k);
  t.deepEqual(k.refs, [false]);
  await s.request({ type: 16, what: 'x' });
  t.deepEqual(k.refs, [false, true, false]);
  s.unref();
  await s.request({ type: 16, what: 'y' });
  t.deepEqual(k.refs, [false, true, false]);
});

test('a malformed datagram from the kernel is reported, not thrown', async (t) => {
  const k = new FakeKernel(() => 'hold');
  const s = new NetlinkSocket(k);
  const errors: Error[] = [];
  s.on('error', (e) => errors.push(e));
  k.deliver(new Uint8Array([50, 0, 0, 0, 1, 2]));
  t.is(errors.length, 1);
  t.is((errors[0] as { code?: string }).code, 'PODNET_NETLINK_MALFORMED');
});
