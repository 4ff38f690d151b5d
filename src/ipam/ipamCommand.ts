/**
 * @module ipam/ipamCommand — `podnetctl ipam ls`: the leases on this node, read from the IPAM data directory
 * (host-local's layout, so leases written by host-local show too).
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError } from '../common/cli.ts';
import { DEFAULT_DATA_DIR, DiskLeaseStore } from './diskLeaseStore.ts';
import { formatIp } from '../common/ipAddress.ts';

const USAGE = 'usage: podnetctl ipam ls [--data-dir /var/lib/cni/networks] [--network NAME] [-o table|json]';

export interface LeaseRow { network: string; ip: string; containerId: string; ifname: string }

export async function listLeases(dataDir: string, network?: string): Promise<LeaseRow[]> {
  let networks: string[];
  try {
    networks = network ? [network] : readdirSync(dataDir).filter((n) => !n.startsWith('.') && statSync(join(dataDir, n)).isDirectory());
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new Error(`reading IPAM data directory ${dataDir}: ${(err as Error).message}`);
  }
  const rows: LeaseRow[] = [];
  for (const net of networks.sort()) {
    const leases = await new DiskLeaseStore(dataDir, net).list();
    rows.push(...leases.map((l) => ({ network: net, ip: formatIp(l.ip), containerId: l.containerId, ifname: l.ifname })));
  }
  return rows;
}

export function renderLeaseTable(rows: LeaseRow[]): string {
  const header = ['NETWORK', 'IP', 'CONTAINER', 'IFNAME'];
  const cells = [header, ...rows.map((r) => [r.network, r.ip, r.containerId, r.ifname || '-'])];
  const widths = header.map((_, i) => Math.max(...cells.map((c) => c[i]!.length)));
  return cells.map((c) => c.map((x, i) => x.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n';
}

export async function ipamCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'ls') throw new UsageError(`unknown ipam command "${sub ?? ''}"\n${USAGE}`);
  let v;
  try {
    v = parseArgs({ args: rest, strict: true, options: {
      'data-dir': { type: 'string', default: DEFAULT_DATA_DIR }, network: { type: 'string' },
      output: { type: 'string', short: 'o', default: 'table' },
    } }).values;
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${USAGE}`);
  }
  if (v.output !== 'table' && v.output !== 'json') throw new UsageError(`-o must be table or json, got "${v.output}"`);
  const rows = await listLeases(v['data-dir']!, v.network);
  process.stdout.write(v.output === 'json' ? `${JSON.stringify(rows, null, 2)}\n` : renderLeaseTable(rows));
  return 0;
}
