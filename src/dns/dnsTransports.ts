/**
 * @module dns/dnsTransports — UDP and TCP on one port (RFC 7766: TCP is not optional; coredns#844).
 *
 * TCP defences, so slow or hostile clients cannot starve others: a connection cap, an idle timeout (also covers
 * a client that never finishes a frame), a cap on queries in flight per connection (reading pauses at the cap),
 * and a cap on unsent response bytes (a client that does not read is dropped). Frames are at most 65535 bytes by
 * construction (2-byte length); zero-length frames close the connection.
 */
import cluster from 'node:cluster';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIP, isIPv6, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../common/logger.ts';
import { describeError } from '../common/errors.ts';
import type { QueryHandler } from './queryHandler.ts';
import { batchBinding, bindBatchUdp } from './udpBatchTransport.ts';

/** How UDP is read: recvmmsg/sendmmsg batches through the native addon, or node:dgram (one callback per datagram). */
export type UdpIo = 'recvmmsg' | 'dgram';

export interface TransportOptions {
  host: string;
  port: number;
  /** Preferred UDP path; 'recvmmsg' falls back to dgram when the addon lacks it or in a node:cluster worker. */
  udpIo?: UdpIo;
  tcpIdleMs: number;
  maxTcpConnections: number;
  maxInFlightPerConnection: number;
  maxUnsentBytes: number;
}

export const DEFAULT_TRANSPORT_LIMITS = { tcpIdleMs: 10_000, maxTcpConnections: 1000, maxInFlightPerConnection: 64, maxUnsentBytes: 1 << 20 };

export interface DnsListeners {
  port: number;
  /** The UDP path in use. */
  udpIo: UdpIo;
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

interface UdpListener { port: number; udpIo: UdpIo; close(): void }

/**
 * The batch path needs the addon's batch functions, and its own socket: node:cluster workers share the primary's
 * dgram socket (a worker's own socket would need SO_REUSEPORT, and the kernel then pins each client to one worker).
 */
async function listenUdp(host: string, port: number, handler: QueryHandler, opts: TransportOptions, logger: Logger): Promise<UdpListener> {
  // A literal address only: dgram resolves names and scoped (fe80::1%eth0) addresses, bindInet takes bytes.
  const literal = isIP(host) !== 0 && !host.includes('%');
  const batch = (opts.udpIo ?? 'recvmmsg') === 'recvmmsg' && !cluster.isWorker && literal ? batchBinding() : null;
  if (batch) {
    const s = bindBatchUdp(batch, host, port, handler, logger);
    return { port: s.port, udpIo: 'recvmmsg', close: () => s.close() };
  }
  const udp = await bindUdp(host, port, handler, logger);
  return { port: (udp.address() as AddressInfo).port, udpIo: 'dgram', close: () => udp.close() };
}

/** Bind UDP then TCP on the same port; with port 0, retry a few ephemeral ports until both are free. */
export async function startListeners(handler: QueryHandler, opts: TransportOptions, logger: Logger): Promise<DnsListeners> {
  for (let attempt = 0; ; attempt++) {
    const udp = await listenUdp(opts.host, opts.port, handler, opts, logger);
    const port = udp.port;
    try {
      const tcp = await listenTcp(opts.host, port, handler, opts);
      return {
        port, udpIo: udp.udpIo, tcp,
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
