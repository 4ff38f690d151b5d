/**
 * @module lab/testServer — `podnetctl lab serve`, the lab's agnhost: the backend every end-to-end test talks to, so
 * a test can ask "which pod answered" and "which source address did it see".
 *
 *   HTTP  GET /hostname → the pod name; GET /clientip → the peer's `addr:port` as this server sees it
 *         (`[v6]:port` for IPv6); GET /healthz → `ok`; GET /echo?msg=X → X.
 *   UDP   any datagram → the pod name; the datagram `clientip` → the peer's `addr:port`.
 *   TCP   each line → the pod name; the line `clientip` → the peer's `addr:port`.
 *
 * Listens on `::` (dual stack: IPv4 peers appear as themselves, the `::ffff:` mapping is removed), or on 0.0.0.0
 * when the namespace has no IPv6.
 */
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createInterface } from 'node:readline';

export const DEFAULT_SERVE_PORTS = { http: 8080, udp: 8081, tcp: 8082 } as const;

export interface TestServerOptions {
  name: string;
  http: number;
  udp: number;
  tcp: number;
  /** Bind address; default `::`, falling back to 0.0.0.0. */
  host?: string;
}

export interface TestServer {
  name: string;
  host: string;
  ports: { http: number; udp: number; tcp: number };
  close(): Promise<void>;
}

/** `addr:port` as a client would write it back: IPv4-mapped addresses unmapped, IPv6 in brackets. */
export function formatPeer(address: string | undefined, port: number | undefined): string {
  const a = (address ?? '').replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');
  return `${a.includes(':') ? `[${a}]` : a}:${port ?? 0}`;
}

function answerFor(message: string, name: string, peer: string): string {
  return message.trim() === 'clientip' ? peer : name;
}

function httpServer(name: string): HttpServer {
  return createHttpServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://lab');
    const reply = (code: number, body: string) => {
      res.writeHead(code, { 'content-type': 'text/plain' });
      res.end(body);
    };
    switch (url.pathname) {
      case '/hostname': return reply(200, name);
      case '/clientip': return reply(200, formatPeer(req.socket.remoteAddress, req.socket.remotePort));
      case '/healthz': return reply(200, 'ok');
      case '/echo': return reply(200, url.searchParams.get('msg') ?? '');
      default: return reply(404, `no such path ${url.pathname} (try /hostname, /clientip, /healthz)\n`);
    }
  });
}

function tcpServer(name: string): TcpServer {
  return createTcpServer((sock) => {
    sock.on('error', () => sock.destroy());
    const peer = formatPeer(sock.remoteAddress, sock.remotePort);
    createInterface({ input: sock }).on('line', (line) => {
      if (sock.writable) sock.write(`${answerFor(line, name, peer)}\n`);
    });
  });
}

function udpServer(name: string, family: 'udp4' | 'udp6'): UdpSocket {
  const sock = createSocket({ type: family, ipv6Only: false });
  sock.on('message', (msg, rinfo) => {
    sock.send(answerFor(msg.toString('utf8'), name, formatPeer(rinfo.address, rinfo.port)), rinfo.port, rinfo.address);
  });
  return sock;
}

function listen(server: HttpServer | TcpServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host }, () => resolve((server.address() as AddressInfo).port));
  });
}

function bindUdp(sock: UdpSocket, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(port, host, () => resolve(sock.address().port));
  });
}

async function startOn(o: TestServerOptions, host: string): Promise<TestServer> {
  const http = httpServer(o.name);
  const tcp = tcpServer(o.name);
  const udp = udpServer(o.name, host.includes(':') ? 'udp6' : 'udp4');
  const tcpConnections = new Set<Socket>();
  tcp.on('connection', (c) => {
    tcpConnections.add(c);
    c.on('close', () => tcpConnections.delete(c));
  });
  const close = async () => {
    http.closeAllConnections();
    for (const c of tcpConnections) c.destroy();
    await Promise.all([
      new Promise<void>((r) => http.close(() => r())),
      new Promise<void>((r) => tcp.close(() => r())),
      new Promise<void>((r) => { try { udp.close(() => r()); } catch { r(); } }),
    ]);
  };
  try {
    const ports = { http: await listen(http, o.http, host), udp: await bindUdp(udp, o.udp, host),
      tcp: await listen(tcp, o.tcp, host) };
    return { name: o.name, host, ports, close };
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
}

export async function startTestServer(o: TestServerOptions): Promise<TestServer> {
  if (o.host) return startOn(o, o.host);
  try {
    return await startOn(o, '::');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EAFNOSUPPORT' && code !== 'EADDRNOTAVAIL') throw err;
    return startOn(o, '0.0.0.0');
  }
}
