/**
 * A DNS server on 127.0.0.1 (ephemeral port, UDP+TCP) fed by a MemoryStore through the real informers, plus
 * helpers to ask it with the real `dig` and `kdig`. Everything is closed in t.teardown.
 */
import type { ExecutionContext } from 'ava';
import { silentLogger } from '../../../../src/common/logger.ts';
import { runTool } from '../../../../src/common/systemTools.ts';
import { startDnsServer, type DnsServerOptions, type RunningDnsServer } from '../../../../src/dns/dnsServer.ts';
import { feedIndexFromStore } from '../../../../src/dns/storeFeed.ts';
import type { PodMode } from '../../../../src/dns/recordIndex.ts';
import { MemoryStore } from '../../../../src/store/memoryStore.ts';
import type { KindMap, KindName } from '../../../../src/store/types.ts';

export interface FedServer {
  store: MemoryStore;
  server: RunningDnsServer;
  port: number;
  dig(args: string[]): Promise<string>;
  kdig(args: string[]): Promise<string>;
  /** `dig +short` lines, sorted. */
  short(name: string, type?: string, extra?: string[]): Promise<string[]>;
  /** The status word of dig's header (NOERROR, NXDOMAIN, ...). */
  status(name: string, type?: string, extra?: string[]): Promise<string>;
  /** Retry `probe` until it returns true (store events are asynchronous); false after ~5 s. */
  eventually(probe: () => Promise<boolean>): Promise<boolean>;
}

export async function startFedServer(t: ExecutionContext, objects: Array<KindMap[KindName]>,
  opts: { pods?: PodMode; upstreams?: DnsServerOptions['upstreams']; forwardTimeoutMs?: number; limits?: DnsServerOptions['limits']; udpIo?: DnsServerOptions['udpIo'] } = {}): Promise<FedServer> {
  const store = new MemoryStore();
  for (const o of objects) await store.create(o);
  const server = await startDnsServer({
    listen: { host: '127.0.0.1', port: 0 }, zone: 'cluster.local', pods: opts.pods ?? 'disabled', ttl: 5,
    upstreams: opts.upstreams ?? [], logQueries: false, logger: silentLogger,
    ...(opts.forwardTimeoutMs ? { forwardTimeoutMs: opts.forwardTimeoutMs } : {}),
    ...(opts.limits ? { limits: opts.limits } : {}),
    ...(opts.udpIo ? { udpIo: opts.udpIo } : {}),
  });
  const feed = feedIndexFromStore(store, server.index, { logger: silentLogger, startupTimeoutMs: 5000 });
  t.teardown(async () => { feed.stop(); await server.close(); await store.close(); });
  await feed.ready;
  const port = server.port;
  const dig = async (args: string[]) => (await runTool('dig', ['-p', String(port), '@127.0.0.1', '+time=2', '+tries=1', ...args], { allowFailure: true })).stdout;
  const kdig = async (args: string[]) => (await runTool('kdig', ['-p', String(port), '@127.0.0.1', '+time=2', '+retry=0', ...args], { allowFailure: true })).stdout;
  return {
    store, server, port, dig, kdig,
    short: async (name, type = 'A', extra = []) => (await dig(['+short', ...extra, name, type])).trim().split('\n').filter(Boolean).sort(),
    status: async (name, type = 'A', extra = []) => /status: (\w+)/.exec(await dig([...extra, name, type]))?.[1] ?? 'no answer',
    eventually: async (probe) => {
      for (let i = 0; i < 50; i++) {
        if (await probe()) return true;
        await new Promise((r) => setTimeout(r, 100));
      }
      return false;
    },
  };
}
