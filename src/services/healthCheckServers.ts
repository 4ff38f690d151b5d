/**
 * healthCheckNodePort servers: for every LoadBalancer Service with externalTrafficPolicy Local, an HTTP server
 * on its healthCheckNodePort that answers 200 while this node has a ready, non-terminating local endpoint and
 * 503 otherwise (also while only terminating endpoints remain, so the load balancer drains this node before the
 * last pod goes: KEP-1669). Body as kube-proxy's pkg/proxy/healthcheck/service_health.go.
 */
import { createServer, type Server } from 'node:http';
import type { Logger } from '../common/logger.ts';
import { describeError } from '../common/errors.ts';
import type { ServiceModel } from './serviceModel.ts';

interface Entry {
  namespace: string;
  name: string;
  localEndpoints: number;
  server: Server;
}

export class HealthCheckServers {
  #byPort = new Map<number, Entry>();
  constructor(readonly opts: { host: string; logger: Logger; proxyHealthy: () => boolean }) {}

  /** Open servers for new health-check ports, close those no longer wanted, update endpoint counts. */
  reconcile(model: ServiceModel): void {
    const wanted = new Map<number, { namespace: string; name: string; localEndpoints: number }>();
    for (const p of model.ports) {
      if (p.healthCheckNodePort <= 0) continue;
      const prev = wanted.get(p.healthCheckNodePort);
      wanted.set(p.healthCheckNodePort, { namespace: p.namespace, name: p.name, localEndpoints: Math.max(prev?.localEndpoints ?? 0, p.localReadyCount) });
    }
    for (const [port, e] of this.#byPort) {
      if (!wanted.has(port)) {
        e.server.close();
        this.#byPort.delete(port);
      }
    }
    for (const [port, w] of wanted) {
      const e = this.#byPort.get(port);
      if (e) Object.assign(e, w);
      else this.#open(port, w);
    }
  }

  #open(port: number, w: { namespace: string; name: string; localEndpoints: number }): void {
    const entry: Entry = { ...w, server: createServer((_req, res) => {
      const healthy = this.opts.proxyHealthy();
      const ok = healthy && entry.localEndpoints > 0;
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json', 'x-content-type-options': 'nosniff' });
      res.end(JSON.stringify({ service: { namespace: entry.namespace, name: entry.name }, localEndpoints: entry.localEndpoints, serviceProxyHealthy: healthy }));
    }) };
    entry.server.on('error', (err) => this.opts.logger.error({ op: 'healthCheckNodePort', port, err: describeError(err) }, 'health check node port server failed'));
    entry.server.listen(port, this.opts.host);
    this.#byPort.set(port, entry);
  }

  close(): void {
    for (const e of this.#byPort.values()) e.server.close();
    this.#byPort.clear();
  }
}
