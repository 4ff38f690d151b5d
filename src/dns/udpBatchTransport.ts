/**
 * @module dns/udpBatchTransport — the UDP hot path through the native addon: recvmmsg hands a batch of up to 64
 * queries in one shared buffer, each is answered into one output buffer, and one sendmmsg sends the batch.
 *
 * Why: profiling the node:dgram path at saturation (bench/dns, perf) put ~60% of the CPU in per-datagram runtime
 * work — the recv callback with its rinfo object and Buffer, a send request with an address lookup and a
 * process.nextTick per reply — against ~15% answering. Batching removes all of it but the kernel's own work.
 * The native side only moves bytes (native/udpBatch.cc); decoding and answering stay in TypeScript.
 *
 * A query's bytes are a view of the shared buffer, valid during the batch only: QueryHandler copies them before
 * anything that outlives the call (forwarding, ExternalName chasing), and such late answers are sent one by one
 * with a copy of the sender's address.
 */
import { isIPv6 } from 'node:net';
import type { Logger } from '../common/logger.ts';
import { describeError } from '../common/errors.ts';
import { AF_INET, AF_INET6, SOCK_DGRAM, SOL_SOCKET, SO_RCVBUF, loadNative, type NativeBinding } from '../native/index.ts';
import type { ClientInfo, QueryHandler, ResponseSink } from './queryHandler.ts';

const SLOTS = 64;
/** Not a power of two, so consecutive slots do not share cache sets; anything bigger than a DNS message fits. */
const SLOT_SIZE = 65536 - 64;
const PEER_SIZE = 28;
/** Replies of one batch; UDP replies are at most 65535 bytes, and the buffer is flushed before it overflows. */
const OUT_SIZE = 1 << 20;

type BatchBinding = Required<Pick<NativeBinding, 'openSocket' | 'close' | 'setsockoptInt' | 'bindInet' | 'startBatchReading' | 'sendBatch'>>;

export interface BatchUdpSocket {
  readonly mode: 'recvmmsg';
  readonly port: number;
  /** Datagrams dropped: longer than a slot, or refused/unsent by sendmmsg. */
  readonly dropped: number;
  close(): void;
}

/** The addon's batch functions, or null when the addon is missing or older than them (then use node:dgram). */
export function batchBinding(): BatchBinding | null {
  let b: NativeBinding;
  try {
    b = loadNative();
  } catch {
    return null;
  }
  return b.bindInet && b.startBatchReading && b.sendBatch ? (b as BatchBinding) : null;
}

function addressBytes(host: string): Uint8Array {
  if (!isIPv6(host)) return Uint8Array.from(host.split('.').map(Number));
  const [head = '', tail = ''] = host.split('::');
  const groups = (s: string) => (s ? s.split(':') : []);
  const h = groups(head);
  const t = groups(tail);
  const all = host.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  const out = new Uint8Array(16);
  all.forEach((g, i) => { const v = parseInt(g, 16); out[2 * i] = v >> 8; out[2 * i + 1] = v & 0xff; });
  return out;
}

/** The sender's address as text (only for the query log). */
export function peerAddress(peers: Uint8Array, at: number): string {
  const family = peers[at]! | (peers[at + 1]! << 8);
  if (family === AF_INET) return `${peers[at + 4]}.${peers[at + 5]}.${peers[at + 6]}.${peers[at + 7]}`;
  const parts: string[] = [];
  for (let i = 0; i < 8; i++) parts.push(((peers[at + 8 + 2 * i]! << 8) | peers[at + 9 + 2 * i]!).toString(16));
  return parts.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}

/** Open, bind and start reading a UDP socket answered by `handler`; throws like bind(2) (e.g. EADDRINUSE). */
export function bindBatchUdp(b: BatchBinding, host: string, port: number, handler: QueryHandler, logger: Logger): BatchUdpSocket {
  const v6 = isIPv6(host);
  const fd = b.openSocket({ domain: v6 ? AF_INET6 : AF_INET, type: SOCK_DGRAM });
  let bound: number;
  try {
    // A deeper queue (capped by net.core.rmem_max) rides out short stalls (GC, a store event) instead of dropping
    // a burst.
    b.setsockoptInt(fd, SOL_SOCKET, SO_RCVBUF, 4 << 20);
    bound = b.bindInet(fd, addressBytes(host), port);
  } catch (err) {
    b.close(fd);
    throw err;
  }
  const data = Buffer.allocUnsafeSlow(SLOTS * SLOT_SIZE);
  const lengths = new Int32Array(SLOTS);
  const peers = new Uint8Array(SLOTS * PEER_SIZE);
  const out = Buffer.allocUnsafeSlow(OUT_SIZE);
  const desc = new Int32Array(SLOTS * 3);
  const clients: Record<number, ClientInfo> = {
    [AF_INET]: { transport: 'udp', family: 1, address: '' },
    [AF_INET6]: { transport: 'udp', family: 2, address: '' },
  };
  const sink: ResponseSink = { buf: out, at: 0, length: 0 };
  let dropped = 0;
  let count = 0;
  let used = 0;
  const flush = () => {
    if (count) dropped += count - b.sendBatch(fd, out, desc, count, peers);
    count = 0;
    used = 0;
  };
  const push = (offset: number, length: number, peer: number) => {
    desc[3 * count] = offset;
    desc[3 * count + 1] = length;
    desc[3 * count + 2] = peer;
    count++;
    used += length;
  };
  let open = true;
  const sendLate = (reply: Buffer | null, peer: Uint8Array) => {
    // After close() the fd number may already belong to another socket.
    if (!reply || !open) return;
    try {
      dropped += 1 - b.sendBatch(fd, reply, Int32Array.of(0, reply.length, 0), 1, peer);
    } catch (err) {
      logger.error({ op: 'udp', err: describeError(err) }, 'sending a UDP answer failed');
    }
  };
  let receivedAt = 0;
  const answer = (slot: number, len: number) => {
    const at = slot * PEER_SIZE;
    const family = peers[at]! | (peers[at + 1]! << 8);
    const base = clients[family] ?? clients[AF_INET]!;
    const client = handler.wantsClientAddress ? { ...base, address: peerAddress(peers, at) } : base;
    sink.at = used;
    const r = handler.handle(data.subarray(slot * SLOT_SIZE, slot * SLOT_SIZE + len), client, sink, receivedAt);
    if (r === null) return;
    if (r === out) { // stamped in place (the common case: a cluster name)
      push(used, sink.length, at);
      return;
    }
    if (r instanceof Promise) {
      const peer = peers.slice(at, at + PEER_SIZE);
      r.then((reply) => sendLate(reply, peer), () => { /* the handler logs its own failures */ });
      return;
    }
    if (used + r.length > OUT_SIZE) flush();
    r.copy(out, used);
    push(used, r.length, at);
  };
  b.startBatchReading(fd, { data, lengths, peers }, SLOT_SIZE, (err, n) => {
    if (err) { logger.error({ op: 'udp', err: describeError(err) }, 'UDP socket error'); return; }
    receivedAt = performance.now();
    for (let i = 0; i < n; i++) {
      const len = lengths[i]!;
      if (len < 0) { dropped++; continue; }
      answer(i, len);
    }
    flush();
  });
  return {
    mode: 'recvmmsg', port: bound,
    get dropped() { return dropped; },
    close: () => { if (open) { open = false; b.close(fd); } },
  };
}
