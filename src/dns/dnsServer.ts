/**
 * @module dns/dnsServer — assembles one DNS server: record index → zone resolver → query handler → UDP+TCP
 * listeners, plus the forwarder, its cache and the metrics. The caller feeds the index (storeFeed.ts in the daemon,
 * direct calls in tests) and owns the ops server.
 */
import { ConfigError } from '../common/errors.ts';
import type { Logger } from '../common/logger.ts';
import { DnsMetrics } from './dnsMetrics.ts';
import { registerLoopHealthMetrics } from './loopHealthMetrics.ts';
import { DEFAULT_TRANSPORT_LIMITS, startListeners, type DnsListeners, type UdpIo } from './dnsTransports.ts';
import { ForwardCache } from './forwardCache.ts';
import { QueryHandler } from './queryHandler.ts';
import { RecordIndex } from './recordIndex.ts';
import type { PodMode, ZoneIndex } from './zoneIndex.ts';
import { loopingUpstreams, type UpstreamAddress } from './resolvConf.ts';
import { UpstreamForwarder } from './upstreamForwarder.ts';
import { ZoneResolver } from './zoneResolver.ts';

export interface DnsServerOptions<I extends ZoneIndex = RecordIndex> {
  listen: { host: string; port: number };
  zone: string;
  pods: PodMode;
  /** Record TTL in seconds (CoreDNS default 5). */
  ttl: number;
  upstreams: UpstreamAddress[];
  logQueries: boolean;
  logger: Logger;
  forwardTimeoutMs?: number;
  limits?: Partial<typeof DEFAULT_TRANSPORT_LIMITS>;
  /**
   * Answer from this index instead of a fresh RecordIndex (same zone): a ReplicaIndex fed by the index worker
   * (`podnetd dns`), or a test's own.
   */
  index?: I;
  /** UDP path: 'recvmmsg' (default; native batches, falls back to dgram without the addon) or 'dgram'. */
  udpIo?: UdpIo;
}

export interface RunningDnsServer<I extends ZoneIndex = RecordIndex> {
  index: I;
  metrics: DnsMetrics;
  forwarder: UpstreamForwarder | null;
  port: number;
  /** The UDP path actually in use. */
  udpIo: UdpIo;
  close(): Promise<void>;
}

export async function startDnsServer<I extends ZoneIndex = RecordIndex>(opts: DnsServerOptions<I>): Promise<RunningDnsServer<I>> {
  const loops = loopingUpstreams(opts.upstreams, opts.listen);
  if (loops.length) {
    throw new ConfigError(`upstream ${loops.map((u) => `${u.host}:${u.port}`).join(', ')} is this server itself `
      + '(a forwarding loop); give --upstream with a real resolver', { field: '--upstream' });
  }
  const index = opts.index ?? (new RecordIndex({ zone: opts.zone, pods: opts.pods }) as ZoneIndex as I);
  const logger = opts.logger.child({ subsystem: 'dns' });
  const host = opts.listen.host.includes(':') ? `[${opts.listen.host}]` : opts.listen.host;
  const metrics = new DnsMetrics(`dns://${host}:${opts.listen.port}`, opts.zone);
  const forwarder = opts.upstreams.length ? new UpstreamForwarder({
    upstreams: opts.upstreams, timeoutMs: opts.forwardTimeoutMs ?? 2000, maxFails: 2, healthCheckMs: 500, maxConcurrent: 1000,
  }) : null;
  const cache = new ForwardCache({ maxEntries: 9984, maxPositiveTtl: 3600, maxNegativeTtl: 1800, defaultNegativeTtl: 5 });
  const handler = new QueryHandler({
    index, resolver: new ZoneResolver(index, { ttl: opts.ttl }), forwarder, cache, metrics, logger, logQueries: opts.logQueries,
  });
  let listeners: DnsListeners;
  try {
    listeners = await startListeners(handler, { ...DEFAULT_TRANSPORT_LIMITS, ...opts.limits, ...opts.listen, udpIo: opts.udpIo ?? 'recvmmsg' }, logger);
  } catch (err) {
    forwarder?.close();
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new ConfigError(`cannot listen on ${opts.listen.host}:${opts.listen.port} (${code})`, { field: '--listen' });
  }
  const loopHealth = registerLoopHealthMetrics(metrics.registry);
  logger.info({ event: 'listening', host: opts.listen.host, port: listeners.port, zone: opts.zone, upstreams: opts.upstreams.length, udpIo: listeners.udpIo }, 'DNS server listening (UDP+TCP)');
  return {
    index, metrics, forwarder, port: listeners.port, udpIo: listeners.udpIo,
    close: async () => {
      forwarder?.close();
      loopHealth.stop();
      await listeners.close();
    },
  };
}
