/**
 * @module dns/dnsAgentPart — cluster DNS as a part of `podnetd agent` (composed by src/daemon/agentParts.ts), configured by the
 * agent config's `dns` section (on when present; `enabled: false` turns it off):
 *
 *   dns: { listen: "<nodeIP>:53", upstreams: [ADDR[:PORT]...] | "none" (default /etc/resolv.conf),
 *          pods: disabled|insecure|verified, ttl: 5, logQueries: false, publish: true }
 *
 * How pods reach it at the cluster DNS address (`clusterDNS`, 10.96.0.10): the server listens on the node's own
 * address, and with `publish` the part makes itself a Service endpoint, the way a hostNetwork CoreDNS pod would be:
 * it creates the selector-less Service `kube-system/kube-dns` (clusterIP = clusterDNS, 53/UDP `dns` + 53/TCP
 * `dns-tcp`) if absent, and, once its index has synced, writes the EndpointSlice `kube-system/kube-dns-<node>`
 * (this node's address, ready). The proxy on every node then DNATs 10.96.0.10:53 to the ready servers like any
 * Service. The slice is deleted on a clean stop. Rejected: a DNS pod per node in the lab (the lab would then
 * carry the server instead of podnetd), and binding 10.96.0.10 itself on every node (the address would answer
 * on the underlay too and bypass the proxy, so no spreading and no failover).
 * Known gap: a node that dies without stopping leaves its slice (ready) until it comes back.
 */
import type { AgentContext, AgentPart } from '../common/agentPart.ts';
import { FieldReader } from '../common/config.ts';
import type { AgentConfig } from '../node/agentConfig.ts';
import { describeError } from '../common/errors.ts';
import type { Logger } from '../common/logger.ts';
import { parseListenAddress } from '../common/opsServer.ts';
import { retryUpdate, type Store } from '../store/store.ts';
import type { EndpointSlice, Service } from '../store/types.ts';
import type { PodMode } from './recordIndex.ts';
import { startDnsServer, type RunningDnsServer } from './dnsServer.ts';
import { feedIndexFromStore, type StoreFeed } from './storeFeed.ts';
import { feedIndexFromWorker } from './indexWorkerFeed.ts';
import { ReplicaIndex } from './replicaIndex.ts';
import type { ZoneIndex } from './zoneIndex.ts';
import type { LevelWithSilent } from 'pino';
import { parseUpstream, readResolvConf, type UpstreamAddress } from './resolvConf.ts';

export const DNS_SERVICE = { name: 'kube-dns', namespace: 'kube-system' } as const;
const MANAGED_BY = 'podnet.io/dns';

export interface DnsSection {
  listen: { host: string; port: number };
  upstreams: UpstreamAddress[];
  pods: PodMode;
  ttl: number;
  logQueries: boolean;
  publish: boolean;
}

/** `raw` is the section as written (for `upstreams`, which may be the string "none" or a list). */
export function readDnsSection(r: FieldReader, nodeIP: string, present: boolean, raw: unknown = undefined): DnsSection | undefined {
  const enabled = present && r.bool('enabled', true);
  let listen = { host: nodeIP, port: 53 };
  try { listen = parseListenAddress(r.string('listen', `${nodeIP}:53`) ?? '', 'listen'); } catch (err) {
    r.problem('listen', describeError(err).replace('listen: ', ''));
  }
  let upstreams: UpstreamAddress[] = [];
  if ((raw as { upstreams?: unknown } | undefined)?.upstreams === 'none') r.string('upstreams');
  else if (r.has('upstreams')) {
    for (const u of r.stringList('upstreams')) {
      try { upstreams.push(parseUpstream(u, 'upstreams')); } catch (err) { r.problem('upstreams', describeError(err).replace('upstreams: ', '')); }
    }
  } else if (enabled) upstreams = readResolvConf();
  const pods = r.oneOf('pods', ['disabled', 'insecure', 'verified'] as const, 'disabled');
  const ttl = r.int('ttl', 5, { min: 0, max: 3600 });
  const logQueries = r.bool('logQueries', false);
  const publish = r.bool('publish', true);
  r.rejectUnknown();
  return enabled ? { listen, upstreams, pods, ttl, logQueries, publish } : undefined;
}

export function dnsService(clusterDNS: string, port: number): Service {
  return {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name: DNS_SERVICE.name, namespace: DNS_SERVICE.namespace, labels: { 'k8s-app': 'kube-dns', 'kubernetes.io/name': 'CoreDNS' } },
    spec: {
      type: 'ClusterIP', clusterIP: clusterDNS, clusterIPs: [clusterDNS],
      ports: [{ name: 'dns', protocol: 'UDP', port: 53, targetPort: port }, { name: 'dns-tcp', protocol: 'TCP', port: 53, targetPort: port }],
    },
  } as Service;
}

export function dnsEndpointSlice(nodeName: string, address: string, port: number): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: {
      name: `${DNS_SERVICE.name}-${nodeName}`, namespace: DNS_SERVICE.namespace,
      labels: { 'kubernetes.io/service-name': DNS_SERVICE.name, 'endpointslice.kubernetes.io/managed-by': MANAGED_BY },
    },
    addressType: 'IPv4',
    ports: [{ name: 'dns', protocol: 'UDP', port }, { name: 'dns-tcp', protocol: 'TCP', port }],
    endpoints: [{ addresses: [address], nodeName, conditions: { ready: true, serving: true, terminating: false } }],
  } as EndpointSlice;
}

async function publish(store: Store, nodeName: string, clusterDNS: string, listen: DnsSection['listen'], logger: Logger): Promise<void> {
  await retryUpdate(store, 'Service', DNS_SERVICE.name, DNS_SERVICE.namespace, (cur) => (cur ? undefined : dnsService(clusterDNS, listen.port)));
  const slice = dnsEndpointSlice(nodeName, listen.host, listen.port);
  await retryUpdate(store, 'EndpointSlice', slice.metadata.name, DNS_SERVICE.namespace, (cur) =>
    (cur && JSON.stringify(cur.endpoints) === JSON.stringify(slice.endpoints) && JSON.stringify(cur.ports) === JSON.stringify(slice.ports) ? undefined : slice));
  logger.info({ event: 'dnsPublished', endpoint: `${listen.host}:${listen.port}` }, `dns: published as an endpoint of ${DNS_SERVICE.namespace}/${DNS_SERVICE.name} (${clusterDNS})`);
}

export function dnsAgentPart(): AgentPart {
  let server: RunningDnsServer<ZoneIndex> | undefined;
  let feed: StoreFeed | undefined;
  let unpublish: (() => Promise<void>) | undefined;
  let synced = false;
  const read = (config: AgentConfig, configFile?: string) => {
    const r = new FieldReader(config.sections.dns ?? {}, 'dns');
    const section = readDnsSection(r, config.nodeIP, config.sections.dns !== undefined, config.sections.dns);
    r.throwIfProblems(configFile);
    return section;
  };
  return {
    name: 'dns',
    check: (config, configFile) => { read(config, configFile); },
    enabled: (config) => read(config) !== undefined,
    async start({ store, storeSpec, nodeName, config, configFile, logger }: AgentContext) {
      const s = read(config, configFile);
      if (!s) return;
      const log = logger.child({ subsystem: 'dns' });
      const zone = config.clusterDomain.toLowerCase().replace(/\.$/, '');
      const base = { listen: s.listen, zone, pods: s.pods, ttl: s.ttl, upstreams: s.upstreams, logQueries: s.logQueries, logger: log };
      // The zone is built on a worker thread with its own store connection whenever the store can be opened
      // again from its spec (src/dns/README.md: a 20,000-object burst stalled answers for seconds inline).
      if (storeSpec && store.backend !== 'memory') {
        const index = new ReplicaIndex({ zone, pods: s.pods });
        const started = await startDnsServer({ ...base, index });
        server = started;
        feed = feedIndexFromWorker(index, { store: storeSpec, logger: log, logLevel: log.level as LevelWithSilent, logName: 'podnetd-dns-index', startupTimeoutMs: 5000, registry: started.metrics.registry });
      } else {
        const inline = await startDnsServer(base);
        server = inline;
        feed = feedIndexFromStore(store, inline.index, { logger: log, startupTimeoutMs: 5000 });
      }
      void feed.ready.then(async () => {
        synced = true;
        if (!s.publish || !server) return;
        await publish(store, nodeName, config.clusterDNS, s.listen, log);
        unpublish = () => store.delete('EndpointSlice', `${DNS_SERVICE.name}-${nodeName}`, DNS_SERVICE.namespace).catch(() => undefined);
      }).catch((err) => log.error({ event: 'dnsPublishFailed', err: describeError(err) }, 'dns: could not publish the kube-dns endpoint'));
      log.info({ event: 'dnsStarted', listen: `${s.listen.host}:${server.port}` }, `dns: serving ${config.clusterDomain} on ${s.listen.host}:${server.port}`);
    },
    async stop() {
      await unpublish?.();
      feed?.stop();
      await server?.close();
    },
    healthy: () => server === undefined || synced,
  };
}
