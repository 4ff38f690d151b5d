/**
 * @module common/opsServer — the HTTP surface every daemon part exposes: `/metrics` (prom-client) and a health
 * endpoint (`/healthz`, also `/health` and `/ready` for CoreDNS habits). Bound to loopback unless told otherwise.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HealthReport {
  healthy: boolean;
  /** Free-form detail returned as JSON: last sync time, failing part... */
  detail?: Record<string, unknown>;
}

/** What /metrics serves: a prom-client Registry, or anything that renders text the same way (the agent's aggregate). */
export interface MetricsSource {
  contentType: string;
  metrics(): Promise<string>;
}

export interface OpsServerOptions {
  host: string;
  port: number;
  registry?: MetricsSource;
  health?: () => HealthReport | Promise<HealthReport>;
  ready?: () => boolean;
  /**
   * How long to keep retrying a port that is still in use (default 15 s): on a restart, the process being
   * replaced may still be closing its listener (a part's child stopping while the new agent starts).
   */
  busyWaitMs?: number;
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
      Promise.resolve(opts.health ? opts.health() : { healthy: true }).then((h) => {
        res.writeHead(h.healthy ? 200 : 503, { 'content-type': 'application/json' });
        res.end(`${JSON.stringify({ healthy: h.healthy, ...h.detail })}\n`);
      }, (err: unknown) => {
        res.writeHead(503, { 'content-type': 'application/json' });
        res.end(`${JSON.stringify({ healthy: false, error: String(err) })}\n`);
      });
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
  await listenWhenFree(server, opts.host, opts.port, opts.busyWaitMs ?? 15_000);
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function listenWhenFree(server: Server, host: string, port: number, busyWaitMs: number): Promise<void> {
  const deadline = Date.now() + busyWaitMs;
  for (;;) {
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => { server.off('error', reject); resolve(); });
      });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || Date.now() >= deadline) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
