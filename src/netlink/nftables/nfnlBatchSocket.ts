/**
 * @module netlink/nftables/nfnlBatchSocket — a NETLINK_NETFILTER socket (opened inside a netns by the native
 * addon) that commits nf_tables batches, one at a time.
 *
 * nfnetlink processes a batch synchronously inside sendmsg: errors of any message are queued (the kernel keeps
 * processing to report them all, then aborts the whole batch), and, when the batch commits, the ACK the last
 * operation asked for. So a commit resolves on that ACK and rejects on the first error, naming the operation.
 * Unlike `nft`, nothing is listed first: no cache, no generation check beyond the kernel's own.
 */
import type { NativeError } from '../../native/types.ts';
import { decodeError, decodeMessages } from '../codec.ts';
import { NETLINK_CAP_ACK, NETLINK_EXT_ACK, NETLINK_NETFILTER, NLMSG_ERROR, SOL_NETLINK } from '../constants.ts';
import { NetlinkClosedError, NetlinkKernelError, NetlinkTimeoutError } from '../errors.ts';
import type { NetnsRef } from '../../native/types.ts';
import type { NetlinkSyscalls } from '../socketTypes.ts';
import { encodeNftBatch, type NftBatchInput } from './nftMessages.ts';

const SOL_SOCKET = 1;
const SO_SNDBUFFORCE = 32;
const DEFAULT_SNDBUF = 208 * 1024;

interface InFlight {
  beginSeq: number;
  lastSeq: number;
  describe(seq: number): string;
  resolve(): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

export interface NfnlBatchSocketOptions {
  netns?: NetnsRef;
  /** Time limit per batch; default 30 s. */
  timeoutMs?: number;
  /** Defaults to the podnet native addon. */
  binding?: NetlinkSyscalls;
}

export class NfnlBatchSocket {
  readonly #sys: NetlinkSyscalls;
  readonly #fd: number;
  readonly #timeoutMs: number;
  #seq = 1 + Math.floor(Math.random() * 0x3fffffff);
  #sndbuf = DEFAULT_SNDBUF;
  #current: InFlight | null = null;
  #queue: Promise<void> = Promise.resolve();
  #closed = false;

  static async open(opts: NfnlBatchSocketOptions = {}): Promise<NfnlBatchSocket> {
    return new NfnlBatchSocket(opts.binding ?? (await import('../../native/index.ts')).native, opts);
  }

  constructor(sys: NetlinkSyscalls, opts: NfnlBatchSocketOptions = {}) {
    this.#sys = sys;
    this.#timeoutMs = opts.timeoutMs ?? 30_000;
    this.#fd = sys.openNetlink({ protocol: NETLINK_NETFILTER, netns: opts.netns, rcvbuf: 1 << 20 });
    try {
      for (const opt of [NETLINK_CAP_ACK, NETLINK_EXT_ACK]) {
        try { sys.setsockoptInt(this.#fd, SOL_NETLINK, opt, 1); } catch { /* older kernel: plain errors */ }
      }
      sys.startReading(this.#fd, (err, data) => this.#onReceive(err, data), 1 << 16);
      sys.setRef(this.#fd, false);
    } catch (err) {
      sys.close(this.#fd);
      throw err;
    }
  }

  /** Encode and commit one transaction (ops on one table); batches are serialised. */
  commit(input: Omit<NftBatchInput, 'seq'>): Promise<void> {
    const run = this.#queue.then(() => this.#commitNow(input));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#sys.close(this.#fd);
    this.#current?.reject(new NetlinkClosedError('committing an nf_tables batch'));
  }

  #commitNow(input: Omit<NftBatchInput, 'seq'>): Promise<void> {
    if (this.#closed) return Promise.reject(new NetlinkClosedError('committing an nf_tables batch'));
    if (this.#seq > 0x7fff0000 - input.ops.length * 2) this.#seq = 1;
    const batch = encodeNftBatch({ ...input, seq: this.#seq });
    this.#seq = batch.lastSeq + 2;
    // netlink refuses a datagram larger than the send buffer (EMSGSIZE): grow it like nft does for big batches.
    if (batch.bytes.length + 1024 > this.#sndbuf) {
      this.#sndbuf = batch.bytes.length + 64 * 1024;
      this.#sys.setsockoptInt(this.#fd, SOL_SOCKET, SO_SNDBUFFORCE, this.#sndbuf);
    }
    return new Promise<void>((resolve, reject) => {
      const done = (err?: Error) => {
        clearTimeout(flight.timer);
        this.#current = null;
        this.#sys.setRef(this.#fd, false);
        if (err) reject(err);
        else resolve();
      };
      const flight: InFlight = {
        beginSeq: batch.beginSeq, lastSeq: batch.lastSeq, describe: batch.describe,
        resolve: () => done(), reject: (e) => done(e),
        timer: setTimeout(() => done(new NetlinkTimeoutError('committing an nf_tables batch', this.#timeoutMs)), this.#timeoutMs),
      };
      this.#current = flight;
      this.#sys.setRef(this.#fd, true);
      try {
        this.#sys.send(this.#fd, batch.bytes, 0);
      } catch (err) {
        const e = err as Partial<NativeError> & Error;
        done(typeof e.errno === 'number' ? new NetlinkKernelError('sending an nf_tables batch', e.errno, e.message) : e);
      }
    });
  }

  #onReceive(err: NativeError | null, data: Uint8Array | null): void {
    const f = this.#current;
    if (!f) return; // answers of a batch that already failed: its first error was reported
    if (err) {
      f.reject(new NetlinkKernelError('reading the nf_tables batch result', err.errno, err.message));
      return;
    }
    if (!data) return;
    let msgs;
    try {
      msgs = decodeMessages(data);
    } catch (decodeErr) {
      f.reject(decodeErr as Error);
      return;
    }
    for (const msg of msgs) {
      if (msg.type !== NLMSG_ERROR || msg.seq < f.beginSeq || msg.seq > f.lastSeq) continue;
      const ack = decodeError(msg);
      if (ack.errno !== 0) {
        f.reject(new NetlinkKernelError(f.describe(msg.seq), ack.errno, ack.extack));
        return;
      }
      if (msg.seq === f.lastSeq) {
        f.resolve();
        return;
      }
    }
  }
}
