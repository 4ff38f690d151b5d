/**
 * @module dns/dnsTransports — UDP and TCP on one port (RFC 7766: TCP is not optional; coredns#844).
 *
 * TCP defences, so slow or hostile clients cannot starve others: a connection cap, an idle timeout (also covers
 * a client that never finishes a frame), a cap on queries in flight per connection (reading pauses at the cap),
 * and a cap on unsent response bytes (a client that does not read is dropped). Frames are at most 65535 bytes by
 * construction (2-byte length); zero-length frames close the connection.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIPv6, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../common/logger.ts';
import { describeError } from '../common/errors.ts';
import type { QueryHandler } from './queryHandler.ts';

export interface TransportOptions {
  host: string;
  port: number;
  tcpIdleMs: number;
  maxTcpConnections: number;
  maxInFlightPerConnection: number;
  maxUnsentBytes: number;
}

export const DEFAULT_TRANSPORT_LIMITS = { tcpIdleMs: 10_000, maxTcpConnections: 1000, maxInFlightPerConnection: 64, maxUnsentBytes: 1 << 20 };

export interface DnsListeners {
  port: number;
  udp: UdpSocket;
  tcp: Server;
  close(): Promise<void>;
}

function bindUdp(host: string, port: number, handler: QueryHandler, logger: Logger): Promise<UdpSocket> {
  const sock = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4' });
  // One client record per family for the hot path; the address is filled only when queries are logged.
  const v4 = { transport: 'udp' as const, family: 1 as const, address: '' };
  const v6 = { transport: 'udp' as const, family: 2 as const, address: '' };
  sock.on('message', (msg, rinfo) => {
    const base = rinfo.family === 'IPv6' ? v6 : v4;
    const client = handler.wantsClientAddress ? { ...base, address: rinfo.address } : base;
    const r = handler.handle(msg, client);
    if (r === null) return;
    if (!(r instanceof Promise)) sock.send(r, rinfo.port, rinfo.address);
    else r.then((b) => { if (b) sock.send(b, rinfo.port, rinfo.address); }, () => { /* handler logs */ });
  });
  return new Promise((resolve, reject) => {
    sock.once('error', reject);
    sock.bind({ address: host, port }, () => {
      sock.removeListener('error', reject);
      sock.on('error', (err) => logger.error({ op: 'udp', err: describeError(err) }, 'UDP socket error'));
      resolve(sock);
    });
  });
}

function serveTcpConnection(sock: Socket, handler: QueryHandler, opts: TransportOptions): void {
  let buf = Buffer.alloc(0);
  let inFlight = 0;
  const family = sock.remoteFamily === 'IPv6' ? 2 : 1;
  const client = { transport: 'tcp' as const, family: family as 1 | 2, address: sock.remoteAddress ?? '' };
  sock.setTimeout(opts.tcpIdleMs, () => sock.destroy());
  sock.on('error', () => sock.destroy());
  const send = (b: Buffer | null) => {
    inFlight--;
    if (b && !sock.destroyed) {
      const frame = Buffer.allocUnsafe(2 + b.length);
      frame.writeUInt16BE(b.length, 0);
      b.copy(frame, 2);
      sock.write(frame);
      if (sock.writableLength > opts.maxUnsentBytes) sock.destroy();
    }
    if (inFlight < opts.maxInFlightPerConnection && sock.isPaused()) sock.resume();
  };
  sock.on('data', (chunk) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    while (buf.length >= 2) {
      const len = buf.readUInt16BE(0);
      if (len === 0) { sock.destroy(); return; }
      if (buf.length < 2 + len) break;
      const msg = buf.subarray(2, 2 + len);
      buf = buf.subarray(2 + len);
      inFlight++;
      const r = handler.handle(Buffer.from(msg), client);
      if (r instanceof Promise) r.then(send, () => send(null));
      else send(r);
    }
    if (inFlight >= opts.maxInFlightPerConnection) sock.pause();
  });
}

const openSockets = new WeakMap<Server, Set<Socket>>();

function listenTcp(host: string, port: number, handler: QueryHandler, opts: TransportOptions): Promise<Server> {
  const sockets = new Set<Socket>();
  const server = createServer({ noDelay: true }, (sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    serveTcpConnection(sock, handler, opts);
  });
  openSockets.set(server, sockets);
  server.maxConnections = opts.maxTcpConnections;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => { server.removeListener('error', reject); resolve(server); });
  });
}

/** Bind UDP then TCP on the same port; with port 0, retry a few ephemeral ports until both are free. */
export async function startListeners(handler: QueryHandler, opts: TransportOptions, logger: Logger): Promise<DnsListeners> {
  for (let attempt = 0; ; attempt++) {
    const udp = await bindUdp(opts.host, opts.port, handler, logger);
    const port = (udp.address() as AddressInfo).port;
    try {
      const tcp = await listenTcp(opts.host, port, handler, opts);
      return {
        port, udp, tcp,
        close: () => new Promise<void>((resolve) => {
          udp.close();
          tcp.close(() => resolve());
          for (const s of openSockets.get(tcp) ?? []) s.destroy();
        }),
      };
    } catch (err) {
      udp.close();
      if (opts.port !== 0 || attempt >= 5) throw err;
    }
  }
}
