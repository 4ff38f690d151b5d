/**
 * @module common/opsServer — the HTTP surface every daemon part exposes: `/metrics` (prom-client) and a health
 * endpoint (`/healthz`, also `/health` and `/ready` for CoreDNS habits). Bound to loopback unless told otherwise.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface HealthReport {
  healthy: boolean;
  /** Free-form detail returned as JSON: last sync time, failing part... */
  detail?: Record<string, unknown>;
}

export interface OpsServerOptions {
  host: string;
  port: number;
  registry?: Registry;
  health?: () => HealthReport;
  ready?: () => boolean;
}

export interface OpsServer {
  server: Server;
  port: number;
  close(): Promise<void>;
}

/** Parse `ADDR:PORT` (IPv6 as `[::1]:PORT`); errors name the flag. */
export function parseListenAddress(value: string, flag: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new Error(`${flag}: expected ADDR:PORT (e.g. 127.0.0.1:9090), got "${value}"`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

export async function startOpsServer(opts: OpsServerOptions): Promise<OpsServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics' && opts.registry) {
      opts.registry.metrics().then((body) => {
        res.writeHead(200, { 'content-type': opts.registry!.contentType });
        res.end(body);
      }, (err: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`collecting metrics: ${String(err)}\n`);
      });
      return;
    }
    if (path === '/healthz' || path === '/health' || path === '/livez') {
      const h = opts.health ? opts.health() : { healthy: true };
      res.writeHead(h.healthy ? 200 : 503, { 'content-type': 'application/json' });
      res.end(`${JSON.stringify({ healthy: h.healthy, ...h.detail })}\n`);
      return;
    }
    if (path === '/ready' || path === '/readyz') {
      const ok = opts.ready ? opts.ready() : true;
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' });
      res.end(ok ? 'OK\n' : 'not ready\n');
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
