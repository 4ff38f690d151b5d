// Batched UDP (recvmmsg/sendmmsg through shared buffers) between two sockets on the loopback of a namespace the
// test makes: batches carry every datagram with its length and sender, replies go back to those senders, an
// oversized datagram is flagged, bad arguments are TypeErrors, and close() stops the reader.
import test, { type ExecutionContext } from 'ava';
import { ip, makeNetns, rootSnapshot, uniquePrefix } from '../../helpers/netnsFixture.ts';
import { AF_INET, SOCK_DGRAM, loadNative, type BatchBuffers } from '../../../src/native/index.ts';

const prefix = uniquePrefix('nb');
const root = rootSnapshot(prefix);
test.after.always('nothing left in the root namespace', (t) => t.deepEqual(root.leaks(), []));

const b = loadNative();
const PEER = 28;
const LOOPBACK = Uint8Array.of(127, 0, 0, 1);

function udpIn(t: ExecutionContext, ns: string): { fd: number; port: number } {
  const fd = b.openSocket({ netns: `/var/run/netns/${ns}`, domain: AF_INET, type: SOCK_DGRAM });
  t.teardown(() => b.close(fd));
  return { fd, port: b.bindInet!(fd, LOOPBACK, 0) };
}

function sockaddrIn(port: number): Uint8Array {
  const sa = new Uint8Array(PEER);
  sa[0] = AF_INET; // sa_family, host order (little-endian)
  sa[2] = port >> 8;
  sa[3] = port & 0xff;
  sa.set(LOOPBACK, 4);
  return sa;
}

function buffers(slots: number, slotSize: number): BatchBuffers {
  return { data: new Uint8Array(slots * slotSize), lengths: new Int32Array(slots), peers: new Uint8Array(slots * PEER) };
}

interface Got { payload: string; length: number; family: number; port: number }

/** Read batches until `want` datagrams arrived; records each batch's size. */
function collect(fd: number, bufs: BatchBuffers, slotSize: number, want: number): { done: Promise<Got[]>; batches: number[] } {
  const got: Got[] = [];
  const batches: number[] = [];
  const done = new Promise<Got[]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${got.length} of ${want} datagrams`)), 5000);
    b.startBatchReading!(fd, bufs, slotSize, (err, n) => {
      if (err) { clearTimeout(timer); reject(err); return; }
      batches.push(n);
      for (let i = 0; i < n; i++) {
        const len = bufs.lengths[i]!;
        const at = i * PEER;
        got.push({
          payload: len < 0 ? '' : Buffer.from(bufs.data.subarray(i * slotSize, i * slotSize + len)).toString(),
          length: len, family: bufs.peers[at]! | (bufs.peers[at + 1]! << 8), port: (bufs.peers[at + 2]! << 8) | bufs.peers[at + 3]!,
        });
      }
      if (got.length >= want) { clearTimeout(timer); b.stopBatchReading!(fd); resolve(got); }
    });
  });
  return { done, batches };
}

/** One sendBatch of `payloads` from `fd` to the same destination. */
function sendAll(fd: number, payloads: string[], dest: Uint8Array): number {
  const data = Buffer.from(payloads.join(''));
  const desc = new Int32Array(payloads.length * 3);
  let at = 0;
  payloads.forEach((p, i) => { desc.set([at, Buffer.byteLength(p), 0], i * 3); at += Buffer.byteLength(p); });
  return b.sendBatch!(fd, data, desc, payloads.length, dest);
}

test('a batch carries every datagram with its sender; replies reach those senders', async (t) => {
  const ns = makeNetns(t, prefix, 'a');
  ip(['-n', ns, 'link', 'set', 'lo', 'up']);
  const server = udpIn(t, ns);
  const client = udpIn(t, ns);
  t.true(server.port > 0 && server.port !== client.port);
  const slot = 512;
  const sbuf = buffers(8, slot);
  const payloads = Array.from({ length: 20 }, (_, i) => `query-${i}`);
  const atServer = collect(server.fd, sbuf, slot, payloads.length);
  t.is(sendAll(client.fd, payloads, sockaddrIn(server.port)), 20, 'sendBatch sent all 20');
  const got = await atServer.done;
  t.deepEqual(got.map((g) => g.payload), payloads, 'all datagrams, in order');
  t.true(got.every((g) => g.family === AF_INET && g.port === client.port && g.length === g.payload.length));
  t.true(atServer.batches.every((n) => n <= 8) && atServer.batches.some((n) => n > 1), `batched: ${atServer.batches.join(',')}`);

  // Echo a batch back using the sender addresses exactly as recvmmsg left them in the shared peers buffer.
  const back = buffers(4, slot);
  const atClient = collect(client.fd, back, slot, 3);
  const replies = ['r0', 'r1', 'r2'];
  const desc = Int32Array.of(0, 2, 0, 2, 2, PEER, 4, 2, 2 * PEER);
  sbuf.peers.set(sockaddrIn(client.port), 0);
  sbuf.peers.set(sockaddrIn(client.port), PEER);
  sbuf.peers.set(sockaddrIn(client.port), 2 * PEER);
  t.is(b.sendBatch!(server.fd, Buffer.from(replies.join('')), desc, 3, sbuf.peers), 3);
  t.deepEqual((await atClient.done).map((g) => [g.payload, g.port]), replies.map((r) => [r, server.port]));
});

test('a datagram longer than its slot is flagged with length -1; the next one is intact', async (t) => {
  const ns = makeNetns(t, prefix, 'b');
  ip(['-n', ns, 'link', 'set', 'lo', 'up']);
  const server = udpIn(t, ns);
  const client = udpIn(t, ns);
  const got = collect(server.fd, buffers(4, 512), 512, 2);
  sendAll(client.fd, ['x'.repeat(600), 'small'], sockaddrIn(server.port));
  t.deepEqual((await got.done).map((g) => g.length), [-1, 5]);
});

test('bad arguments are TypeErrors; close() stops a batch reader', async (t) => {
  const ns = makeNetns(t, prefix, 'c');
  ip(['-n', ns, 'link', 'set', 'lo', 'up']);
  const server = udpIn(t, ns);
  const client = udpIn(t, ns);
  const ok = buffers(4, 512);
  t.throws(() => b.startBatchReading!(server.fd, ok, 100, () => {}), { instanceOf: TypeError, message: /slotSize/ });
  t.throws(() => b.startBatchReading!(server.fd, { ...ok, data: new Uint8Array(10) }, 512, () => {}), { instanceOf: TypeError, message: /data must hold/ });
  t.throws(() => b.startBatchReading!(server.fd, { ...ok, lengths: new Uint32Array(4) as unknown as Int32Array }, 512, () => {}), { instanceOf: TypeError });
  t.throws(() => b.sendBatch!(client.fd, new Uint8Array(4), Int32Array.of(0, 8, 0), 1, sockaddrIn(server.port)), { instanceOf: TypeError, message: /outside/ });
  t.throws(() => b.sendBatch!(client.fd, new Uint8Array(4), Int32Array.of(0, 4, 0), 2, sockaddrIn(server.port)), { instanceOf: TypeError, message: /count/ });
  t.throws(() => b.bindInet!(client.fd, new Uint8Array(5), 0), { instanceOf: TypeError, message: /4 or 16/ });
  t.throws(() => b.bindInet!(client.fd, LOOPBACK, server.port), { code: 'EINVAL' }, 'already bound');

  let calls = 0;
  b.startBatchReading!(server.fd, ok, 512, () => { calls++; });
  t.throws(() => b.startBatchReading!(server.fd, ok, 512, () => {}), { instanceOf: TypeError, message: /already being read/ });
  b.close(server.fd);
  sendAll(client.fd, ['after close'], sockaddrIn(server.port));
  await new Promise((r) => setTimeout(r, 200));
  t.is(calls, 0);
});
