/**
 * @module dns/upstreamForwarder — sends names outside our zones to the upstream resolvers and tracks their health.
 *
 * UDP through one socket per address family with a fresh random ID per query (the client's ID is restored on the
 * way back; answers from an unexpected address or with an unknown ID are ignored); TCP for clients that asked
 * over TCP (so a TC answer is never the end of the road). Health as CoreDNS `forward`: an upstream is down after
 * `maxFails` consecutive failures, probed with `. IN NS` every `healthCheckMs` until it answers; queries go to a
 * random healthy upstream, or to any when none is healthy, and a query one upstream drops is tried on the others
 * before the client hears nothing. More than `maxConcurrent` outstanding queries get
 * REFUSED instead of queueing without bound.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect } from 'node:net';
import { isIPv6 } from 'node:net';
import { randomInt } from 'node:crypto';
import type { UpstreamAddress } from './resolvConf.ts';

export interface ForwarderOptions {
  upstreams: UpstreamAddress[];
  timeoutMs: number;
  maxFails: number;
  healthCheckMs: number;
  maxConcurrent: number;
}

export type ForwardOutcome =
  | { ok: true; response: Buffer; upstream: string }
  | { ok: false; reason: 'noUpstream' | 'timeout' | 'overloaded' | 'error'; upstream?: string };

interface UpstreamState { addr: UpstreamAddress; label: string; fails: number; probing: NodeJS.Timeout | null }
interface Pending { resolve: (b: Buffer | null) => void; timer: NodeJS.Timeout; upstream: UpstreamState }

const HEALTH_QUERY = Buffer.from([0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 1]); // ". IN NS", RD clear

export class UpstreamForwarder {
  readonly #opts: ForwarderOptions;
  readonly #upstreams: UpstreamState[];
  readonly #sockets = new Map<'udp4' | 'udp6', UdpSocket>();
  readonly #pending = new Map<number, Pending>();
  #closed = false;

  constructor(opts: ForwarderOptions) {
    this.#opts = opts;
    this.#upstreams = opts.upstreams.map((addr) => ({
      addr, label: addr.host.includes(':') ? `[${addr.host}]:${addr.port}` : `${addr.host}:${addr.port}`, fails: 0, probing: null,
    }));
  }

  get inFlight(): number {
    return this.#pending.size;
  }

  /** Health of each upstream, for /health detail and tests. */
  health(): Array<{ upstream: string; healthy: boolean }> {
    return this.#upstreams.map((u) => ({ upstream: u.label, healthy: u.fails < this.#opts.maxFails }));
  }

  async forward(query: Buffer, tcp: boolean): Promise<ForwardOutcome> {
    if (this.#upstreams.length === 0) return { ok: false, reason: 'noUpstream' };
    if (this.#pending.size >= this.#opts.maxConcurrent) return { ok: false, reason: 'overloaded' };
    const clientId = query.readUInt16BE(0);
    // Like CoreDNS forward: an upstream that does not answer is not the end; try the others (healthy first) before
    // the client hears nothing.
    const tried = new Set<UpstreamState>();
    let last: UpstreamState | undefined;
    for (let u = this.#pick(tried); u; u = this.#pick(tried)) {
      tried.add(u);
      last = u;
      const response = tcp ? await this.#tcpExchange(u, query) : await this.#udpExchange(u, query);
      if (!response) {
        this.#failed(u);
        continue;
      }
      u.fails = 0;
      response.writeUInt16BE(clientId, 0);
      return { ok: true, response, upstream: u.label };
    }
    return { ok: false, reason: 'timeout', upstream: last!.label };
  }

  close(): void {
    this.#closed = true;
    for (const p of this.#pending.values()) { clearTimeout(p.timer); p.resolve(null); }
    this.#pending.clear();
    for (const u of this.#upstreams) if (u.probing) clearInterval(u.probing);
    for (const s of this.#sockets.values()) s.close();
    this.#sockets.clear();
  }

  /** A random healthy upstream not yet tried for this query, else any untried one; undefined when all were. */
  #pick(tried: ReadonlySet<UpstreamState>): UpstreamState | undefined {
    const untried = this.#upstreams.filter((u) => !tried.has(u));
    const healthy = untried.filter((u) => u.fails < this.#opts.maxFails);
    const from = healthy.length ? healthy : untried;
    if (from.length === 0) return undefined;
    return from[from.length === 1 ? 0 : randomInt(from.length)]!;
  }

  #failed(u: UpstreamState): void {
    u.fails++;
    if (u.fails < this.#opts.maxFails || u.probing || this.#closed) return;
    u.probing = setInterval(() => {
      void this.#udpExchange(u, HEALTH_QUERY).then((r) => {
        if (r && u.probing) { clearInterval(u.probing); u.probing = null; u.fails = 0; }
      });
    }, this.#opts.healthCheckMs);
    u.probing.unref();
  }

  #socket(family: 'udp4' | 'udp6'): UdpSocket {
    let s = this.#sockets.get(family);
    if (s) return s;
    s = createSocket(family);
    s.on('message', (msg, rinfo) => this.#onUdpMessage(msg, rinfo.address, rinfo.port));
    s.on('error', () => { /* a send error resolves through the timeout */ });
    s.unref();
    this.#sockets.set(family, s);
    return s;
  }

  #onUdpMessage(msg: Buffer, address: string, port: number): void {
    if (msg.length < 12) return;
    const p = this.#pending.get(msg.readUInt16BE(0));
    if (!p || p.upstream.addr.port !== port || p.upstream.addr.host !== address) return;
    this.#pending.delete(msg.readUInt16BE(0));
    clearTimeout(p.timer);
    p.resolve(msg);
  }

  #udpExchange(u: UpstreamState, query: Buffer): Promise<Buffer | null> {
    if (this.#closed) return Promise.resolve(null);
    let id = randomInt(65536);
    for (let i = 0; i < 8 && this.#pending.has(id); i++) id = randomInt(65536);
    if (this.#pending.has(id)) return Promise.resolve(null);
    const out = Buffer.from(query);
    out.writeUInt16BE(id, 0);
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.#pending.delete(id); resolve(null); }, this.#opts.timeoutMs);
      this.#pending.set(id, { resolve, timer, upstream: u });
      this.#socket(isIPv6(u.addr.host) ? 'udp6' : 'udp4').send(out, u.addr.port, u.addr.host);
    });
  }

  #tcpExchange(u: UpstreamState, query: Buffer): Promise<Buffer | null> {
    return new Promise((resolve) => {
      const sock = connect({ host: u.addr.host, port: u.addr.port });
      let buf = Buffer.alloc(0);
      const finish = (r: Buffer | null) => { clearTimeout(timer); sock.destroy(); resolve(r); };
      const timer = setTimeout(() => finish(null), this.#opts.timeoutMs);
      sock.on('error', () => finish(null));
      sock.on('connect', () => {
        const frame = Buffer.alloc(2 + query.length);
        frame.writeUInt16BE(query.length, 0);
        query.copy(frame, 2);
        sock.write(frame);
      });
      sock.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) finish(buf.subarray(2, 2 + buf.readUInt16BE(0)));
      });
      sock.on('end', () => finish(null));
    });
  }
}
