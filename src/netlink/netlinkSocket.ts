/**
 * @module netlink/netlinkSocket — one AF_NETLINK socket (opened inside a given netns by the native addon):
 * sequence numbers, request() → Promise, dump() → every part until NLMSG_DONE, NLM_F_DUMP_INTR retry, timeouts,
 * concurrent requests matched by seq, multicast messages as events, ref/unref.
 *
 * Pipelining: requests made in the same loop turn are queued and flushed together (on setImmediate, so requests
 * issued after a few awaits still join the batch), several messages per sendmsg, with up to `maxInFlight`
 * awaiting their answer. The kernel runs rtnetlink requests synchronously inside sendmsg, so
 * one send of N messages costs one syscall instead of N send+recv pairs (iproute2's one-at-a-time). The window
 * keeps the ACKs of one burst within the receive buffer (SO_RCVBUF is raised to 4 MiB), because an ACK the
 * kernel cannot queue is dropped (ENOBUFS) and its request could never complete.
 *
 * The socket keeps the event loop alive only while requests are pending (a CLI exits without closing it), or
 * always when it listens to multicast groups, unless unref() says otherwise.
 */
import { EventEmitter } from 'node:events';
import type { NativeError, RecvInfo } from '../native/types.ts';
import { ByteWriter } from './byteWriter.ts';
import { decodeDone, decodeError, decodeMessages, encodeMessage, type NetlinkMessage } from './codec.ts';
import {
  NETLINK_CAP_ACK, NETLINK_EXT_ACK, NETLINK_ROUTE, NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP, NLMSG_OVERRUN, NLM_F_ACK,
  NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_REQUEST, SOL_NETLINK,
} from './constants.ts';
import { NetlinkClosedError, NetlinkKernelError, NetlinkTimeoutError } from './errors.ts';
import type { NetlinkRequest, NetlinkSocketEvents, NetlinkSocketOptions, NetlinkSyscalls } from './socketTypes.ts';

export type { NetlinkRequest, NetlinkSocketEvents, NetlinkSocketOptions, NetlinkSyscalls } from './socketTypes.ts';

interface Pending {
  seq: number;
  req: NetlinkRequest;
  dump: boolean;
  replies: NetlinkMessage[];
  interrupted: boolean;
  attempts: number;
  bytes: Uint8Array;
  resolve: (msgs: NetlinkMessage[]) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

let loadedBinding: NetlinkSyscalls | undefined;
async function defaultBinding(): Promise<NetlinkSyscalls> {
  if (!loadedBinding) loadedBinding = (await import('../native/index.ts')).native;
  return loadedBinding;
}

export class NetlinkSocket extends EventEmitter<NetlinkSocketEvents> {
  readonly fd: number;
  readonly portId: number;
  readonly #sys: NetlinkSyscalls;
  readonly #opts: Required<Omit<NetlinkSocketOptions, 'netns' | 'groups' | 'binding'>>;
  readonly #listening: boolean;
  readonly #pending = new Map<number, Pending>();
  readonly #queue: number[] = [];
  #inFlight = 0;
  #dumpsInFlight = 0;
  #seq = Math.floor(Math.random() * 0x7fffffff);
  #flushScheduled = false;
  #userRef = true;
  #ref = true;
  #closed = false;

  /** Open a socket (inside `opts.netns`) and start reading. */
  static async open(opts: NetlinkSocketOptions = {}): Promise<NetlinkSocket> {
    return new NetlinkSocket(opts.binding ?? (await defaultBinding()), opts);
  }

  constructor(sys: NetlinkSyscalls, opts: NetlinkSocketOptions = {}) {
    super();
    this.#sys = sys;
    this.#opts = {
      protocol: opts.protocol ?? NETLINK_ROUTE, timeoutMs: opts.timeoutMs ?? 30_000, maxInFlight: opts.maxInFlight ?? 256,
      maxBatchBytes: opts.maxBatchBytes ?? 32 * 1024, rcvbuf: opts.rcvbuf ?? 4 * 1024 * 1024, dumpRetries: opts.dumpRetries ?? 5,
    };
    this.fd = sys.openNetlink({ protocol: this.#opts.protocol, netns: opts.netns, rcvbuf: this.#opts.rcvbuf });
    try {
      // Short ACKs (no echoed request) and the kernel's error strings; both are best effort on old kernels.
      for (const opt of [NETLINK_CAP_ACK, NETLINK_EXT_ACK]) {
        try { sys.setsockoptInt(this.fd, SOL_NETLINK, opt, 1); } catch { /* older kernel: plain ACKs */ }
      }
      for (const g of opts.groups ?? []) sys.addMembership(this.fd, g);
      this.portId = sys.netlinkPortId(this.fd);
      sys.startReading(this.fd, (err, data, info) => this.#onReceive(err, data, info), 1 << 16);
    } catch (err) {
      sys.close(this.fd);
      throw err;
    }
    this.#listening = (opts.groups?.length ?? 0) > 0;
    this.#updateRef();
  }

  /** Send one request; resolves with the reply messages (if any) once the kernel ACKs it. */
  request(req: NetlinkRequest): Promise<NetlinkMessage[]> {
    return this.#submit(req, false);
  }

  /** Send a dump request (NLM_F_DUMP); resolves with every part, restarting when the dump was interrupted. */
  dump(req: NetlinkRequest): Promise<NetlinkMessage[]> {
    return this.#submit(req, true);
  }

  /** Keep (or stop keeping) the process alive for this socket, like net.Socket#ref/unref. */
  ref(): this {
    this.#userRef = true;
    this.#updateRef();
    return this;
  }

  unref(): this {
    this.#userRef = false;
    this.#updateRef();
    return this;
  }

  get pendingCount(): number {
    return this.#pending.size;
  }

  /** Close the fd; pending requests fail with NetlinkClosedError. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#sys.close(this.fd);
    this.#failAll((what) => new NetlinkClosedError(what));
  }

  #submit(req: NetlinkRequest, dump: boolean): Promise<NetlinkMessage[]> {
    if (this.#closed) return Promise.reject(new NetlinkClosedError(req.what));
    return new Promise((resolve, reject) => {
      const p: Pending = { seq: 0, req, dump, replies: [], interrupted: false, attempts: 0, bytes: new Uint8Array(), resolve, reject, timer: undefined };
      this.#enqueue(p);
    });
  }

  #enqueue(p: Pending): void {
    const seq = this.#nextSeq();
    const w = new ByteWriter(64);
    const flags = NLM_F_REQUEST | (p.dump ? NLM_F_DUMP : NLM_F_ACK) | (p.req.flags ?? 0);
    encodeMessage(w, { type: p.req.type, flags, seq, pid: 0 }, p.req.body);
    p.bytes = w.finish();
    p.seq = seq;
    p.attempts += 1;
    this.#pending.set(seq, p);
    this.#queue.push(seq);
    this.#updateRef();
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => this.#flush());
    }
  }

  #nextSeq(): number {
    do this.#seq = (this.#seq + 1) >>> 0; while (this.#seq === 0 || this.#pending.has(this.#seq));
    return this.#seq;
  }

  /** Send queued requests, several per datagram, while the in-flight window allows. */
  #flush(): void {
    this.#flushScheduled = false;
    while (this.#queue.length && this.#inFlight < this.#opts.maxInFlight && !this.#closed) {
      const batch: Pending[] = [];
      let size = 0;
      let dumpInBatch = false;
      while (this.#queue.length && this.#inFlight + batch.length < this.#opts.maxInFlight) {
        const p = this.#pending.get(this.#queue[0]!);
        if (!p) { this.#queue.shift(); continue; }
        if (batch.length && size + p.bytes.length > this.#opts.maxBatchBytes) break;
        // The kernel runs one dump per socket at a time (a second one fails with EBUSY): later requests wait
        // behind a dump until it is done, which also keeps them in order.
        if (p.dump && (this.#dumpsInFlight > 0 || dumpInBatch)) break;
        dumpInBatch ||= p.dump;
        this.#queue.shift();
        batch.push(p);
        size += p.bytes.length;
      }
      if (!batch.length) break;
      this.#sendBatch(batch, size);
    }
  }

  #sendBatch(batch: Pending[], size: number): void {
    const data = batch.length === 1 ? batch[0]!.bytes : new Uint8Array(size);
    if (batch.length > 1) {
      let off = 0;
      for (const p of batch) { data.set(p.bytes, off); off += p.bytes.length; }
    }
    for (const p of batch) {
      this.#inFlight += 1;
      if (p.dump) this.#dumpsInFlight += 1;
      p.timer = setTimeout(() => this.#timeout(p), this.#opts.timeoutMs);
      // A pending request holds the loop (so its timeout fires) unless the user unref'd the socket.
      if (!this.#userRef) p.timer.unref();
    }
    try {
      this.#sys.send(this.fd, data, 0);
    } catch (err) {
      for (const p of batch) this.#finish(p, err instanceof Error ? wrapSendError(p.req.what, err) : new Error(String(err)));
    }
  }

  #timeout(p: Pending): void {
    this.#finish(p, new NetlinkTimeoutError(p.req.what, this.#opts.timeoutMs));
  }

  /** Stop tracking a request (answered, failed, timed out or restarted). */
  #forget(p: Pending): void {
    if (this.#pending.get(p.seq) === p) this.#pending.delete(p.seq);
    if (p.timer) {
      clearTimeout(p.timer);
      this.#inFlight -= 1;
      if (p.dump) this.#dumpsInFlight -= 1;
      p.timer = undefined;
    }
  }

  #finish(p: Pending, result: Error | NetlinkMessage[]): void {
    this.#forget(p);
    if (result instanceof Error) p.reject(result);
    else p.resolve(result);
    this.#updateRef();
    if (this.#queue.length && !this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => this.#flush());
    }
  }

  #onReceive(err: NativeError | null, data: Uint8Array | null, info: RecvInfo | null): void {
    if (err) {
      // A request socket that lost answers cannot tell which requests completed: fail them all.
      if (!this.#listening) this.#failAll((what) => wrapSendError(what, err));
      this.#emitError(err);
      return;
    }
    if (!data) return;
    let msgs: NetlinkMessage[];
    try {
      msgs = decodeMessages(data);
    } catch (decodeErr) {
      this.#emitError(decodeErr as Error);
      return;
    }
    const groups = info?.groups ?? 0;
    for (const msg of msgs) {
      const p = groups === 0 ? this.#pending.get(msg.seq) : undefined;
      if (p) this.#onReply(p, msg);
      else if (this.listenerCount('message') > 0) this.emit('message', msg, groups);
    }
  }

  #onReply(p: Pending, msg: NetlinkMessage): void {
    try {
      if (msg.type === NLMSG_ERROR) {
        const ack = decodeError(msg);
        this.#finish(p, ack.errno === 0 ? p.replies : new NetlinkKernelError(p.req.what, ack.errno, ack.extack));
      } else if (msg.type === NLMSG_DONE) {
        const done = decodeDone(msg);
        if (done.errno) this.#finish(p, new NetlinkKernelError(p.req.what, done.errno));
        else if (p.interrupted) this.#restartDump(p);
        else this.#finish(p, p.replies);
      } else if (msg.type !== NLMSG_NOOP && msg.type !== NLMSG_OVERRUN) {
        if (msg.flags & NLM_F_DUMP_INTR) p.interrupted = true;
        // The payload is a view into the receive buffer: keep our own copy.
        p.replies.push({ ...msg, payload: msg.payload.slice() });
      }
    } catch (err) {
      this.#finish(p, err as Error);
    }
  }

  /** The kernel changed the table mid-dump (NLM_F_DUMP_INTR): the parts may be inconsistent, so dump again. */
  #restartDump(p: Pending): void {
    if (p.attempts > this.#opts.dumpRetries) {
      this.#finish(p, new NetlinkKernelError(p.req.what, 4, `dump interrupted ${p.attempts} times by concurrent changes`));
      return;
    }
    this.#forget(p);
    const retry: Pending = { ...p, replies: [], interrupted: false, timer: undefined };
    this.#enqueue(retry);
  }

  #failAll(make: (what: string) => Error): void {
    for (const p of [...this.#pending.values()]) this.#finish(p, make(p.req.what));
    this.#queue.length = 0;
  }

  #emitError(err: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  #updateRef(): void {
    if (this.#closed) return;
    const want = this.#userRef && (this.#listening || this.#pending.size > 0);
    if (want === this.#ref) return;
    this.#ref = want;
    this.#sys.setRef(this.fd, want);
  }
}

function wrapSendError(what: string, err: Error): Error {
  const errno = (err as Partial<NativeError>).errno;
  return typeof errno === 'number' ? new NetlinkKernelError(what, errno, err.message) : err;
}
