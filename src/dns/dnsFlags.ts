/**
 * @module dns/dnsFlags — `podnetd dns` flags (design §2): the common daemon flags plus `--listen`,
 * `--cluster-domain`, `--upstream` (repeatable or comma-separated; default the nameservers of /etc/resolv.conf),
 * `--pods`, `--ttl`, `--log-queries`, `--workers`, `--startup-timeout`, `--feed`.
 */
import { UsageError } from '../common/cli.ts';
import { describeError } from '../common/errors.ts';
import { parseListenAddress } from '../common/opsServer.ts';
import { parseDaemonFlags, type CommonFlags } from '../daemon/commonFlags.ts';
import type { PodMode } from './recordIndex.ts';
import { parseUpstream, readResolvConf, type UpstreamAddress } from './resolvConf.ts';

export interface DnsFlags {
  common: CommonFlags;
  listen: { host: string; port: number };
  zone: string;
  upstreams: UpstreamAddress[];
  pods: PodMode;
  ttl: number;
  logQueries: boolean;
  workers: number;
  startupTimeoutMs: number;
  /** Where the store informers and the index are built: a worker thread (default) or the answering thread. */
  feed: 'worker' | 'inline';
  help: boolean;
}

export const DNS_USAGE = `usage: podnetd dns [flags]
  --listen ADDR:PORT         UDP and TCP (default 127.0.0.1:53)
  --cluster-domain DOMAIN    the cluster zone (default cluster.local)
  --upstream ADDR[:PORT]     resolver for other names; repeatable or comma-separated;
                             'none' answers other names REFUSED (default: /etc/resolv.conf)
  --pods MODE                pod records: disabled | insecure | verified (default disabled)
  --ttl SECONDS              record TTL, 0-3600 (default 5, like CoreDNS)
  --log-queries              one log line per query
  --workers N                processes sharing the port (default 1)
  --startup-timeout SECONDS  serve after this long even if the store has not synced (default 5)
  --feed worker|inline       build the zone from the store on a worker thread (default) or on the
                             answering thread (store work then delays answers)
  common: --store file:DIR|etcd:URLS|kube --node NAME --log-level LEVEL
          --metrics ADDR:PORT (default 127.0.0.1:9153; also serves /health and /ready)
          --health ADDR:PORT (an extra listener for /health and /ready only)`;

const OPTIONS = {
  listen: { type: 'string' },
  'cluster-domain': { type: 'string' },
  upstream: { type: 'string', multiple: true },
  pods: { type: 'string' },
  ttl: { type: 'string' },
  'log-queries': { type: 'boolean' },
  workers: { type: 'string' },
  'startup-timeout': { type: 'string' },
  feed: { type: 'string' },
} as const;

function intFlag(raw: unknown, flag: string, def: number, min: number, max: number): number {
  if (raw === undefined) return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${flag}: expected an integer ${min}-${max}, got "${String(raw)}"`);
  return n;
}

export function parseDnsFlags(argv: string[]): DnsFlags {
  const { common, values: v, help } = parseDaemonFlags(argv, OPTIONS, { metricsPort: 9153 });
  const wrap = <T>(f: () => T): T => {
    try { return f(); } catch (err) { throw new UsageError(describeError(err)); }
  };
  const listen = wrap(() => parseListenAddress((v.listen as string | undefined) ?? '127.0.0.1:53', '--listen'));
  const zone = ((v['cluster-domain'] as string | undefined) ?? 'cluster.local').toLowerCase().replace(/\.$/, '');
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(zone)) throw new UsageError(`--cluster-domain: not a domain name: "${zone}"`);
  const pods = (v.pods as string | undefined) ?? 'disabled';
  if (pods !== 'disabled' && pods !== 'insecure' && pods !== 'verified') {
    throw new UsageError(`--pods: expected disabled, insecure or verified, got "${pods}"`);
  }
  const feed = (v.feed as string | undefined) ?? 'worker';
  if (feed !== 'worker' && feed !== 'inline') throw new UsageError(`--feed: expected worker or inline, got "${feed}"`);
  const rawUpstreams = (v.upstream as unknown as string[] | undefined)?.flatMap((u) => u.split(',')).filter(Boolean);
  const upstreams = rawUpstreams?.length === 1 && rawUpstreams[0] === 'none' ? []
    : rawUpstreams ? wrap(() => rawUpstreams.map((u) => parseUpstream(u.trim(), '--upstream')))
    : readResolvConf();
  return {
    common, listen, zone, upstreams, pods, help, feed,
    ttl: intFlag(v.ttl, '--ttl', 5, 0, 3600),
    logQueries: Boolean(v['log-queries']),
    workers: intFlag(v.workers, '--workers', 1, 1, 64),
    startupTimeoutMs: intFlag(v['startup-timeout'], '--startup-timeout', 5, 0, 3600) * 1000,
  };
}
